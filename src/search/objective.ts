import { headroomBytes, type Estimate } from '../cost/estimate.js';

export { headroomBytes } from '../cost/estimate.js';
import { GIB } from '../render/numbers.js';

export type Objective = 'throughput' | 'memory';
export const OBJECTIVES: readonly Objective[] = ['throughput', 'memory'];

/**
 * Default --memory-margin: a plan must leave this much of the usable memory free to be ranked. The memory model
 * already counts the allocator's fragmentation; the margin is for what it cannot see: transient spikes (logging,
 * checkpoint saves, NCCL buffers created lazily on the first collective of a new group, a longer than usual
 * micro-batch in the dynamic router) and its own error. 4 GiB is 5 % of an 80 GB H100 (ranks within a few GiB of
 * the ceiling are the ones nobody launches).
 */
export const DEFAULT_MEMORY_MARGIN_BYTES = 4 * GIB;

/** Plans a ranking keeps and shows by default (tune's and report's --top; a sweep's points). */
export const DEFAULT_TOP = 10;

export interface RankOptions {
  objective: Objective;
  /** With objective 'memory': only plans at or above this many tokens/s/GPU are ranked. */
  minTokensPerSPerGpu: number;
  /** Rows kept after the tie order and the dedupe (`--top`). */
  topK: number;
  pareto: boolean;
  /**
   * Tie tolerance (`--tie`): plans whose objective is within this fraction of the best are a tie, ordered by
   * headroom and simplicity (search/ties.ts). Absent: the calibration's cross-validated error (runSearch fills it).
   */
  tie?: number;
  /** Only plans with usable − peak ≥ this are ranked (`--memory-margin`); absent: DEFAULT_MEMORY_MARGIN_BYTES. */
  memoryMarginBytes?: number;
}

/** A plan that fits and leaves at least `marginBytes` free: the memory rule of ranking (search, Pareto, compare, check). */
export function leavesMargin(e: Estimate, marginBytes: number): boolean {
  // a plan that fits leaves headroom ≥ 0: no margin asks for nothing more than `fits`
  return e.fits && (marginBytes <= 0 || headroomBytes(e) >= marginBytes);
}

/**
 * The value a plan is ranked by, higher is better; NaN when the plan may not be ranked at all
 * (it does not fit, it leaves less than the memory margin free, or it misses the throughput floor).
 */
export function objectiveValue(e: Estimate, opts: RankOptions): number {
  if (!leavesMargin(e, opts.memoryMarginBytes ?? DEFAULT_MEMORY_MARGIN_BYTES)) return NaN;
  if (opts.objective === 'memory') {
    return e.tokensPerSPerGpu >= opts.minTokensPerSPerGpu ? -e.peakMemBytes : NaN;
  }
  return e.tokensPerSPerGpu;
}
