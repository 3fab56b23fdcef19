import { InputError } from '../job/errors.js';
import { defaultWorkerCount } from '../search/pool.js';
import { workersForWork } from '../search/pool-choice.js';
import { countPlans, type SearchSpace } from '../enumerate/index.js';
import type { Job } from '../job/types.js';
import { modelShape } from '../job/shape.js';

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

/** The valid plans of a job's space, counted without building them (enumerate/countPlans). */
export function validPlans(job: Job, space: SearchSpace): number {
  return countPlans(job, modelShape(job.model), space).valid;
}

/**
 * The threads of one search: --workers as given (capped at the cores), or without it a pool of every core only
 * when the space is large enough to pay for the pool's start (search/pool-choice.ts), else 0 (this thread).
 */
export function searchWorkers(requested: number | undefined, quiet: boolean, job: Job, space: SearchSpace): number {
  const workers = resolveWorkers(requested, quiet);
  return requested === undefined ? workersForWork(validPlans(job, space), workers) : workers;
}
