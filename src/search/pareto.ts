import type { Plan } from '../enumerate/plan.js';
import type { Estimate } from '../cost/estimate.js';
import { leavesMargin } from './objective.js';
import type { RankedPlan } from './ranked.js';
import { keepRanked } from './ranked.js';
import { comparePlans } from './order.js';

/** a dominates b: at least as fast and as small, and strictly better in one (ties kept by plan order). */
function dominates(aTps: number, aMem: number, aPlan: Plan, bTps: number, bMem: number, bPlan: Plan): boolean {
  if (aTps < bTps || aMem > bMem) return false;
  if (aTps > bTps || aMem < bMem) return true;
  return comparePlans(aPlan, bPlan) < 0; // identical point: keep one, the first in plan order
}

/**
 * Pareto front of tokens/s/GPU (higher is better) against peak memory (lower is better), over plans that fit
 * (and leave the memory margin free).
 * Kept sorted by peak memory ascending; the front is small (tens of plans), so a linear scan is cheap.
 */
export class ParetoFront {
  private readonly front: RankedPlan[] = [];

  /** `minHeadroomBytes`: plans leaving less free memory (usable − peak) are not on the front (tune --memory-margin). */
  constructor(readonly minHeadroomBytes = 0) {}

  offer(plan: Plan, e: Estimate): void {
    if (!leavesMargin(e, this.minHeadroomBytes)) return;
    const tps = e.tokensPerSPerGpu;
    const mem = e.peakMemBytes;
    for (const r of this.front) {
      if (dominates(r.estimate.tokensPerSPerGpu, r.estimate.peakMemBytes, r.plan, tps, mem, plan)) return;
    }
    let w = 0;
    for (const r of this.front) {
      if (!dominates(tps, mem, plan, r.estimate.tokensPerSPerGpu, r.estimate.peakMemBytes, r.plan)) this.front[w++] = r;
    }
    this.front.length = w;
    let at = 0;
    while (at < this.front.length && this.front[at].estimate.peakMemBytes <= mem) at++;
    this.front.splice(at, 0, keepRanked(tps, plan, e));
  }

  offerRanked(r: RankedPlan): void {
    this.offer(r.plan, r.estimate);
  }

  /** Lowest peak memory first (so throughput rises along the list). */
  plans(): RankedPlan[] {
    return [...this.front];
  }
}
