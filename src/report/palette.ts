/**
 * The report's colours: one categorical palette (Tableau 10, then two more distinct hues) for breakdown terms and
 * for the series of the scaling curve, and the fixed colours of the scatter plot's marks.
 */
export const CATEGORY_COLOURS: readonly string[] = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948',
  '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#1f3b73', '#8cd17d',
];

/** The colour of the i-th category (the palette repeats past its end). */
export function categoryColour(i: number): string {
  return CATEGORY_COLOURS[((i % CATEGORY_COLOURS.length) + CATEGORY_COLOURS.length) % CATEGORY_COLOURS.length];
}

export const MARK_COLOURS = {
  top: '#4e79a7',
  pareto: '#e15759',
  best: '#111111',
  limit: '#b8860b',
  noPlan: '#888888',
} as const;
