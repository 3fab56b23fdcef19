/**
 * Inputs that load but are probably not what the user meant. Each is one line for stderr; the run goes on.
 * (What the model cannot describe at all is refused by the loader instead.)
 */
import type { Job } from './types.js';
import { oneLine } from '../text/one-line.js';

/**
 * Tokens in one global batch above which the batch is almost surely a token count typed as sequences: the
 * largest published pre-training batches are about 60 M tokens (DeepSeek-V3: 15,360 × 4,096 = 63 M).
 */
export const MAX_PLAUSIBLE_BATCH_TOKENS = 2 ** 28;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Warnings about a loaded job, in words, without the "moefold: warning:" prefix. */
export function jobWarnings(job: Job): string[] {
  const out: string[] = [];
  const { global_batch_size: gbs, seq_length: seq } = job.training;
  const gpus = job.cluster.gpus;
  const tokens = gbs * seq;
  if (tokens > MAX_PLAUSIBLE_BATCH_TOKENS) {
    out.push(`${job.source}: global_batch_size ${gbs} sequences × ${seq} tokens = ${(tokens / 1e9).toFixed(1)} B tokens per step: `
      + 'global_batch_size counts sequences, not tokens (published batches are at most about 60 M tokens)');
  }
  if (gpus > 1 && gcd(gbs, gpus) === 1) {
    out.push(`${job.source}: global_batch_size ${gbs} and ${gpus} GPUs share no factor, so every plan has data-parallel size 1 `
      + '(DP must divide both): a multiple of a power of two is usual');
  }
  return out;
}

/** Prints the job's warnings on stderr, one line each. */
export function printJobWarnings(job: Job, stream: NodeJS.WritableStream = process.stderr): void {
  for (const w of jobWarnings(job)) stream.write(`moefold: warning: ${oneLine(w)}\n`);
}
