import type { Job, ModelShape } from '../job/types.js';
import { megatronLaunch, megatronLaunchRefusal } from '../export/index.js';
import type { RankedPlan } from '../search/ranked.js';
import type { Plan } from '../enumerate/plan.js';
import type { SearchResult } from '../search/pool.js';
import { VERSION } from '../version.js';
import { calibrationLabel, type Calibration } from '../cost/calibration.js';
import type { EnumStats } from '../enumerate/index.js';
import { RULES } from '../enumerate/index.js';
import { sig } from '../render/numbers.js';
import { alternativeToJson, planToJson, type PlanJson } from '../render/plan-json.js';
import { DEDUPE_EPSILON, mappingDelta } from '../search/final-order.js';
import { GIB } from '../render/numbers.js';

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
  /** How `plans` were ordered (search/final-order.ts). */
  ranking?: RankingJson;
  plans: PlanJson[];
  pareto?: PlanJson[];
}

export interface RankingJson {
  /** Tie tolerance (fraction of the best objective value). */
  tie: number;
  /** Where it came from: "--tie", a cross-validation file, or "none" (no file: exact ties). */
  tie_source: string;
  /** Set when the figure is another calibration's (h200-sxm and b200 derive their constants from h100-sxm). */
  tie_derived_from: string | null;
  /** Plans within the tie before equal plans collapse, and rows of the tie after. */
  tie_plans: number;
  tie_rows: number;
  tie_overflowed: boolean;
  memory_margin_gib: number;
  /** Plans that fit and leave the margin (and reach --min-throughput): the ones ranked. */
  ranked: number;
  /** Relative tokens/s/GPU difference under which plans of the same mapping are one row. */
  dedupe_epsilon: number;
}

export function rankingJson(search: SearchResult): RankingJson {
  const s = search.tieSource;
  return {
    tie: sig(search.rank.tie, 4),
    tie_source: s === null ? '--tie' : s.file === '' ? 'none' : s.file,
    tie_derived_from: s?.derivedFrom ?? null,
    tie_plans: search.tie.plans,
    tie_rows: search.tie.rows,
    tie_overflowed: search.tie.overflowed,
    memory_margin_gib: sig(search.rank.memoryMarginBytes / GIB, 4),
    ranked: search.ranked,
    dedupe_epsilon: DEDUPE_EPSILON,
  };
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

/**
 * A plan's launch as the JSON holds it: the Megatron argument list and environment, or, for a job Megatron-LM's
 * pretrain_gpt.py cannot run as planned (a frozen base with LoRA, compressed base weights), the reason instead of an
 * argument list that would train every weight (export/finetune-refusals.ts).
 */
export function planLaunchJson(job: Job, shape: ModelShape, plan: Plan): PlanJson['launch'] {
  const refused = megatronLaunchRefusal(job);
  if (refused !== null) return { refused };
  const { args, env } = megatronLaunch(job, shape, plan);
  return { megatron_args: args, env };
}

export function launchJson(job: Job, shape: ModelShape, r: RankedPlan): PlanJson['launch'] {
  return planLaunchJson(job, shape, r.plan);
}

/** The plans as JSON; with the final list's fields (in_tie, alternatives) where the search set them. */
export function rankedToJson(job: Job, shape: ModelShape, plans: RankedPlan[], bf16PeakFlops: number): PlanJson[] {
  return plans.map((r, i) => {
    const j = planToJson(i + 1, r.plan, r.estimate, launchJson(job, shape, r), bf16PeakFlops);
    if (r.inTie !== undefined) j.in_tie = r.inTie;
    if (r.inTie !== undefined || r.alternatives) {
      j.alternatives = (r.alternatives ?? []).map((a) => alternativeToJson(mappingDelta(r.plan, a.plan), a.estimate));
    }
    return j;
  });
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
    ranking: rankingJson(search),
    plans: rankedToJson(job, shape, search.top, calibration.denseBf16PeakFlops),
  };
  if (args.pareto) result.pareto = rankedToJson(job, shape, search.pareto, calibration.denseBf16PeakFlops);
  return result;
}
