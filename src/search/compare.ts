/**
 * Where a given plan (the recipe a team runs today) ranks in the whole space: the search counts, in every shard,
 * the fitting plans that rank above it and those that beat it by more than the tolerance (the model's error).
 * Counts are exact (every fitting plan, not only the top K) and cost two comparisons per plan.
 */
import type { Job } from '../job/types.js';
import type { SearchSpace } from '../enumerate/index.js';
import type { Calibration } from '../cost/calibration.js';
import type { Estimate } from '../cost/estimate.js';
import type { Plan } from '../enumerate/plan.js';
import type { RankOptions } from './objective.js';
import { leavesMargin, objectiveValue } from './objective.js';
import type { ShardReference } from './shard-search.js';
import type { SearchProgress, SearchResult } from './pool.js';
import { resolveRankOptions, runSearch } from './pool.js';
import type { JobContext } from '../job-context.js';
import { checkPlan, parsePlanSpec } from '../enumerate/index.js';
import { InputError } from '../job/errors.js';
import { scorePlan } from '../cost/score.js';
import { newEstimate } from '../cost/estimate.js';

/** The ranking `score --rank` compares with: tune's default (throughput, its tie and memory margin), best plan only. */
export function compareRankOptions(topK = 1, tie?: number, memoryMarginBytes?: number): RankOptions {
  return { objective: 'throughput', minTokensPerSPerGpu: 0, topK, pareto: false, tie, memoryMarginBytes };
}

/**
 * The tolerance within which two plans are not told apart unless --tie is given: the ranking's own tie, the
 * model's cross-validated error (search/cross-validation.ts). A plan "clearly" beats another only when it is
 * faster by more than this fraction.
 */
export function defaultTolerance(calibration: Calibration): number {
  return resolveRankOptions(compareRankOptions(), calibration).rank.tie;
}

/**
 * The reference the shards count against. A plan that does not fit has no objective value; it is compared by the
 * throughput it would reach if it fitted (so "N fitting plans are faster than it" still reads right).
 */
export function shardReference(est: Estimate, rank: RankOptions, tolerance: number): ShardReference {
  const v = objectiveValue(est, rank);
  const value = Number.isNaN(v) && rank.objective === 'throughput' ? est.tokensPerSPerGpu : v;
  // higher is better for every objective: "better by more than the tolerance" is a fraction of |value|
  return { value, clearlyBetterValue: value + tolerance * Math.abs(value) };
}

/** Where the given plan stands among the ranked plans of the space (those that fit and leave the memory margin). */
export interface RankPosition {
  /** 1 + the ranked plans above it; null when it is not ranked itself (it does not fit, or not within the margin). */
  position: number | null;
  /** Plans that fit in memory. */
  fitting: number;
  /** Plans that may be ranked: they fit and leave the memory margin (the plans `better` counts among). */
  ranked: number;
  better: number;
  clearlyBetter: number;
  tolerance: number;
  /** The tolerance was set with --tie (not the cross-validated error). */
  tieGiven: boolean;
  fits: boolean;
  /** The given plan leaves the memory margin (it may be ranked). */
  withinMargin: boolean;
  memoryMarginBytes: number;
}

export function rankPosition(search: Pick<SearchResult, 'fitting' | 'ranked' | 'betterThanReference' | 'clearlyBetterThanReference' | 'rank' | 'tieSource'>,
  given: Estimate, tolerance: number): RankPosition {
  const margin = search.rank.memoryMarginBytes;
  const withinMargin = leavesMargin(given, margin);
  return {
    position: withinMargin ? search.betterThanReference + 1 : null,
    fitting: search.fitting,
    ranked: search.ranked,
    better: search.betterThanReference,
    clearlyBetter: search.clearlyBetterThanReference,
    tolerance,
    tieGiven: search.tieSource === null,
    fits: given.fits,
    withinMargin,
    memoryMarginBytes: margin,
  };
}

export interface CompareRequest {
  job: Job;
  space: SearchSpace;
  calibration: Calibration;
  /** The given plan's estimate (scored by the caller with the job's score context). */
  given: Estimate;
  tolerance: number;
  /** --memory-margin in bytes (undefined: the default). */
  memoryMarginBytes?: number;
  workers: number;
  onProgress?: (p: SearchProgress) => void;
  signal?: AbortSignal;
}

export interface CompareOutcome {
  search: SearchResult;
  rank: RankPosition;
}

/** Searches the space once, counting the plans above the given one; the best plan is search.top[0]. */
export async function rankInSpace(req: CompareRequest): Promise<CompareOutcome> {
  const rank = compareRankOptions(1, req.tolerance, req.memoryMarginBytes);
  const search = await runSearch({
    job: req.job, space: req.space, calibration: req.calibration, rank, workers: req.workers,
    reference: shardReference(req.given, rank, req.tolerance), onProgress: req.onProgress, signal: req.signal,
  });
  return { search, rank: rankPosition(search, req.given, req.tolerance) };
}

/** A plan with its estimate (the given plan and the best one). */
export interface ScoredPlan {
  plan: Plan;
  estimate: Estimate;
}

/**
 * The plan a user gives (`score --plan`, `tune --compare`), read, checked against the rule table and scored with
 * the job's score context. A plan Megatron would refuse is a one-line InputError naming `source`.
 */
export function scoreGivenPlan(jc: JobContext, text: string, source = '--plan'): ScoredPlan {
  const plan = parsePlanSpec(text, jc.job, jc.shape, source);
  const broken = checkPlan(jc.job, jc.shape, plan);
  if (broken.length > 0) {
    throw new InputError(`${source}: Megatron-Core would refuse this plan: ${broken.map((v) => `${v.rule} (${v.reason})`).join('; ')}`);
  }
  return { plan, estimate: scorePlan(jc.scoreContext(), plan, newEstimate()) };
}
