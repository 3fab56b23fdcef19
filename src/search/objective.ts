import type { Estimate } from '../cost/estimate.js';

export type Objective = 'throughput' | 'memory';
export const OBJECTIVES: readonly Objective[] = ['throughput', 'memory'];

export interface RankOptions {
  objective: Objective;
  /** With objective 'memory': only plans at or above this many tokens/s/GPU are ranked. */
  minTokensPerSPerGpu: number;
  topK: number;
  pareto: boolean;
}

/**
 * The value a plan is ranked by, higher is better; NaN when the plan may not be ranked at all
 * (it does not fit, or it misses the throughput floor).
 */
export function objectiveValue(e: Estimate, opts: RankOptions): number {
  if (!e.fits) return NaN;
  if (opts.objective === 'memory') {
    return e.tokensPerSPerGpu >= opts.minTokensPerSPerGpu ? -e.peakMemBytes : NaN;
  }
  return e.tokensPerSPerGpu;
}
