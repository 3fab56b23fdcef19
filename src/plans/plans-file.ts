import path from 'node:path';
import type { Job } from '../job/types.js';
import { inputError } from '../job/errors.js';
import { LIMITS, gotText } from '../job/fields.js';
import { jobFromObject } from '../job/load-job.js';
import { parseJson, readInputText } from '../job/read-file.js';
import { isCalibrationPath } from '../cost/calibration.js';
import type { Plan } from '../enumerate/plan.js';
import { newPlan } from '../enumerate/plan.js';
import { deriveLayout } from '../plan/layout.js';
import { LAYOUT_MAX_CHARS } from '../plan/pipeline-layout.js';
import type { PlanJson } from '../render/plan-json.js';
import type { ResultJson } from './result.js';

/**
 * A plans folder holds copies of the calibration files its plans were scored with (`calibration-N-<name>` beside plans.json), and
 * the result names those copies: the folder travels whole, and a plans file names no file outside its folder
 * (the loader refuses one that does). Returns the result to write and the copies (paths relative to the folder).
 */
export function withCalibrationCopies(result: ResultJson): { result: ResultJson; copies: [string, string][] } {
  const copies: [string, string][] = [];
  const renamed = new Map<string, string>();
  const copy = (p: string): string => {
    const known = renamed.get(p);
    if (known !== undefined) return known;
    const name = `calibration-${copies.length + 1}-${path.basename(p)}`;
    copies.push([name, readInputText(p, 'calibration file')]);
    renamed.set(p, name);
    return name;
  };
  const c = { ...result.cluster };
  if (isCalibrationPath(c.gpu)) c.gpu = copy(c.gpu);
  if (c.calibrations) c.calibrations = c.calibrations.map(copy);
  if (copies.length === 0) return { result, copies };
  const cal = result.calibration;
  const calibration = { ...cal, file: renamed.get(cal.file) ?? cal.file,
    overlays: cal.overlays.map((o) => ({ ...o, file: renamed.get(o.file) ?? o.file })) };
  return { result: { ...result, cluster: c, calibration }, copies };
}

/** A plans.json's text exactly as every writer writes it (tune --out, --format json, check --update). */
export function plansFileText(result: ResultJson): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

export interface PlansFile {
  file: string;
  result: ResultJson;
  job: Job;
}

/** Reads a `plans.json` written by `moefold tune --out` or `--format json`. Bad files → InputError (exit 2). */
export function readPlansFile(file: string): PlansFile {
  // The same bounded reader as job files (regular files only, 16 MiB, UTF-8, no __proto__ keys); errors never
  // quote the file. A plans file may come from a pull request (`check --baseline`), so the model and cluster it
  // holds may not name other files except relative ones inside its own folder.
  const obj = parseJson(readInputText(file, 'plans.json file'), file);
  if (!isObject(obj)) throw inputError(file, '', 'must be a JSON object as written by `moefold tune --format json`');
  for (const key of ['model', 'training', 'cluster', 'plans']) {
    if (!Object.hasOwn(obj, key)) throw inputError(file, key, 'missing: this is not a moefold plans file (write one with `moefold tune … --out DIR`)');
  }
  if (!Array.isArray(obj.plans)) throw inputError(file, 'plans', 'must be a list of plans');
  const job = jobFromObject({ model: obj.model, training: obj.training, cluster: obj.cluster }, file, {}, { pathsInside: path.dirname(file) });
  return { file, result: obj as unknown as ResultJson, job };
}

/**
 * The plan with the given rank (1-based) in a plans file. DP, EDP and the micro-batch count are derived for
 * `forJob` (default: the job the file was written for), so a baseline read against a changed world size or
 * batch is judged by the current job, not by stale numbers.
 */
export function planAtRank(pf: PlansFile, rank: number, forJob: Job = pf.job): { plan: Plan; json: PlanJson } {
  const plans = pf.result.plans;
  if (plans.length === 0) throw inputError(pf.file, 'plans', 'the file holds no plans (the search found none that fit)');
  const idx = plans.findIndex((p) => isObject(p) && p.rank === rank);
  if (idx < 0) {
    const ranks = plans.map((p) => (isObject(p) && typeof p.rank === 'number' ? p.rank : null)).filter((r) => r !== null);
    const shown = ranks.length > 10 ? `${ranks.slice(0, 10).map((r) => gotText(r)).join(', ')}, … (${ranks.length} plans)` : ranks.map((r) => gotText(r)).join(', ');
    throw inputError(pf.file, 'plans', `no plan with rank ${rank} (ranks present: ${ranks.length ? shown : 'none: the plans have no rank field'})`);
  }
  return { plan: planFromJson(plans[idx], pf.file, `plans[${idx}]`, forJob), json: plans[idx] };
}

const RECOMPUTE = ['none', 'selective', 'full'] as const;
const DISPATCHER = ['alltoall', 'allgather', 'flex'] as const;
const PRECISION = ['bf16', 'fp8'] as const;

export function planFromJson(pj: unknown, file: string, field: string, job: Job): Plan {
  if (!isObject(pj)) throw inputError(file, field, 'must be a plan object');
  const m = pj.mapping;
  if (!isObject(m)) throw inputError(file, `${field}.mapping`, 'missing or not an object');
  // Sizes of a mapping are at most the largest world size, layer counts at most the largest model's, the
  // micro-batch at most the largest global batch: a larger number would size arrays when the plan is scored.
  const int = (obj: Record<string, unknown>, key: string, at: string, max: number = LIMITS.gpus): number => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw inputError(file, `${at}.${key}`, `must be an integer from 1 to ${max} (got ${gotText(v)})`);
    }
    return v;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], dflt?: T): T => {
    const v = pj[key] ?? dflt;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw inputError(file, `${field}.${key}`, `must be one of ${allowed.join(', ')} (got ${gotText(v)})`);
    }
    return v as T;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = pj[key] ?? dflt;
    if (typeof v !== 'boolean') throw inputError(file, `${field}.${key}`, `must be true or false (got ${gotText(v)})`);
    return v;
  };
  const p = newPlan();
  const mp = `${field}.mapping`;
  int(m, 'dp', mp); int(m, 'edp', mp); // checked as written, not used: derived again for the current job below
  p.recompute = oneOf('recompute', RECOMPUTE);
  p.dispatcher = oneOf('dispatcher', DISPATCHER);
  p.distributedOptimizer = bool('distributed_optimizer', true);
  p.precision = oneOf('precision', PRECISION, job.training.precision);
  const tp = int(m, 'tp', mp);
  const mbool = (key: string): boolean => {
    const v = m[key] ?? false;
    if (typeof v !== 'boolean') throw inputError(file, `${mp}.${key}`, `must be true or false (got ${gotText(v)})`);
    return v;
  };
  const layoutValue = m.layout ?? null;
  if (layoutValue !== null && (typeof layoutValue !== 'string' || layoutValue.length === 0 || layoutValue.length > LAYOUT_MAX_CHARS)) {
    throw inputError(file, `${mp}.layout`, `must be null or a Megatron pipeline layout of at most ${LAYOUT_MAX_CHARS} characters (got ${gotText(layoutValue)})`);
  }
  const layout = layoutValue as string | null;
  const accountEmbedding = mbool('account_for_embedding');
  const accountLoss = mbool('account_for_loss');
  const explicitSplit = layout === null && !accountEmbedding && !accountLoss;
  // DP, EDP and the micro-batch count come from the current job through the one constructor, so a changed world
  // size or batch shows up as a rule violation, not as a stale number.
  deriveLayout(job, {
    tp, cp: int(m, 'cp', mp), pp: int(m, 'pp', mp), vpp: int(m, 'vpp', mp),
    ep: int(m, 'ep', mp), etp: int(m, 'etp', mp),
    microBatchSize: int(pj, 'micro_batch_size', field, LIMITS.globalBatch),
    sequenceParallel: bool('sequence_parallel', tp > 1),
    // with a layout or an accounted split the first/last stage sizes are derived (and checked by the rule table)
    firstStageLayers: explicitSplit ? int(m, 'first_stage_layers', mp, LIMITS.layers) : undefined,
    lastStageLayers: explicitSplit ? int(m, 'last_stage_layers', mp, LIMITS.layers) : undefined,
    accountEmbedding, accountLoss, layout: layout ?? undefined,
    mbGroup: m.microbatch_group === undefined ? undefined : int(m, 'microbatch_group', mp, LIMITS.globalBatch),
  }, p);
  return p;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
