/** Tune results and sweeps for the report tests, from the fixtures (a pinned slice of the space: fast, in-process). */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJobContext } from '../../src/job-context.js';
import { runSearch } from '../../src/search/pool.js';
import { buildResult, type ResultJson } from '../../src/plans/result.js';
import type { SweepJson } from '../../src/sweep/sweep-json.js';

export const MIXTRAL = 'fixtures/models/mixtral-8x22b.yaml';
export const SWEEP_FIXTURE = 'fixtures/report/mixtral-8x22b-sweep.json';
/** A slice of Mixtral-8x22B @128's space with a top list and a Pareto front of several plans each. */
export const SLICE = 'tp=2,recompute=none,pp=8';

let cached: ResultJson | null = null;

/** Mixtral-8x22B on 128 H100s, the SLICE, top 8, Pareto front on: a fresh deep copy each call. */
export async function mixtralResult(): Promise<ResultJson> {
  if (cached === null) {
    const { job, shape, space, calibration } = loadJobContext(path.join(REPO_ROOT, MIXTRAL), { gpus: 128 }, { fix: SLICE });
    const search = await runSearch({ job, space, calibration, rank: { objective: 'throughput', minTokensPerSPerGpu: 0, topK: 8, pareto: true }, workers: 0 });
    cached = buildResult(job, shape, calibration, { objective: 'throughput', timing: false, pareto: true }, search);
  }
  return structuredClone(cached);
}

export function fixtureSweep(): SweepJson {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, SWEEP_FIXTURE), 'utf8')) as SweepJson;
}
