export const GIB = 1024 ** 3;

/** Rounds to `digits` significant digits (stable text for JSON and golden files). */
export function sig(x: number, digits = 6): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

/** camelCase field name with a unit suffix → snake_case without it: `tpCommS` → `tp_comm`. */
export function snakeWithoutUnit(name: string, unit: string): string {
  const base = name.endsWith(unit) ? name.slice(0, -unit.length) : name;
  return base.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
