import { InputError } from '../job/errors.js';
import { defaultWorkerCount } from '../search/pool.js';

/**
 * --workers, checked; more threads than cores only add start-up time (and Node has been seen to abort while
 * terminating many idle threads), so the count is capped at the machine's cores.
 */
/** The most worker threads --workers may name (more are capped at the cores anyway). */
export const MAX_WORKERS = 1024;

export function resolveWorkers(requested: number | undefined, quiet: boolean): number {
  const cores = defaultWorkerCount();
  if (requested === undefined) return cores;
  if (!Number.isInteger(requested) || requested < 0) throw new InputError(`--workers: must be an integer >= 0 (got ${requested})`);
  if (requested > cores) {
    if (!quiet) process.stderr.write(`moefold: --workers ${requested} capped at the ${cores} cores of this machine\n`);
    return cores;
  }
  return requested;
}
