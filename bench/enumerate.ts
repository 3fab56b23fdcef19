/**
 * Enumerator benchmark: walks the full default search space (no scoring) for
 *   DeepSeek-V3 on 1,024 GPUs and on 16,384 GPUs, and Mixtral 8x22B on 128 GPUs,
 * several times each after one untimed warm-up run, and prints the median wall time, the enumerated / valid counts and candidates per second
 * (enumerated candidates, pruned subtrees included, over wall time) and valid plans per second.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/enumerate.js [repeats]
 */
import { pathToFileURL } from 'node:url';
import type { Job } from '../src/job/types.js';
import { enumeratePlans, newEnumStats, loadSearchSpace } from '../src/enumerate/index.js';
import { modelShape } from '../src/job/shape.js';
import { benchJob, DEEPSEEK_V3_FILE, MIXTRAL_8X22B_FILE } from './fixtures.js';

interface Case { label: string; job: Job }

const CASES: Case[] = [
  // the fixtures' runs (seq 4096; DeepSeek-V3 GBS 8192, Mixtral GBS 256), in bf16 as this benchmark has always run
  { label: 'DeepSeek-V3 on 1,024 GPUs', job: benchJob(DEEPSEEK_V3_FILE, { precision: 'bf16' }) },
  { label: 'DeepSeek-V3 on 16,384 GPUs', job: benchJob(DEEPSEEK_V3_FILE, { gpus: 16384, globalBatchSize: 16384, precision: 'bf16' }) },
  { label: 'Mixtral 8x22B on 128 GPUs', job: benchJob(MIXTRAL_8X22B_FILE) },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Runs the benchmark and returns its report lines. */
export async function benchEnumerate(repeats = 5): Promise<string[]> {
  const space = loadSearchSpace();
  const lines: string[] = [`enumerate: full default space, ${repeats} runs each, median wall time`];
  for (const c of CASES) {
    const shape = modelShape(c.job.model);
    const times: number[] = [];
    let enumerated = 0;
    let valid = 0;
    let checksum = 0;
    for (const _p of enumeratePlans(c.job, shape, space)) { /* warm-up run, not timed */ }
    for (let i = 0; i < repeats; i++) {
      const stats = newEnumStats();
      const t0 = process.hrtime.bigint();
      let sum = 0;
      for (const p of enumeratePlans(c.job, shape, space, {}, stats)) sum += p.tp + p.ep; // touch the plan
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      enumerated = stats.enumerated;
      valid = stats.valid;
      checksum = sum;
    }
    const t = median(times);
    lines.push(`  ${c.label.padEnd(28)} ${(t * 1000).toFixed(1).padStart(8)} ms  enumerated ${fmt(enumerated).padStart(11)}  `
      + `valid ${fmt(valid).padStart(9)}  ${fmt(enumerated / t).padStart(13)} candidates/s  ${fmt(valid / t).padStart(11)} valid/s`
      + (checksum < 0 ? ' ' : ''));
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const repeats = process.argv[2] ? Number(process.argv[2]) : 5;
  benchEnumerate(repeats).then((lines) => { for (const l of lines) console.log(l); }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
