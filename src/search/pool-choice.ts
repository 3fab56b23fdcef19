/**
 * Whether a search runs in a worker pool or in this thread, by the size of the work (the valid plans the
 * enumerator counts before the search: enumerate/countPlans, a few milliseconds).
 *
 * A worker thread costs far more than its start-up (~60 ms to load the scorer's modules): each thread also warms
 * its own JIT, and while every core runs a worker, V8's optimizing compiler has no core of its own. Measured on the
 * 2-core development machine (DeepSeek-V3 / 1,024 GPUs, 978,912 valid plans, idle machine): this thread searches
 * in 0.85-0.97 s cold; a cold 2-worker pool in 1.35 s, a warm one in 0.42 s. So a pool of n workers spends about
 * 0.9 s of each worker's time before it runs at full speed, the work of WORKER_WARMUP_PLANS plans in this thread,
 * and it pays when what the other workers take off this thread, validPlans · (1 − 1/n), is more than that.
 * On 2 cores: from 2 M valid plans; on 16: from about 1.07 M. Explicit --workers is always obeyed.
 */
import type { Piscina } from 'piscina';
import { createSearchPool } from './pool.js';

/** A pool's warm-up, in plans this thread would have searched meanwhile (0.9 s at ~1.1 M valid plans/s). */
export const WORKER_WARMUP_PLANS = 1_000_000;

/** The workers for a search of `validPlans` when --workers is not given: `cores` if a pool pays, else 0. */
export function workersForWork(validPlans: number, cores: number): number {
  if (cores < 2) return 0;
  return validPlans * (1 - 1 / cores) > WORKER_WARMUP_PLANS ? cores : 0;
}

/**
 * One pool shared by the searches of a run (`moefold check` on a folder of jobs), made when the first search
 * that needs it comes: with --workers N (N > 0) at once, without it when a job's work pays for the pool
 * (workersForWork); once made, every later search uses it (its warm-up is paid).
 */
export class SharedPool {
  private pool: Piscina | null = null;

  /** `requested`: --workers as given (undefined: choose by the work); `workers`: the threads of a pool. */
  constructor(private readonly requested: number | undefined, private readonly workers: number) {
    if (requested !== undefined) this.pool = createSearchPool(workers);
  }

  /** The pool and worker count for a search of `validPlans` (a null pool: search in this thread). */
  forWork(validPlans: number): { pool: Piscina | null; workers: number } {
    if (this.pool === null && this.requested === undefined && workersForWork(validPlans, this.workers) > 0) {
      this.pool = createSearchPool(this.workers);
    }
    return { pool: this.pool, workers: this.pool === null ? 0 : this.workers };
  }

  async destroy(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
  }
}
