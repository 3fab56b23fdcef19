/**
 * End-to-end benchmark of `moefold tune` as a user runs it (a fresh process per run, default worker count),
 * printing medians of several runs, candidates/s and peak RSS. Run: `npm run bench` (or node dist/bench/tune.js).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths.js';

interface TuneCase {
  label: string;
  args: string[];
}

export const TUNE_CASES: TuneCase[] = [
  { label: 'DeepSeek-V3 on 1,024 H100', args: ['fixtures/models/deepseek-v3.yaml', '--gpus', '1024'] },
  { label: 'DeepSeek-V3 on 16,384 H100', args: ['fixtures/models/deepseek-v3.yaml', '--gpus', '16384'] },
  { label: 'Mixtral 8x22B on 128 H100', args: ['fixtures/models/mixtral-8x22b.yaml', '--gpus', '128'] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchTune(runs = 5, extraArgs: string[] = []): Promise<string[]> {
  const lines = [`moefold tune end to end (${runs} runs each, ${os.availableParallelism()} cores, node ${process.version}):`];
  for (const c of TUNE_CASES) {
    const walls: number[] = [];
    const rssKb: number[] = [];
    const searchWalls: number[] = [];
    let enumerated = 0;
    let valid = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/moefold.js'), 'tune', ...c.args, '--format', 'json', '--quiet', ...extraArgs], {
        cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, MOEFOLD_REPORT_RSS: '1' },
      });
      walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
      if (r.status !== 0) throw new Error(`${c.label}: exit ${r.status}: ${r.stderr}`);
      const m = /maxrss_kb=(\d+)/.exec(r.stderr);
      if (m) rssKb.push(Number(m[1]));
      const result = JSON.parse(r.stdout) as { search: { enumerated: number; valid: number; wall_s: number } };
      enumerated = result.search.enumerated;
      valid = result.search.valid;
      searchWalls.push(result.search.wall_s);
    }
    const wall = median(walls);
    lines.push(`  ${c.label.padEnd(28)} wall median ${wall.toFixed(2)} s (min ${Math.min(...walls).toFixed(2)}, max ${Math.max(...walls).toFixed(2)})`
      + ` · search ${median(searchWalls).toFixed(2)} s · ${enumerated.toLocaleString('en-US')} candidates, ${valid.toLocaleString('en-US')} valid`
      + ` · ${Math.round(enumerated / median(searchWalls)).toLocaleString('en-US')} candidates/s`
      + (rssKb.length ? ` · peak RSS ${(median(rssKb) / 1024).toFixed(0)} MB` : ''));
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  for (const line of await benchTune(runs)) console.log(line);
}
