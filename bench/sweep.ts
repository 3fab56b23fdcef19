/**
 * End-to-end benchmark of `moefold sweep` as a user runs it (a fresh process per run, the default worker count):
 * DeepSeek-V3 over 8 GPU counts × 3 GPU kinds, 24 searches through one pool. Prints the median wall time of
 * several runs, the searches' total candidates and peak RSS.
 * Run: `npm run bench` (every benchmark) or `node dist/bench/sweep.js` (BENCH_RUNS sets the run count, default 5).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths.js';
import { DEEPSEEK_V3_FILE } from './fixtures.js';
import type { SweepJson } from '../src/sweep/sweep-json.js';
import { sweepPoints } from '../src/sweep/points.js';
import { runSweep, sweepRankOptions } from '../src/sweep/run-sweep.js';
import { createSearchPool, defaultWorkerCount } from '../src/search/pool.js';
import { loadSearchSpace } from '../src/enumerate/index.js';

/** The GPU counts DeepSeek-V3's batch (GBS 8192) and 8-GPU nodes allow, from one node-group short of fitting to 4,096. */
export const SWEEP_GPU_COUNTS = [64, 128, 256, 512, 1024, 1536, 2048, 4096];
export const SWEEP_GPU_KINDS = ['h100-sxm', 'h200-sxm', 'b200'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchSweep(runs = 5, extraArgs: string[] = []): Promise<string[]> {
  const label = `DeepSeek-V3, ${SWEEP_GPU_COUNTS.length} GPU counts × ${SWEEP_GPU_KINDS.length} GPUs`;
  const args = ['sweep', DEEPSEEK_V3_FILE, '--gpus', SWEEP_GPU_COUNTS.join(','), '--gpu', SWEEP_GPU_KINDS.join(','),
    '--tokens', '15e12', '--format', 'json', '--quiet', ...extraArgs];
  const walls: number[] = [];
  const sweepWalls: number[] = [];
  const rssKb: number[] = [];
  let points = 0;
  let withPlan = 0;
  let valid = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/moefold.js'), ...args], {
      cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, MOEFOLD_REPORT_RSS: '1' },
    });
    walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status}: ${r.stderr}`);
    const m = /maxrss_kb=(\d+)/.exec(r.stderr);
    if (m) rssKb.push(Number(m[1]));
    const s = JSON.parse(r.stdout) as SweepJson;
    points = s.points.length;
    withPlan = s.points.filter((p) => p.best !== null).length;
    valid = s.points.reduce((a, p) => a + p.valid, 0);
    if (s.wall_s !== null) sweepWalls.push(s.wall_s);
  }
  const wall = median(walls);
  const cpu = await sweepCoreSeconds();
  return [
    `moefold sweep end to end (${runs} runs, ${os.availableParallelism()} cores, node ${process.version}):`,
    `  ${label} wall median ${wall.toFixed(2)} s (min ${Math.min(...walls).toFixed(2)}, max ${Math.max(...walls).toFixed(2)})`
      + ` · searches ${median(sweepWalls).toFixed(2)} s · ${points} points, ${withPlan} with a plan · ${valid.toLocaleString('en-US')} valid plans scored`
      + (rssKb.length ? ` · peak RSS ${(median(rssKb) / 1024).toFixed(0)} MB` : ''),
    `  the same sweep in this process: ${cpu.coreS.toFixed(1)} core-seconds of CPU (all threads), ${cpu.wallS.toFixed(2)} s wall`
      + ` on ${cpu.workers} workers: wall ≈ core-seconds ÷ cores on an idle machine`,
  ];
}

/**
 * CPU time of the sweep's searches (every thread of this process: process.cpuUsage counts the workers too), a
 * figure that holds on a shared machine where wall time depends on the other load.
 */
async function sweepCoreSeconds(): Promise<{ coreS: number; wallS: number; workers: number }> {
  const workers = defaultWorkerCount();
  const points = sweepPoints(path.join(REPO_ROOT, DEEPSEEK_V3_FILE), {}, { gpuKinds: SWEEP_GPU_KINDS, gpuCounts: SWEEP_GPU_COUNTS });
  const pool = createSearchPool(workers);
  try {
    const before = process.cpuUsage();
    const run = await runSweep(points, {
      space: loadSearchSpace(), workers, pool, rank: sweepRankOptions(),
    });
    const used = process.cpuUsage(before);
    return { coreS: (used.user + used.system) / 1e6, wallS: run.wallS, workers };
  } finally {
    await pool?.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  for (const line of await benchSweep(runs)) console.log(line);
}
