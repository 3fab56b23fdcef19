/**
 * `moefold calibrate`: fits the free constants of the base calibration (cost-models/fit/<gpu>.free.yaml, the
 * table `npm run fit` fits on the development set) to a team's own runs, with the same fitter (fit-core.ts), and
 * writes an overlay holding only the fitted keys.
 *
 * Which constants: few runs cannot pin many constants, so at most ceil(n/2) are fitted on n runs (each fitted
 * constant is pinned by about two runs), chosen by what the runs can see. For each candidate, its effect on each
 * run is ln(pred at its upper bound / pred at its lower bound), the others at the base's values. A candidate that
 * moves no run by 2 % is left out (the runs cannot see it: ep overlap on dense runs, the FP8 GEMM ceiling on
 * BF16 runs), as is one that moves fewer than two runs so (it would absorb one run's whole error), and one whose effect vector lies within 30 % of the span of those already chosen
 * (Gram–Schmidt: the runs cannot tell it from them). Among the rest, forward selection: each step fits every
 * candidate with the constants already chosen and keeps the one that lowers the loss most, until the limit or no
 * candidate lowers it. `--constants` names them instead.
 * Every fit starts from the base calibration's values (the development-set fit) and is weakly pulled toward them.
 */
import { calibrationLabel, type Calibration } from '../cost/calibration.js';
import { makeScoreContext, stageAllocatedBytes } from '../cost/score.js';
import { GIB } from '../render/numbers.js';
import { calibrationField, fit, formatValue, leaveOneGroupOut, logErrors, median, withValues,
  type FreeConstant, type FreeTable } from './fit-core.js';
import type { CalibrationRun } from './runs-file.js';
import { inputError } from '../job/errors.js';

export interface ConstantChoice {
  key: string;
  chosen: boolean;
  /** Largest |effect| on any run across the constant's bounds (relative throughput). */
  maxEffect: number;
  why: string;
}

/** The base calibration's value of a yaml key. */
export function calibrationValue(cal: Calibration, key: string): number {
  return (cal as unknown as Record<string, number>)[calibrationField(key)[2]];
}

const SEEN = 0.02;
const DISTINCT = 0.3;

/** Chooses the constants to fit on `runs` (module comment); `asked` (--constants) overrides. */
export function chooseConstants(runs: readonly CalibrationRun[], base: Calibration, table: FreeTable,
  asked?: readonly string[]): ConstantChoice[] {
  const limit = Math.ceil(runs.length / 2);
  if (asked !== undefined) {
    for (const k of asked) {
      if (!table.constants.some((c) => c.key === k)) {
        throw inputError('--constants', k, `is not a free constant (allowed: ${table.constants.map((c) => c.key).join(', ')})`);
      }
    }
    if (asked.length > runs.length) {
      throw inputError('--constants', '', `${asked.length} constants need at least ${asked.length} runs (one per constant); the runs file has ${runs.length}`);
    }
  }
  const effects = table.constants.map((c) => {
    const keys = [c.key];
    const lo = logErrors(runs, withValues(base, keys, [c.min]));
    const hi = logErrors(runs, withValues(base, keys, [c.max]));
    return hi.map((h, i) => h - lo[i]);
  });
  const out: ConstantChoice[] = table.constants.map((c, j) => ({
    key: c.key, chosen: false, maxEffect: Math.max(...effects[j].map((x) => Math.abs(Math.exp(x) - 1))), why: '',
  }));
  if (asked !== undefined) {
    for (const o of out) { o.chosen = asked.includes(o.key); o.why = o.chosen ? 'named by --constants' : 'not named by --constants'; }
    return out;
  }
  const basis: number[][] = [];
  const chosen: number[] = [];
  // seen by at least two runs (one, with a single run): a constant only one run moves would absorb that run's whole
  // error, whatever its cause
  const need = Math.min(2, runs.length);
  const remaining = new Set(out.map((_, j) => j).filter((j) => {
    if (out[j].maxEffect < SEEN) { out[j].why = `moves no run by ${SEEN * 100} % across its bounds`; return false; }
    const seenBy = effects[j].filter((x) => Math.abs(Math.exp(x) - 1) >= SEEN).length;
    if (seenBy < need) { out[j].why = `moves only ${seenBy} run by ${SEEN * 100} %: it would absorb that run's error`; return false; }
    return true;
  }));
  // forward selection: each step adds the constant whose fit (with those chosen) lowers the loss most
  let loss = fit(runs, base, { ...table, constants: [] }).loss;
  while (remaining.size > 0 && chosen.length < limit) {
    let best = -1;
    let bestLoss = loss;
    for (const j of remaining) {
      if (distinctPart(effects[j], basis) < DISTINCT * norm(effects[j])) continue;
      const cs = [...chosen, j].map((k) => fromBase(table.constants[k], base));
      const l = fit(runs, base, { ...table, constants: cs }, 300).loss;
      if (l < bestLoss - 1e-6 * runs.length) { best = j; bestLoss = l; }
    }
    if (best < 0) break;
    const v = residualOf(effects[best], basis);
    const n = norm(v);
    basis.push(v.map((x) => x / n));
    chosen.push(best);
    remaining.delete(best);
    loss = bestLoss;
    out[best].chosen = true;
    out[best].why = `fitted (step ${chosen.length}): moves the runs by up to ${(out[best].maxEffect * 100).toFixed(0)} %`;
  }
  const names = chosen.map((j) => out[j].key).join(', ');
  for (const j of remaining) {
    if (distinctPart(effects[j], basis) < DISTINCT * norm(effects[j])) out[j].why = `the runs cannot tell it from ${names}`;
    else if (chosen.length >= limit) out[j].why = `limit: at most ${limit} constant${limit > 1 ? 's' : ''} on ${runs.length} run${runs.length > 1 ? 's' : ''}`;
    else out[j].why = 'fitting it does not lower the error further';
  }
  return out;
}

/** A free constant that starts from (and is weakly pulled toward) the base's value, the development-set fit. */
function fromBase(c: FreeConstant, base: Calibration): FreeConstant {
  return { ...c, prior: Math.min(c.max, Math.max(c.min, calibrationValue(base, c.key))) };
}

function residualOf(e: readonly number[], basis: readonly number[][]): number[] {
  const v = [...e];
  for (const b of basis) {
    const d = v.reduce((s, x, i) => s + x * b[i], 0);
    for (let i = 0; i < v.length; i++) v[i] -= d * b[i];
  }
  return v;
}

function distinctPart(e: readonly number[], basis: readonly number[][]): number {
  return norm(residualOf(e, basis));
}

function norm(v: readonly number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

export interface CalibrateResult {
  base: Calibration;
  choices: ConstantChoice[];
  constants: FreeConstant[];
  /** Fitted values as the overlay writes them (3 significant digits, within bounds). */
  values: number[];
  calibrated: Calibration;
  /** Relative throughput error per run (pred/meas − 1): before, after, held out (leave-one-out, ≥ 3 runs). */
  before: number[];
  after: number[];
  heldOut: number[] | null;
  /** Predicted "max allocated" (GiB) per stage under the calibrated constants. */
  predictedStageGib: number[][];
}

/** Fits the chosen constants on `runs` (all loaded under the same base calibration). */
export function calibrate(runs: readonly CalibrationRun[], table: FreeTable, asked?: readonly string[]): CalibrateResult {
  const base = runs[0].jc.calibration;
  const choices = chooseConstants(runs, base, table, asked);
  const constants = table.constants.filter((c) => choices.find((o) => o.key === c.key)?.chosen)
    .map((c) => fromBase(c, base));
  const rel = (xs: number[]) => xs.map((x) => Math.exp(x) - 1);
  const before = rel(logErrors(runs, base));
  let values: number[] = [];
  let heldOut: number[] | null = null;
  let calibrated = base;
  if (constants.length > 0) {
    const t: FreeTable = { ...table, constants };
    const res = fit(runs, base, t);
    values = constants.map((c, i) => Math.min(c.max, Math.max(c.min, Number(formatValue(res.values[i])))));
    calibrated = withValues(base, constants.map((c) => c.key), values);
    if (runs.length >= 3) heldOut = rel(leaveOneGroupOut(runs, base, t).heldOut);
  }
  const after = rel(logErrors(runs, calibrated));
  return { base, choices, constants, values, calibrated, before, after, heldOut,
    predictedStageGib: runs.map((r) => stageGib(r, calibrated)) };
}

/** Megatron's "max allocated" of each stage (GiB) as the model predicts it under `cal`. */
function stageGib(run: CalibrationRun, cal: Calibration): number[] {
  return stageAllocatedBytes(makeScoreContext(run.jc.job, run.jc.shape, cal), run.plan).map((b) => b / GIB);
}

/** The residual the overlay's sources state: median and largest |error| after the fit. */
export function residual(r: CalibrateResult): { median: number; max: number } {
  const abs = r.after.map(Math.abs);
  return { median: median(abs), max: Math.max(...abs) };
}

/** The overlay file: only the fitted keys, each with its source. */
export function overlayText(r: CalibrateResult, o: { name: string; runsFile: string; date: string; runs: number }): string {
  const res = residual(r);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const lines = [
    `# Written by moefold calibrate from ${o.runsFile} on ${o.date}: apply with --calibration FILE (or cluster.calibrations).`,
    `name: ${JSON.stringify(o.name)}`,
    `description: ${JSON.stringify(`${r.constants.length} constant${r.constants.length === 1 ? '' : 's'} of ${calibrationLabel(r.base)} fitted to ${o.runs} run${o.runs === 1 ? '' : 's'} of ${o.runsFile}`)}`,
    `overlay_of: ${JSON.stringify(r.base.name)}`,
  ];
  lines.push(`overlays_before: ${JSON.stringify(r.base.overlays.map((o) => o.name))}`); // it applies after exactly these
  const bySection = new Map<string, string[]>();
  r.constants.forEach((c, i) => {
    const [sec, key] = c.key.split('.');
    const src = `calibrated from ${o.runsFile} on ${o.date}, ${o.runs} run${o.runs === 1 ? '' : 's'}, residual ${pct(res.median)} median, ${pct(res.max)} max `
      + `(${c.meaning}; bounds [${c.min}, ${c.max}]; was ${formatValue(calibrationValue(r.base, c.key))} in ${calibrationLabel(r.base)})`;
    const list = bySection.get(sec) ?? [];
    list.push(`  ${key}:`, `    value: ${String(r.values[i])}`, `    source: ${JSON.stringify(src)}`);
    bySection.set(sec, list);
  });
  for (const [sec, list] of bySection) lines.push(`${sec}:`, ...list);
  return `${lines.join('\n')}\n`;
}
