/**
 * The fitter of the few calibration constants that have no sourced value (cost-models/fit/<gpu>.free.yaml names
 * them, with bounds and what each means): robust least squares on the log error of predicted vs measured
 * tokens/s/GPU over the development set,
 *   minimise Σ_runs ρ(ln(pred/meas)),  ρ(r) = 2f²(√(1 + (r/f)²) − 1)   (soft-L1, f = loss_scale),
 * which is r² for |r| ≪ f and 2f|r| beyond: one run the model cannot reach (a software regression at half the
 * throughput) pulls on the constants like a 2f error, not like its square. Every run is in the sum.
 * Bounded Nelder–Mead in the unit cube (each constant mapped linearly, or logarithmically with `log: true`, onto
 * [min, max] and clamped), restarted from its best point until it stops improving. Each constant has a `prior` (a
 * physical first guess, in the table): every fit starts there, and a weak pull toward it, prior_weight·Σ(u − u_prior)²
 * in unit-cube coordinates, keeps a constant the runs cannot see (no run in the fit depends on it, as the real-routing
 * imbalance without the one source of real-routing runs) at its prior instead of wherever the simplex wanders; it is
 * far below the loss of one run at a few percent, so it does not move a constant the runs determine.
 * leaveOneGroupOut refits without each group (software release / source) and predicts that group: the
 * cross-validated error the accuracy report puts next to the in-sample one.
 */
import fs from 'node:fs';
import yaml from 'js-yaml';
import { CALIBRATION_FIELDS, type Calibration } from '../cost/calibration.js';
import { newEstimate, type Estimate } from '../cost/estimate.js';
import { makeScoreContext, scorePlan, type ScoreContext } from '../cost/score.js';
import type { Plan } from '../enumerate/plan.js';
import type { Job, ModelShape } from '../job/types.js';
import { InputError } from '../job/errors.js';

/** A run the fitter can score: its job (with the calibration it was loaded under), the plan it ran, what it measured. */
export interface FitRun {
  jc: { job: Job; shape: ModelShape; calibration: Calibration; scoreContext(): ScoreContext };
  plan: Plan;
  measuredTokens: number;
  /** The leave-one-group-out unit (a software release, a source; a run's own id for leave-one-out). */
  group: string;
}

/** A calibration field by its yaml key ('section.key'). */
export function calibrationField(key: string): (typeof CALIBRATION_FIELDS)[number] {
  const f = CALIBRATION_FIELDS.find(([sec, k]) => `${sec}.${k}` === key);
  if (!f) throw new InputError(`${key}: not a calibration key (section.key of cost-models/*.yaml)`);
  return f;
}

/** A copy of `base` with `values[i]` at yaml key `keys[i]`. */
export function withValues(base: Calibration, keys: readonly string[], values: ArrayLike<number>): Calibration {
  const cal: Record<string, unknown> = { ...base };
  for (let i = 0; i < keys.length; i++) cal[calibrationField(keys[i])[2]] = values[i];
  return cal as unknown as Calibration;
}

/** Scores `run` under `cal` (a fresh score context unless `cal` is the run's own; the run's plan is fixed). */
export function predict(run: FitRun, cal: Calibration, out: Estimate = newEstimate()): Estimate {
  const ctx: ScoreContext = cal === run.jc.calibration ? run.jc.scoreContext()
    : makeScoreContext(run.jc.job, run.jc.shape, cal);
  return scorePlan(ctx, run.plan, out);
}

export { median } from './median.js';

export interface FreeConstant {
  /** yaml key, section.key of cost-models/<gpu>.yaml. */
  key: string;
  min: number;
  max: number;
  /** Fit in log space (constants spanning decades). */
  log?: boolean;
  /** What the constant means physically (goes into the calibration's source text). */
  meaning: string;
  /** The physical first guess every fit starts from and is weakly pulled toward. */
  prior: number;
}
export interface FreeTable { calibration: string; loss_scale: number; prior_weight: number; constants: FreeConstant[] }

export function readFreeTable(file: string): FreeTable {
  let d: unknown;
  try {
    d = yaml.load(fs.readFileSync(file, 'utf8'), { filename: file });
  } catch (e) {
    throw new InputError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message.split('\n')[0]}`);
  }
  const t = d as FreeTable;
  if (!t || !Array.isArray(t.constants) || t.constants.length === 0) throw new InputError(`${file}: constants: missing (a list of free constants)`);
  if (!(t.loss_scale > 0)) throw new InputError(`${file}: loss_scale: must be > 0`);
  if (!(t.prior_weight >= 0)) throw new InputError(`${file}: prior_weight: must be >= 0`);
  for (const [i, c] of t.constants.entries()) {
    const [, , , lo, hi] = calibrationField(c.key);
    if (!(c.min < c.max)) throw new InputError(`${file}: constants[${i}] ${c.key}: min must be below max`);
    if (c.min < lo || c.max > hi) throw new InputError(`${file}: constants[${i}] ${c.key}: bounds must lie in the calibration's [${lo}, ${hi}]`);
    if (c.log && !(c.min > 0)) throw new InputError(`${file}: constants[${i}] ${c.key}: log: needs min > 0`);
    if (typeof c.meaning !== 'string' || c.meaning.length < 8) throw new InputError(`${file}: constants[${i}] ${c.key}: meaning: required`);
    if (typeof c.prior !== 'number' || !(c.prior >= c.min && c.prior <= c.max)) {
      throw new InputError(`${file}: constants[${i}] ${c.key}: prior: must be a number in [${c.min}, ${c.max}]`);
    }
  }
  return t;
}

function toValue(c: FreeConstant, u: number): number {
  const x = u < 0 ? 0 : u > 1 ? 1 : u;
  return c.log ? Math.exp(Math.log(c.min) + x * (Math.log(c.max) - Math.log(c.min))) : c.min + x * (c.max - c.min);
}
function toUnit(c: FreeConstant, v: number): number {
  const u = c.log ? (Math.log(v) - Math.log(c.min)) / (Math.log(c.max) - Math.log(c.min)) : (v - c.min) / (c.max - c.min);
  return u < 0 ? 0 : u > 1 ? 1 : u;
}

export function softL1(r: number, f: number): number {
  return 2 * f * f * (Math.sqrt(1 + (r / f) * (r / f)) - 1);
}

/** ln(pred/meas) of each run under `cal`. */
export function logErrors(runs: readonly FitRun[], cal: Calibration): number[] {
  const est = newEstimate();
  return runs.map((r) => Math.log(predict(r, cal, est).tokensPerSPerGpu / r.measuredTokens));
}

export interface FitResult { values: number[]; loss: number; evaluations: number }

/** Fits `table`'s constants on `runs`, starting from their priors. */
export function fit(runs: readonly FitRun[], base: Calibration, table: FreeTable, maxEvaluations = 1500): FitResult {
  const cs = table.constants;
  const keys = cs.map((c) => c.key);
  const f = table.loss_scale;
  const est = newEstimate();
  let evaluations = 0;
  const loss = (u: readonly number[]): number => {
    evaluations++;
    const cal = withValues(base, keys, u.map((x, i) => toValue(cs[i], x)));
    let s = 0;
    for (const r of runs) {
      const p = predict(r, cal, est).tokensPerSPerGpu;
      s += softL1(Math.log(p / r.measuredTokens), f);
    }
    for (let i = 0; i < u.length; i++) s += table.prior_weight * (u[i] - priorU[i]) * (u[i] - priorU[i]);
    return s;
  };
  const priorU = cs.map((c) => toUnit(c, c.prior));
  const startU = [...priorU];
  let best = startU;
  let bestF = loss(best);
  for (let restart = 0; restart < 6 && evaluations < maxEvaluations; restart++) {
    const r = nelderMead(loss, best, 0.15 / (restart + 1), maxEvaluations - evaluations);
    const improved = r.f < bestF - 1e-9;
    if (r.f < bestF) { best = r.x; bestF = r.f; }
    if (!improved && restart > 0) break;
  }
  return { values: best.map((x, i) => toValue(cs[i], x)), loss: bestF, evaluations };
}

/** Nelder–Mead on the unit cube (points clamped into it). */
function nelderMead(fn: (x: readonly number[]) => number, x0: readonly number[], step: number,
  budget: number): { x: number[]; f: number } {
  const d = x0.length;
  const clamp = (x: number[]): number[] => x.map((v) => (v < 0 ? 0 : v > 1 ? 1 : v));
  const pts: number[][] = [clamp([...x0])];
  for (let i = 0; i < d; i++) {
    const p = [...x0];
    p[i] = p[i] + step <= 1 ? p[i] + step : p[i] - step;
    pts.push(clamp(p));
  }
  let fs = pts.map((p) => fn(p));
  let used = d + 1;
  while (used < budget) {
    const order = fs.map((_, i) => i).sort((a, b) => fs[a] - fs[b]);
    const P = order.map((i) => pts[i]);
    const F = order.map((i) => fs[i]);
    pts.splice(0, pts.length, ...P);
    fs = F;
    if (Math.abs(fs[d] - fs[0]) <= 1e-10 * (1 + Math.abs(fs[0]))) break;
    const c = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) c[j] += pts[i][j] / d;
    const along = (t: number): number[] => clamp(c.map((v, j) => v + t * (pts[d][j] - v)));
    const xr = along(-1); const fr = fn(xr); used++;
    if (fr < fs[0]) {
      const xe = along(-2); const fe = fn(xe); used++;
      if (fe < fr) { pts[d] = xe; fs[d] = fe; } else { pts[d] = xr; fs[d] = fr; }
    } else if (fr < fs[d - 1]) {
      pts[d] = xr; fs[d] = fr;
    } else {
      const xc = fr < fs[d] ? along(-0.5) : along(0.5); const fc = fn(xc); used++;
      if (fc < Math.min(fr, fs[d])) { pts[d] = xc; fs[d] = fc; } else {
        for (let i = 1; i <= d; i++) { pts[i] = clamp(pts[i].map((v, j) => pts[0][j] + 0.5 * (v - pts[0][j]))); fs[i] = fn(pts[i]); used++; }
      }
    }
  }
  let b = 0;
  for (let i = 1; i < fs.length; i++) if (fs[i] < fs[b]) b = i;
  return { x: pts[b], f: fs[b] };
}

export interface FoldResult { group: string; values: number[]; loss: number; n: number }

/**
 * Leave-one-group-out: for each group, fit on the other groups' runs (from the priors: nothing of the full fit) and
 * predict the group's runs.
 * Returns each run's held-out log error (by index into `runs`) and each fold's constants.
 */
export function leaveOneGroupOut(runs: readonly FitRun[], base: Calibration, table: FreeTable,
  onFold?: (f: FoldResult) => void): { heldOut: number[]; folds: FoldResult[] } {
  const groups = [...new Set(runs.map((r) => r.group))];
  const heldOut = new Array<number>(runs.length).fill(NaN);
  const folds: FoldResult[] = [];
  const keys = table.constants.map((c) => c.key);
  for (const g of groups) {
    const train = runs.filter((r) => r.group !== g);
    const res = fit(train, base, table);
    const cal = withValues(base, keys, res.values);
    const est = newEstimate();
    runs.forEach((r, i) => {
      if (r.group === g) heldOut[i] = Math.log(predict(r, cal, est).tokensPerSPerGpu / r.measuredTokens);
    });
    const fold = { group: g, values: res.values, loss: res.loss, n: runs.length - train.length };
    folds.push(fold);
    onFold?.(fold);
  }
  return { heldOut, folds };
}

/** Rewrites the `value` (as given: the caller rounds) and `source` of `section.key` in the calibration yaml text (comments elsewhere kept). */
export function setCalibrationEntry(text: string, file: string, key: string, value: number, source: string): string {
  const [section, k] = key.split('.');
  const lines = text.split('\n');
  const s = lines.findIndex((l) => l === `${section}:`);
  if (s < 0) throw new InputError(`${file}: no section ${section}`);
  let i = s + 1;
  while (i < lines.length && !(lines[i] === `  ${k}:`)) {
    if (/^\S/.test(lines[i])) throw new InputError(`${file}: no key ${key}`);
    i++;
  }
  if (i >= lines.length) throw new InputError(`${file}: no key ${key}`);
  let end = i + 1;
  while (end < lines.length && /^ {4}/.test(lines[end])) end++;
  lines.splice(i + 1, end - i - 1, `    value: ${String(value)}`, `    source: ${JSON.stringify(source)}`);
  return lines.join('\n');
}

/** A fitted value at 3 significant digits, as the calibration yaml writes it. */
export function formatValue(v: number): string {
  const r = Number(v.toPrecision(3));
  return Math.abs(r) >= 1e-3 || r === 0 ? String(r) : r.toExponential(2).replace(/\.?0+e/, 'e');
}

