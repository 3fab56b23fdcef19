/** Piscina worker entry: enumerates and scores one shard, returns its top-K (never a message per candidate). */
import type { ShardTask, ShardResult } from './shard-search.js';
import { searchShard } from './shard-search.js';

export default function runShard(task: ShardTask): ShardResult {
  return searchShard(task);
}
