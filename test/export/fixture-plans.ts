/**
 * The top plans of every fixture (fixtures/models/*.yaml, fixtures/ci/*.yaml), searched as `moefold tune` does
 * (default search space, the job's GPU calibration, throughput objective), for the drift-guard tests that check
 * what the exports of real plans write. Searched once per process, in this thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob } from '../../src/job/load-job.js';
import { modelShape } from '../../src/job/shape.js';
import { loadSearchSpace } from '../../src/enumerate/index.js';
import { loadCalibrationStack } from '../../src/cost/calibration.js';
import { runSearch } from '../../src/search/pool.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job, ModelShape } from '../../src/job/types.js';

export interface FixturePlans {
  /** Path relative to the repository root. */
  file: string;
  job: Job;
  shape: ModelShape;
  plans: Plan[];
}

/** Fixtures without a cluster of their own are planned on this many GPUs (as the README's examples). */
const DEFAULT_GPUS = 128;

export function fixtureFiles(): string[] {
  const out: string[] = [];
  for (const dir of ['fixtures/models', 'fixtures/ci']) {
    for (const f of fs.readdirSync(path.join(REPO_ROOT, dir)).sort()) if (f.endsWith('.yaml')) out.push(`${dir}/${f}`);
  }
  return out;
}

function load(file: string): Job {
  const abs = path.join(REPO_ROOT, file);
  try {
    return { ...loadJob(abs), source: file };
  } catch {
    return { ...loadJob(abs, { gpus: DEFAULT_GPUS }), source: file };
  }
}

let cached: Promise<FixturePlans[]> | null = null;

/** The top `top` plans of each fixture (a fixture with no fitting plan has none). */
export function fixturePlans(top = 5): Promise<FixturePlans[]> {
  cached ??= (async () => {
    const space = loadSearchSpace();
    const out: FixturePlans[] = [];
    for (const file of fixtureFiles()) {
      const job = load(file);
      const calibration = loadCalibrationStack(job.cluster.gpu, job.cluster.calibrations ?? []);
      const r = await runSearch({
        job, space, calibration, workers: 0,
        rank: { objective: 'throughput', minTokensPerSPerGpu: 0, topK: top, pareto: false },
      });
      out.push({ file, job, shape: modelShape(job.model), plans: r.top.map((x) => x.plan) });
    }
    return out;
  })();
  return cached;
}
