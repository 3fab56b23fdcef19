import type { Job, ModelShape } from '../job/types.js';
import { megatronLaunch } from '../export/index.js';
import type { RankedPlan } from '../search/ranked.js';
import type { SearchResult } from '../search/pool.js';
import { VERSION } from '../version.js';
import { calibrationLabel, type Calibration } from '../cost/calibration.js';
import type { EnumStats } from '../enumerate/index.js';
import { RULES } from '../enumerate/index.js';
import { sig } from '../render/numbers.js';
import { planToJson, type PlanJson } from '../render/plan-json.js';

/** The whole result of `moefold tune --format json` (a contract; `plans.json` holds the same). */
export interface ResultJson {
  moefold: { version: string; objective: string; space: string };
  job_file: string;
  model: Job['model'];
  training: Job['training'];
  cluster: Job['cluster'];
  /** The calibration the plans were scored with: the GPU's, and the overlays applied over it in order. */
  calibration: CalibrationJson;
  search: {
    enumerated: number;
    valid: number;
    fitting: number;
    pruned: Record<string, number>;
    /** Valid plans skipped before full scoring: weights and optimizer states alone exceed the GPU. */
    pruned_by_static_memory: number;
    /** Wall time of the search; null with --no-timing (then the JSON is byte-identical run to run). */
    wall_s: number | null;
    interrupted: boolean;
  };
  plans: PlanJson[];
  pareto?: PlanJson[];
}

export interface CalibrationJson {
  /** `h100-sxm + team-2026-12`: the base's name, then each overlay's. */
  label: string;
  name: string;
  file: string;
  overlays: { name: string; file: string }[];
}

export function calibrationJson(cal: Calibration): CalibrationJson {
  return { label: calibrationLabel(cal), name: cal.name, file: cal.file, overlays: cal.overlays.map((o) => ({ name: o.name, file: o.file })) };
}

/** Pruned counts in the rules' fixed order (never in the order shards happened to report them). */
export function orderedPruned(stats: EnumStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rule of RULES) {
    const n = stats.pruned[rule.name];
    if (n) out[rule.name] = n;
  }
  for (const name of Object.keys(stats.pruned).sort()) {
    if (!(name in out) && stats.pruned[name]) out[name] = stats.pruned[name];
  }
  return out;
}

export function searchJson(stats: EnumStats, fitting: number, prunedByStaticMemory: number, wallS: number | null,
  interrupted: boolean): ResultJson['search'] {
  return {
    enumerated: stats.enumerated,
    valid: stats.valid,
    fitting,
    pruned: orderedPruned(stats),
    pruned_by_static_memory: prunedByStaticMemory,
    wall_s: wallS === null ? null : sig(wallS, 3),
    interrupted,
  };
}

export function launchJson(job: Job, shape: ModelShape, r: RankedPlan): PlanJson['launch'] {
  const { args, env } = megatronLaunch(job, shape, r.plan);
  return { megatron_args: args, env };
}

export function rankedToJson(job: Job, shape: ModelShape, plans: RankedPlan[]): PlanJson[] {
  return plans.map((r, i) => planToJson(i + 1, r.plan, r.estimate, launchJson(job, shape, r)));
}

export function buildResult(job: Job, shape: ModelShape, calibration: Calibration,
  args: { objective: string; space?: string; timing: boolean; pareto: boolean }, search: SearchResult): ResultJson {
  const result: ResultJson = {
    moefold: { version: VERSION, objective: args.objective, space: args.space ?? 'search-spaces/default.yaml' },
    job_file: job.source,
    model: job.model,
    training: job.training,
    cluster: job.cluster,
    calibration: calibrationJson(calibration),
    search: searchJson(search.stats, search.fitting, search.prunedByStaticMemory, args.timing ? search.wallS : null, search.interrupted),
    plans: rankedToJson(job, shape, search.top),
  };
  if (args.pareto) result.pareto = rankedToJson(job, shape, search.pareto);
  return result;
}
