import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob } from '../../src/job/load-job.js';

const fx = (p: string) => path.join(REPO_ROOT, 'fixtures', p);

test('model: may name another job file (nested): its model is taken, not its training or cluster', () => {
  const job = loadJob(fx('ci/mixtral-8x22b-128.yaml'));
  const direct = loadJob(fx('models/mixtral-8x22b.yaml'));
  assert.deepEqual(job.model, direct.model);
  assert.equal(job.cluster.gpus, 128);
});

test('model: may name a flat job file: its training section is not read as a model field', () => {
  const job = loadJob(fx('ci/llama3-70b-64.yaml'));
  assert.equal(job.model.num_layers, 80);
  assert.equal(job.model.num_experts, 0);
  assert.equal(job.training.seq_length, 8192);
  assert.equal(job.cluster.gpus, 64);
});
