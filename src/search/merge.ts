import { mergeEnumStats, newEnumStats } from '../enumerate/index.js';
import type { RankOptions } from './objective.js';
import type { RankedPlan } from './ranked.js';
import { ranksBefore } from './ranked.js';
import type { ShardResult } from './shard-search.js';
import { TopK, keptCapacity } from './top-k.js';
import { mergeTieParts } from './ties.js';
import { ParetoFront } from './pareto.js';

/** What the shards found together: a shard's result, merged, plus how many shards finished. */
export interface SearchOutcome extends Omit<ShardResult, 'shardIndex'> {
  shardsDone: number;
  shardCount: number;
}

/** Merges shard results; the outcome does not depend on the order the shards finished in. */
export function mergeShardResults(results: ShardResult[], rank: RankOptions, shardCount: number): SearchOutcome {
  const stats = newEnumStats();
  const top = new TopK(keptCapacity(rank));
  const pareto = new ParetoFront();
  let fitting = 0;
  let prunedByStaticMemory = 0;
  let smallest: RankedPlan | null = null;
  let better = 0;
  let clearlyBetter = 0;
  for (const r of results) {
    mergeEnumStats(stats, r.stats);
    fitting += r.fitting;
    prunedByStaticMemory += r.prunedByStaticMemory;
    better += r.betterThanReference;
    clearlyBetter += r.clearlyBetterThanReference;
    for (const p of r.top) top.offerRanked(p);
    for (const p of r.pareto) pareto.offerRanked(p);
    const s = r.smallestNotFitting;
    if (s && (smallest === null || ranksBefore(s.value, s.plan, smallest))) smallest = s;
  }
  return {
    stats, fitting, prunedByStaticMemory,
    top: top.sorted(), pareto: rank.pareto ? pareto.plans() : [],
    smallestNotFitting: smallest, betterThanReference: better, clearlyBetterThanReference: clearlyBetter,
    shardsDone: results.length, shardCount, ...mergeTieParts(results),
  };
}
