/**
 * A search run from the command line: a progress line on stderr (unless quiet) and Ctrl-C wired to the search's
 * abort signal (the finished shards' plans are kept). Without a pool the search runs in this thread and cannot be
 * stopped half-way, so Ctrl-C is left to end the process.
 */
import type { SearchProgress } from '../search/pool.js';
import { makeProgressPrinter } from '../render/progress.js';

export async function withProgress<T>(workers: number, quiet: boolean,
  run: (onProgress: (p: SearchProgress) => void, signal: AbortSignal) => Promise<T>): Promise<T> {
  const progress = makeProgressPrinter(process.stderr, !quiet);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  if (workers > 0) process.once('SIGINT', onSigint);
  try {
    return await run(progress.update, abort.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.done();
  }
}
