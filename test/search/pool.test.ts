import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob } from '../../src/job/load-job.js';
import { applyFixes, loadSearchSpace } from '../../src/enumerate/index.js';
import { loadCalibration } from '../../src/cost/calibration.js';
import { runSearch } from '../../src/search/pool.js';
import type { RankOptions } from '../../src/search/objective.js';

const job = loadJob(path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml'));
const space = applyFixes(loadSearchSpace(), 'tp=2,recompute=none');
const calibration = loadCalibration(job.cluster.gpu);
const rank: RankOptions = { objective: 'throughput', minTokensPerSPerGpu: 0, topK: 7, pareto: true };

test('pool: merged top-K, Pareto front and stats equal the single-threaded reference', async () => {
  const reference = await runSearch({ job, space, calibration, rank, workers: 0 });
  const pooled = await runSearch({ job, space, calibration, rank, workers: 2, shardsPerWorker: 5 });
  assert.equal(pooled.interrupted, false);
  assert.deepEqual(pooled.stats, reference.stats);
  assert.equal(pooled.fitting, reference.fitting);
  assert.deepEqual(pooled.top, reference.top);
  assert.deepEqual(pooled.pareto, reference.pareto);
  assert.equal(pooled.top.length, 7);
});

test('pool: a worker that throws ends the search with a clear error, not a hang', async () => {
  // A search space without its dimensions makes the enumerator throw inside each worker.
  const broken = {} as unknown as typeof space;
  await assert.rejects(runSearch({ job, space: broken, calibration, rank, workers: 2 }), /^Error: a scoring worker failed: /);
});

test('pool: an aborted search returns what finished and says it was interrupted', async () => {
  const abort = new AbortController();
  abort.abort();
  const r = await runSearch({ job, space, calibration, rank, workers: 2, signal: abort.signal });
  assert.equal(r.interrupted, true);
  assert.ok(r.shardsDone < r.shardCount);
});
