/**
 * Cold end-to-end medians of the commands a user waits for (issue 17): a fresh `node bin/moefold.js` process per
 * run, as typed, default worker count (the pool only where the work pays for it), table output to a pipe.
 * Every line names the machine's cores and its load average (the figures move with what else runs).
 * Run: `npm run bench` (every benchmark) or `node dist/bench/cold.js` (BENCH_RUNS sets the run count, default 5).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths.js';

interface ColdCase {
  label: string;
  args: string[];
}

export const COLD_CASES: ColdCase[] = [
  { label: '--version', args: ['--version'] },
  { label: 'tune DeepSeek-V3, 1,024 H100', args: ['tune', 'fixtures/models/deepseek-v3.yaml', '--gpus', '1024'] },
  { label: 'tune DeepSeek-V3, 16,384 H100', args: ['tune', 'fixtures/models/deepseek-v3.yaml', '--gpus', '16384'] },
  { label: 'tune Mixtral 8x22B, 128 H100', args: ['tune', 'fixtures/models/mixtral-8x22b.yaml', '--gpus', '128'] },
  { label: 'check fixtures/ci (4 jobs)', args: ['check', 'fixtures/ci'] },
  // The dense search of the issue (TP, PP, DP, micro-batch, VPP, recompute, SP, distributed optimizer; BF16).
  { label: 'tune GPT-3 175B, 256 H100, bf16', args: ['tune', 'fixtures/models/gpt3-175b.yaml', '--gpus', '256', '--precision', 'bf16'] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchCold(runs = 5): Promise<string[]> {
  const cores = os.availableParallelism();
  const lines = [`cold end to end, a fresh process per run (${runs} runs each, ${cores} cores, node ${process.version}):`];
  for (const c of COLD_CASES) {
    const walls: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/moefold.js'), ...c.args], {
        cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20,
      });
      walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
      if (r.status !== 0) throw new Error(`${c.label}: exit ${r.status}: ${r.stderr}`);
    }
    lines.push(`  ${c.label.padEnd(32)} median ${median(walls).toFixed(3)} s (min ${Math.min(...walls).toFixed(3)}, `
      + `max ${Math.max(...walls).toFixed(3)}) · ${cores} cores · load ${os.loadavg()[0].toFixed(2)}`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  for (const line of await benchCold(runs)) console.log(line);
}
