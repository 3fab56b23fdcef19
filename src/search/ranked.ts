import type { Plan } from '../enumerate/plan.js';
import { clonePlan, copyPlan } from '../enumerate/plan.js';
import type { Estimate } from '../cost/estimate.js';
import { copyEstimate, newEstimate } from '../cost/estimate.js';
import { comparePlans } from './order.js';

/** A plan kept by the search, with its estimate and the value it is ranked by (higher is better). */
export interface RankedPlan {
  value: number;
  plan: Plan;
  estimate: Estimate;
  /**
   * Set on the final list (search/final-order.ts): plans equal in effect to this one (same mapping but for the
   * dispatcher, the distributed optimizer, the stage split…, tokens/s/GPU within DEDUPE_EPSILON), tie order.
   */
  alternatives?: RankedPlan[];
  /** Set on the final list: whether the plan is within the tie tolerance of the best. */
  inTie?: boolean;
}

export function keepRanked(value: number, plan: Plan, estimate: Estimate): RankedPlan {
  return { value, plan: clonePlan(plan), estimate: copyEstimate(estimate, newEstimate()) };
}

/** Reuses a kept entry for another plan (copies into it, allocates nothing): how TopK and the tie set recycle. */
export function refillRanked(r: RankedPlan, value: number, plan: Plan, estimate: Estimate): RankedPlan {
  r.value = value;
  copyPlan(plan, r.plan);
  copyEstimate(estimate, r.estimate);
  return r;
}

/** Better first: higher value, then the stable plan order. */
export function compareRanked(a: RankedPlan, b: RankedPlan): number {
  if (a.value !== b.value) return b.value - a.value;
  return comparePlans(a.plan, b.plan);
}

/** True when a candidate (value, plan) ranks strictly before `r`. Allocates nothing. */
export function ranksBefore(value: number, plan: Plan, r: RankedPlan): boolean {
  if (value !== r.value) return value > r.value;
  return comparePlans(plan, r.plan) < 0;
}
