/**
 * The file piscina loads in each worker thread. Piscina loads a worker with require() first, and Node 20's
 * require() of an ES module can abort the whole process ("v8::Module::IsGraphAsync must be used on an
 * instantiated module") when two tasks reach a worker while its module graph is still loading. This
 * CommonJS entry is required safely and loads the ES-module worker once, with import().
 */
import type { ShardResult, ShardTask } from './shard-search.js';

// Loaded as the thread starts, not on its first task: the scorer's modules load while the main thread is still
// reading the job and enumerating (a failure surfaces in the first task, not as an unhandled rejection).
const worker: Promise<typeof import('./worker.js')> = import('./worker.js');
worker.catch(() => {});

export = async function runShard(task: ShardTask): Promise<ShardResult> {
  return (await worker).default(task);
};
