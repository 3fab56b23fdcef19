import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths.js';
import { loadJob } from '../src/job/load-job.js';
import { modelShape } from '../src/job/shape.js';
import { applyFixes, countPlans, enumeratePlans, loadSearchSpace, newEnumStats } from '../src/enumerate/index.js';
import { SharedPool, WORKER_WARMUP_PLANS, workersForWork } from '../src/search/pool-choice.js';
import { moefold } from './cli/run-cli.js';

const fixture = (name: string, gpus: number) => loadJob(path.join(REPO_ROOT, 'fixtures/models', name), { gpus });

test('pool choice: countPlans gives the stats of a full enumeration, whole and per shard', () => {
  const cases: [string, number, string | undefined][] = [
    ['mixtral-8x22b.yaml', 128, 'tp=2'], ['deepseek-v3.yaml', 1024, 'pp=16'], ['gpt3-175b.yaml', 256, 'tp=8'],
    ['qwen3-30b-a3b.yaml', 16, undefined], ['llama3-70b.yaml', 64, 'cp=1'],
  ];
  for (const [file, gpus, fix] of cases) {
    const job = fixture(file, gpus);
    const shape = modelShape(job.model);
    const space = fix === undefined ? loadSearchSpace() : applyFixes(loadSearchSpace(), fix);
    for (const [shardIndex, shardCount] of [[0, 1], [1, 3]]) {
      const stats = newEnumStats();
      let n = 0;
      for (const p of enumeratePlans(job, shape, space, { shardIndex, shardCount }, stats)) if (p) n++;
      const counted = countPlans(job, shape, space, { shardIndex, shardCount });
      assert.deepEqual(counted, stats, `${file} ${fix} shard ${shardIndex}/${shardCount}`);
      assert.equal(counted.valid, n);
    }
  }
});

test('pool choice: a pool only when the other workers take more plans off this thread than their warm-up', () => {
  assert.equal(workersForWork(10 * WORKER_WARMUP_PLANS, 1), 0);
  assert.equal(workersForWork(0, 16), 0);
  // 2 cores: the second worker takes half the plans
  assert.equal(workersForWork(2 * WORKER_WARMUP_PLANS, 2), 0);
  assert.equal(workersForWork(2 * WORKER_WARMUP_PLANS + 2, 2), 2);
  assert.equal(workersForWork(1.2 * WORKER_WARMUP_PLANS, 16), 16);
  assert.equal(workersForWork(WORKER_WARMUP_PLANS, 16), 0);
});

test('pool choice: a shared pool is made on the first search that pays for it, and kept', async () => {
  const auto = new SharedPool(undefined, 2);
  assert.deepEqual(auto.forWork(1000), { pool: null, workers: 0 });
  const big = auto.forWork(10 * WORKER_WARMUP_PLANS);
  assert.notEqual(big.pool, null);
  assert.equal(big.workers, 2);
  assert.equal(auto.forWork(1000).pool, big.pool);
  await auto.destroy();
  const none = new SharedPool(0, 0);
  assert.deepEqual(none.forWork(10 * WORKER_WARMUP_PLANS), { pool: null, workers: 0 });
  const asked = new SharedPool(2, 2);
  assert.notEqual(asked.forWork(1).pool, null);
  await asked.destroy();
});

test('pool choice: tune prints the same result whichever way the search ran', () => {
  const args = ['tune', 'fixtures/models/mixtral-8x22b.yaml', '--gpus', '128', '--fix', 'tp=2', '--format', 'json', '--no-timing', '--quiet'];
  const auto = moefold(...args);
  assert.equal(auto.status, 0, auto.stderr);
  for (const w of ['0', '2']) {
    const r = moefold(...args, '--workers', w);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, auto.stdout, `--workers ${w}`);
  }
});
