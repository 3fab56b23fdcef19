import os from 'node:os';
import { setMaxListeners } from 'node:events';
import { createRequire } from 'node:module';
import type { Piscina } from 'piscina';
import type { Job } from '../job/types.js';
import type { SearchSpace } from '../enumerate/index.js';
import type { Calibration } from '../cost/calibration.js';
import type { RankOptions } from './objective.js';
import { DEFAULT_MEMORY_MARGIN_BYTES } from './objective.js';
import { defaultTie, type TieDefault } from './cross-validation.js';
import { finalOrder, type RankContext, type TieSummary } from './final-order.js';
import { makeScoreContext } from '../cost/score.js';
import { modelShape } from '../job/shape.js';
import type { ShardReference, ShardResult, ShardTask } from './shard-search.js';
import { searchShard } from './shard-search.js';
import type { SearchOutcome } from './merge.js';
import { mergeShardResults } from './merge.js';

export interface SearchProgress {
  shardsDone: number;
  shardCount: number;
  /** Candidates enumerated by the finished shards. */
  enumerated: number;
  elapsedS: number;
}

export interface SearchRequest {
  job: Job;
  space: SearchSpace;
  calibration: Calibration;
  rank: RankOptions;
  /** Count the fitting plans that rank above this reference (ShardTask.reference). */
  reference?: ShardReference;
  /** Worker threads; 0 searches in this thread (no pool). */
  workers: number;
  /** Shards per worker: more gives finer progress and better balance, at a small messaging cost. */
  shardsPerWorker?: number;
  onProgress?: (p: SearchProgress) => void;
  /** Aborting stops scheduling and returns what the finished shards found (interrupted = true). */
  signal?: AbortSignal;
}

export interface SearchResult extends SearchOutcome {
  interrupted: boolean;
  wallS: number;
  /** The rank options the search ran with, the tie tolerance and memory margin filled in (resolveRankOptions). */
  rank: RankOptions & { tie: number; memoryMarginBytes: number };
  /** Where the default tie tolerance came from (null: --tie given; file '': no cross-validation file, tie 0). */
  tieSource: TieDefault | null;
  tie: TieSummary;
}

/** The tie tolerance and memory margin, defaults filled in: the calibration's cross-validated error, 4 GiB. */
export function resolveRankOptions(rank: RankOptions, calibration: Calibration):
  { rank: SearchResult['rank']; tieSource: TieDefault | null } {
  // No cross-validation file: exact ties only, and the header says so (file '').
  const source = rank.tie === undefined
    ? defaultTie(calibration.name) ?? { fraction: 0, measuredOn: calibration.name, file: '' }
    : null;
  return {
    rank: { ...rank, tie: rank.tie ?? source?.fraction ?? 0, memoryMarginBytes: rank.memoryMarginBytes ?? DEFAULT_MEMORY_MARGIN_BYTES },
    tieSource: source,
  };
}

/** The job facts the tie order reads (the scorer's NVLink domain and rank order). */
export function rankContext(job: Job, calibration: Calibration): RankContext {
  const ctx = makeScoreContext(job, modelShape(job.model), calibration);
  return { seqLength: job.training.seq_length, nvlinkDomainGpus: ctx.nvlinkDomainGpus, rankOrder: ctx.rankOrder };
}

/**
 * The merged outcome in the final order (search/final-order.ts): ties by headroom and simplicity, equal plans
 * collapsed, `topK` rows. runSearch returns this; other callers that merge shard results themselves use it too.
 */
export function finishSearch(outcome: SearchOutcome, req: Pick<SearchRequest, 'job' | 'calibration' | 'rank'>,
  interrupted: boolean, wallS: number): SearchResult {
  const { rank, tieSource } = resolveRankOptions(req.rank, req.calibration);
  const { top, tie } = finalOrder(outcome, rank, rankContext(req.job, req.calibration));
  return { ...outcome, top, interrupted, wallS, rank, tieSource, tie };
}

export function defaultWorkerCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The CommonJS entry (see worker-entry.cts): piscina's require() of an ES module can abort Node 20. */
const WORKER_FILE = new URL('./worker-entry.cjs', import.meta.url).href;

/** A worker pool that several searches can share (`moefold check` on a folder of jobs). */
export function createSearchPool(workers: number): Piscina | null {
  if (workers <= 0) return null;
  // piscina is loaded only for a pool: a search in this thread does without it.
  const { Piscina: PiscinaPool } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
  const pool = new PiscinaPool({ filename: WORKER_FILE, minThreads: workers, maxThreads: workers });
  // Failures reach us through each task's promise. The pool itself emits 'error' only for a reply to a task
  // that was already cancelled (after Ctrl-C or another shard's failure): nothing to do then, and an
  // unhandled 'error' event would crash the process.
  pool.on('error', () => {});
  return pool;
}

/**
 * Scores every valid plan of the space, in a worker pool, merges the per-shard top-K lists and tie sets, and
 * returns `top` in the final order (finishSearch; `top[0]` is the best plan).
 * With `sharedPool` the search runs in that pool and leaves it open; otherwise it makes its own and closes it.
 */
export async function runSearch(req: SearchRequest, sharedPool?: Piscina | null): Promise<SearchResult> {
  const started = process.hrtime.bigint();
  const elapsedS = () => Number(process.hrtime.bigint() - started) / 1e9;
  const rank = resolveRankOptions(req.rank, req.calibration).rank;
  const makeTask = (shardIndex: number, shardCount: number): ShardTask => ({
    job: req.job, space: req.space, calibration: req.calibration, rank, shardIndex, shardCount, reference: req.reference,
  });

  const pool = sharedPool === undefined ? createSearchPool(req.workers) : sharedPool;
  if (pool === null) {
    const result = searchShard(makeTask(0, 1));
    const outcome = mergeShardResults([result], rank, 1);
    const done = finishSearch(outcome, req, false, 0);
    done.wallS = elapsedS();
    return done;
  }

  const shardCount = Math.max(1, req.workers) * (req.shardsPerWorker ?? 8);
  const results: ShardResult[] = [];
  let enumerated = 0;
  let interrupted = false;
  const abort = new AbortController();
  setMaxListeners(shardCount + 16, abort.signal); // one listener per queued shard is expected, not a leak
  const onOuterAbort = () => { interrupted = true; abort.abort(); };
  if (req.signal?.aborted) onOuterAbort();
  else req.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let failure: unknown = null;
  try {
    const runs: Promise<void>[] = [];
    for (let i = 0; i < shardCount; i++) {
      runs.push(pool.run(makeTask(i, shardCount), { signal: abort.signal }).then((r: ShardResult) => {
        results.push(r);
        enumerated += r.stats.enumerated;
        req.onProgress?.({ shardsDone: results.length, shardCount, enumerated, elapsedS: elapsedS() });
      }, (err: unknown) => {
        if (abort.signal.aborted) return; // cancelled shard
        if (failure === null) failure = err;
        abort.abort(); // one worker failed: stop the rest, never hang
      }));
    }
    await Promise.all(runs);
  } finally {
    req.signal?.removeEventListener('abort', onOuterAbort);
    if (sharedPool === undefined) await pool.destroy();
  }
  if (failure !== null) {
    const msg = failure instanceof Error ? failure.message : String(failure);
    const err = new Error(`a scoring worker failed: ${msg}`);
    (err as Error & { cause?: unknown }).cause = failure;
    throw err;
  }
  // Merge in shard order, not completion order, so ties and stats never depend on timing.
  results.sort((a, b) => a.shardIndex - b.shardIndex);
  const outcome = mergeShardResults(results, rank, shardCount);
  const done = finishSearch(outcome, req, interrupted, 0);
  done.wallS = elapsedS(); // the final order counts in the search time
  return done;
}
