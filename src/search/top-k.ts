import type { Plan } from '../enumerate/plan.js';
import type { Estimate } from '../cost/estimate.js';
import type { RankedPlan } from './ranked.js';
import type { RankOptions } from './objective.js';
import { compareRanked, keepRanked, ranksBefore, refillRanked } from './ranked.js';

/**
 * Plans the search keeps by value for `--top K` rows: more than K, because the final order (final-order.ts)
 * collapses plans equal in effect into one row and the rows outside the tie must still fill K.
 */
export function keptCapacity(rank: RankOptions): number {
  return rank.topK <= 0 ? 0 : 4 * rank.topK + 16;
}

/**
 * The K best plans seen so far: a min-heap on rank (the worst kept plan at the root), so a candidate is
 * compared with one entry and copied only when it gets in. Once full, entries are recycled, not allocated.
 */
export class TopK {
  private readonly heap: RankedPlan[] = [];
  constructor(readonly k: number) {}

  get size(): number {
    return this.heap.length;
  }

  /** Would a candidate with this value get in? (cheap test before scoring details are copied) */
  admits(value: number, plan: Plan): boolean {
    if (this.k <= 0 || Number.isNaN(value)) return false;
    return this.heap.length < this.k || ranksBefore(value, plan, this.heap[0]);
  }

  offer(value: number, plan: Plan, estimate: Estimate): void {
    if (!this.admits(value, plan)) return;
    if (this.heap.length < this.k) {
      this.heap.push(keepRanked(value, plan, estimate));
      this.siftUp(this.heap.length - 1);
      return;
    }
    refillRanked(this.heap[0], value, plan, estimate);
    this.siftDown(0);
  }

  /** Adds an already kept plan (used when merging shard results). */
  offerRanked(r: RankedPlan): void {
    this.offer(r.value, r.plan, r.estimate);
  }

  /** Best first. */
  sorted(): RankedPlan[] {
    return [...this.heap].sort(compareRanked);
  }

  // Heap order: the entry that ranks last sits at the root.
  private worse(i: number, j: number): boolean {
    return compareRanked(this.heap[i], this.heap[j]) > 0;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < h.length && this.worse(l, worst)) worst = l;
      if (r < h.length && this.worse(r, worst)) worst = r;
      if (worst === i) return;
      [h[i], h[worst]] = [h[worst], h[i]];
      i = worst;
    }
  }
}
