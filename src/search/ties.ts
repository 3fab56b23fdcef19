/**
 * The tie set of a search: every ranked plan whose objective is within the tie tolerance of the best, kept so
 * that the final order (final-order.ts) can order all of them by headroom and simplicity, not only the K fastest.
 *
 * Why it is complete: a shard admits a plan when value ≥ threshold(running best of the shard); the running best
 * only rises and never exceeds the global best, so any plan within the tie of the GLOBAL best was admitted, and
 * a plan is dropped later only when it falls below threshold(a later running best) ≤ threshold(global best).
 * The set is bounded (TIE_CAPACITY per shard): when it fills with plans all within the tie, the faster half is
 * kept, later plans must beat the cut, and `tieOverflowed` says so (the header reports it).
 * Per candidate it allocates nothing: entries that fall out are recycled for the next admitted plan.
 */
import type { Plan } from '../enumerate/plan.js';
import type { Estimate } from '../cost/estimate.js';
import type { RankedPlan } from './ranked.js';
import { compareRanked, keepRanked, ranksBefore, refillRanked } from './ranked.js';

/** Plans a shard keeps within the tie at most (each ~1 KB; a search merges workers × 8 shards of them). */
export const TIE_CAPACITY = 4096;

/** The lowest value still in a tie with `best` (values are higher-is-better; memory's are negative). */
export function tieThreshold(best: number, tie: number): number {
  return best - tie * Math.abs(best);
}

/** What a shard (and the merge of shards) reports about ranking, besides the top-K. */
export interface TieParts {
  /** Plans within the tie of the shard's best (a superset of those within the tie of the global best). */
  ties: RankedPlan[];
  /** The tie set filled up: some plans within the tie were dropped (the slower ones). */
  tieOverflowed: boolean;
  /** Plans that may be ranked (fit, leave the memory margin, reach the throughput floor). */
  ranked: number;
  /** Among plans that fit, the one with the smallest peak memory (value = −peak): explains a margin with no plan. */
  mostHeadroom: RankedPlan | null;
}

export class TieKeeper {
  private readonly kept: RankedPlan[] = [];
  private readonly spare: RankedPlan[] = [];
  private best = -Infinity;
  /** Raised when the set overflows: later plans must reach it. */
  private floor = -Infinity;
  private overflowed = false;
  private ranked = 0;
  private mostHeadroom: RankedPlan | null = null;

  constructor(readonly tie: number, readonly capacity = TIE_CAPACITY) {}

  /** A scored plan that fits, with its objective value (NaN: not ranked). */
  offer(value: number, plan: Plan, est: Estimate): void {
    if (est.fits && (this.mostHeadroom === null || ranksBefore(-est.peakMemBytes, plan, this.mostHeadroom))) {
      if (this.mostHeadroom === null) this.mostHeadroom = keepRanked(-est.peakMemBytes, plan, est);
      else refillRanked(this.mostHeadroom, -est.peakMemBytes, plan, est);
    }
    if (Number.isNaN(value)) return;
    this.ranked++;
    if (value > this.best) this.best = value;
    const threshold = tieThreshold(this.best, this.tie);
    if (value < threshold || value < this.floor) return;
    if (this.kept.length >= this.capacity) {
      this.compact(threshold);
      if (value < this.floor) return;
    }
    const r = this.spare.pop();
    this.kept.push(r ? refillRanked(r, value, plan, est) : keepRanked(value, plan, est));
  }

  parts(): TieParts {
    const threshold = Math.max(tieThreshold(this.best, this.tie), this.floor);
    return {
      ties: this.kept.filter((r) => r.value >= threshold),
      tieOverflowed: this.overflowed,
      ranked: this.ranked,
      mostHeadroom: this.mostHeadroom,
    };
  }

  /** Drops the plans that fell out of the tie; when most are still in it, keeps the faster half. */
  private compact(threshold: number): void {
    const k = this.kept;
    let w = 0;
    for (const r of k) {
      if (r.value >= threshold) k[w++] = r;
      else this.spare.push(r);
    }
    k.length = w;
    if (w <= (this.capacity * 3) >> 2) return;
    this.overflowed = true;
    k.sort(compareRanked);
    const keep = this.capacity >> 1;
    for (let i = keep; i < k.length; i++) this.spare.push(k[i]);
    k.length = keep;
    this.floor = k[keep - 1].value;
  }
}

/** Merges the shards' parts; independent of the order the shards finished in (they are merged in shard order). */
export function mergeTieParts(parts: readonly TieParts[]): TieParts {
  const out: TieParts = { ties: [], tieOverflowed: false, ranked: 0, mostHeadroom: null };
  for (const p of parts) {
    for (const r of p.ties) out.ties.push(r);
    out.tieOverflowed ||= p.tieOverflowed;
    out.ranked += p.ranked;
    const m = p.mostHeadroom;
    if (m && (out.mostHeadroom === null || ranksBefore(m.value, m.plan, out.mostHeadroom))) out.mostHeadroom = m;
  }
  return out;
}
