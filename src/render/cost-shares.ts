import type { TimeBreakdown } from '../cost/estimate.js';

/** Short labels for the step-time terms, in the order they are listed. */
export const TIME_TERM_LABELS: Record<keyof TimeBreakdown, string> = {
  attentionS: 'attention',
  denseMlpS: 'dense MLP',
  expertsS: 'experts',
  otherComputeS: 'other compute',
  recomputeS: 'recompute',
  tpCommS: 'TP comm',
  cpCommS: 'CP comm',
  epCommS: 'EP a2a',
  dpCommS: 'DP comm',
  ppCommS: 'PP p2p',
  bubbleS: 'PP bubble',
  optimizerS: 'optimizer',
  adaptersS: 'LoRA adapters',
  baseDecodeS: 'base weight decode',
};

/** Step-time terms only fine-tuning jobs have (other jobs do not list them). */
export const FINETUNE_TIME_TERMS: ReadonlySet<keyof TimeBreakdown> = new Set<keyof TimeBreakdown>(['adaptersS', 'baseDecodeS']);

/** Step-time terms only MoE models have (dense models do not list them). */
export const MOE_TIME_TERMS: ReadonlySet<keyof TimeBreakdown> = new Set<keyof TimeBreakdown>(['expertsS', 'epCommS']);

/** The `n` largest terms as "experts 41% · EP a2a 22% · PP bubble 9%" (shares of the step time). */
export function mainCostShares(time: TimeBreakdown, stepTimeS: number, n = 3): string {
  const terms = (Object.keys(TIME_TERM_LABELS) as (keyof TimeBreakdown)[])
    .map((k) => [TIME_TERM_LABELS[k], time[k]] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n);
  return terms.map(([label, v]) => `${label} ${Math.round((100 * v) / stepTimeS)}%`).join(' · ');
}
