import type { Job } from '../job/types.js';
import { modelShape } from '../job/shape.js';
import type { SearchSpace, EnumStats } from '../enumerate/index.js';
import { enumeratePlans, newEnumStats } from '../enumerate/index.js';
import type { Calibration } from '../cost/calibration.js';
import { makeScoreContext, scorePlan, staticMemoryBytes } from '../cost/score.js';
import { newEstimate } from '../cost/estimate.js';
import type { RankOptions } from './objective.js';
import { objectiveValue } from './objective.js';
import type { RankedPlan } from './ranked.js';
import { keepRanked, ranksBefore } from './ranked.js';
import { TopK, keptCapacity } from './top-k.js';
import { TieKeeper, type TieParts } from './ties.js';
import { ParetoFront } from './pareto.js';

/** One unit of work for a worker: a shard of the space that it enumerates and scores itself. */
export interface ShardTask {
  job: Job;
  space: SearchSpace;
  calibration: Calibration;
  shardIndex: number;
  shardCount: number;
  rank: RankOptions;
  /** Count the fitting plans that rank above a reference plan (`score --rank`): exact counts, not only the top K. */
  reference?: ShardReference;
}

/**
 * A plan the search counts against: `value` is its objective value (for a plan that does not fit, the value it
 * would have if it did), `clearlyBetterValue` the value a plan must exceed to beat it by more than the tolerance.
 */
export interface ShardReference {
  value: number;
  clearlyBetterValue: number;
}

export interface ShardResult extends TieParts {
  shardIndex: number;
  stats: EnumStats;
  /** Valid plans that fit in memory. */
  fitting: number;
  /** Valid plans skipped before full scoring because weights + optimizer states alone exceed the GPU. */
  prunedByStaticMemory: number;
  top: RankedPlan[];
  pareto: RankedPlan[];
  /** Among valid plans that do not fit, the one with the smallest peak memory: it explains an empty result. */
  smallestNotFitting: RankedPlan | null;
  /** With a reference: fitting plans whose value is above the reference's (0 without one). */
  betterThanReference: number;
  /** With a reference: fitting plans whose value is above its clearlyBetterValue (0 without one). */
  clearlyBetterThanReference: number;
}

/**
 * Enumerates and scores one shard. Per candidate it allocates nothing: the enumerator reuses one Plan, the
 * scorer writes into one Estimate, and only plans that enter the top-K or the Pareto front are copied.
 */
export function searchShard(task: ShardTask): ShardResult {
  const { job, space, calibration, rank } = task;
  const shape = modelShape(job.model);
  const ctx = makeScoreContext(job, shape, calibration);
  const usableBytes = ctx.usableMemBytes;
  const stats = newEnumStats();
  const top = new TopK(keptCapacity(rank));
  const ties = new TieKeeper(rank.tie ?? 0);
  const pareto = rank.pareto ? new ParetoFront(rank.memoryMarginBytes ?? 0) : null;
  const est = newEstimate();
  let fitting = 0;
  let prunedByStaticMemory = 0;
  let smallest: RankedPlan | null = null;
  // NaN when there is no reference: every comparison with it is false, so the counts stay 0
  const refValue = task.reference ? task.reference.value : NaN;
  const refClearly = task.reference ? task.reference.clearlyBetterValue : NaN;
  let better = 0;
  let clearlyBetter = 0;

  const plans = enumeratePlans(job, shape, space, { shardIndex: task.shardIndex, shardCount: task.shardCount }, stats);
  for (const plan of plans) {
    const staticBytes = staticMemoryBytes(ctx, plan);
    if (staticBytes > usableBytes) {
      prunedByStaticMemory++;
      // Its full peak is at least the static part: score it only when it could still be the smallest footprint.
      if (smallest === null || staticBytes <= -smallest.value) {
        scorePlan(ctx, plan, est);
        if (smallest === null || ranksBefore(-est.peakMemBytes, plan, smallest)) smallest = keepRanked(-est.peakMemBytes, plan, est);
      }
      continue;
    }
    scorePlan(ctx, plan, est);
    if (!est.fits) {
      if (smallest === null || ranksBefore(-est.peakMemBytes, plan, smallest)) smallest = keepRanked(-est.peakMemBytes, plan, est);
      continue;
    }
    fitting++;
    const value = objectiveValue(est, rank);
    if (value > refValue) {
      better++;
      if (value > refClearly) clearlyBetter++;
    }
    top.offer(value, plan, est); // copies only when the plan gets in
    ties.offer(value, plan, est);
    if (pareto) pareto.offer(plan, est);
  }
  return {
    shardIndex: task.shardIndex, stats, fitting, prunedByStaticMemory,
    top: top.sorted(),
    pareto: pareto ? pareto.plans() : [],
    smallestNotFitting: smallest,
    betterThanReference: better, clearlyBetterThanReference: clearlyBetter,
    ...ties.parts(),
  };
}
