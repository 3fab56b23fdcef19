import type { Job } from '../spec/types.js';
import type { EnumStats } from '../enumerate/index.js';
import { RULES } from '../enumerate/index.js';
import { sig } from './numbers.js';
import type { PlanJson } from './plan-json.js';

/** The whole result of `moefold tune --format json` (a contract; `plans.json` holds the same). */
export interface ResultJson {
  moefold: { version: string; objective: string; space: string };
  job_file: string;
  model: Job['model'];
  training: Job['training'];
  cluster: Job['cluster'];
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
