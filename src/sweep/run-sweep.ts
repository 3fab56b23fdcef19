/**
 * Runs every point of a sweep through one worker pool, all at once: each point is one `runSearch` (the same
 * search and ranking as `moefold tune`), and every point's shards are queued together so the pool stays busy
 * across points instead of draining after each. Without a pool (workers 0) the points run one after another in
 * this thread. A point's best plan is `search.top[0]`, never re-ranked here.
 */
import { setMaxListeners } from 'node:events';
import type { Piscina } from 'piscina';
import type { SearchSpace } from '../enumerate/index.js';
import { RULES } from '../enumerate/index.js';
import { DEFAULT_TOP, headroomBytes, type RankOptions } from '../search/objective.js';
import type { RankedPlan } from '../search/ranked.js';
import { runSearch, type SearchResult } from '../search/pool.js';
import { GIB } from '../render/numbers.js';
import type { SweepPoint } from './points.js';

export interface PointOutcome {
  point: SweepPoint;
  /** null when the point's job could not be read (point.error says why). */
  search: SearchResult | null;
  best: RankedPlan | null;
  /** Why `best` is null, in one short line; null with a plan. */
  reason: string | null;
}

export interface SweepRun {
  outcomes: PointOutcome[];
  interrupted: boolean;
  wallS: number;
}

/**
 * Plans kept per point. Only the first is shown; it is chosen from the whole tie set whatever K is
 * (search/ties.ts), so it is the plan `moefold tune` ranks first; K is tune's default so the JSON's kept plans match too.
 */
export const SWEEP_TOP_K = DEFAULT_TOP;

/** The ranking of every point: `moefold tune`'s default (by throughput), keeping SWEEP_TOP_K plans. */
export function sweepRankOptions(flags: Pick<RankOptions, 'tie' | 'memoryMarginBytes'> = {}): RankOptions {
  return { objective: 'throughput', minTokensPerSPerGpu: 0, topK: SWEEP_TOP_K, pareto: false, ...flags };
}

/**
 * Shards per worker for one point when `points` run together: the points themselves keep the workers busy, so
 * each needs few shards (fewer per-shard start-up costs); a lone point gets tune's 8.
 */
export function shardsPerWorkerFor(points: number): number {
  return Math.min(8, Math.max(1, Math.ceil(8 / Math.max(1, points))));
}

export interface SweepRunOptions {
  space: SearchSpace;
  rank: RankOptions;
  /** Worker threads (0: no pool, the points run in this thread). */
  workers: number;
  pool: Piscina | null;
  signal?: AbortSignal;
  /** Called as each point finishes (done of total). */
  onPoint?: (done: number, total: number) => void;
}

export async function runSweep(points: SweepPoint[], o: SweepRunOptions): Promise<SweepRun> {
  const started = process.hrtime.bigint();
  const searchable = points.filter((p) => p.job !== null).length;
  const shardsPerWorker = shardsPerWorkerFor(searchable);
  let done = 0;
  // Every point's search listens to the one signal: that many listeners are expected, not a leak.
  if (o.signal) setMaxListeners(points.length + 16, o.signal);
  const one = async (point: SweepPoint): Promise<PointOutcome> => {
    if (point.job === null || point.calibration === null) {
      return { point, search: null, best: null, reason: point.reason ?? 'invalid job' };
    }
    const search = await runSearch({
      job: point.job, space: o.space, calibration: point.calibration, rank: o.rank, workers: o.workers, shardsPerWorker, signal: o.signal,
    }, o.pool);
    o.onPoint?.(++done, searchable);
    const best = search.top.length > 0 ? search.top[0] : null;
    return { point, search, best, reason: best === null ? noPlanReason(search) : null };
  };
  let outcomes: PointOutcome[];
  if (o.pool === null) {
    outcomes = [];
    for (const p of points) {
      if (o.signal?.aborted) break;
      outcomes.push(await one(p));
    }
  } else {
    outcomes = await Promise.all(points.map(one));
  }
  const interrupted = (o.signal?.aborted ?? false) || outcomes.some((x) => x.search?.interrupted);
  return { outcomes, interrupted, wallS: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** A summary this long or longer is named by its rule instead (the row must stay one short line). */
const MAX_RULE_TEXT = 60;

/** Why a searched point has no plan: no valid mapping (the last rule that removed candidates), nothing fits, or interrupted. */
export function noPlanReason(search: SearchResult): string {
  if (search.interrupted) return 'interrupted before a plan that fits was found';
  const stats = search.stats;
  if (stats.valid === 0) {
    if (stats.enumerated === 0) return 'no valid plan: the search space has no candidate';
    // Each candidate is counted under the first rule it breaks, in the table's order: the last rule that removed
    // any is the one that stopped the candidates that passed every check before it.
    let last = RULES[0];
    for (const r of RULES) if ((stats.pruned[r.name] ?? 0) > 0) last = r;
    const text = last.summary.length < MAX_RULE_TEXT ? last.summary : last.name;
    return `no valid plan: every candidate left breaks ${text}`;
  }
  if (search.fitting > 0) {
    // plans fit, but none leaves the memory margin free (or, with --min-throughput, reaches the floor)
    const m = search.mostHeadroom;
    const most = m === null ? '' : ` (most free: ${(headroomBytes(m.estimate) / GIB).toFixed(1)} GiB)`;
    return `${search.fitting.toLocaleString('en-US')} fit, none leaves the ${+(search.rank.memoryMarginBytes / GIB).toFixed(1)} GiB margin${most}`;
  }
  const s = search.smallestNotFitting;
  if (s === null) return `nothing fits: none of ${stats.valid.toLocaleString('en-US')} valid plans`;
  return `nothing fits: smallest ${(s.estimate.peakMemBytes / GIB).toFixed(1)} GiB of ${(s.estimate.usableMemBytes / GIB).toFixed(1)} GiB`;
}
