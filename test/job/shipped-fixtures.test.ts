/**
 * Every shipped fixture loads with the repository's real cost models (cost-models/): the model files, the
 * Hugging Face configs, each cluster file as the cluster of a job, and the CI jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob } from '../../src/job/load-job.js';

process.chdir(REPO_ROOT);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-fixtures-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const files = (dir: string, re: RegExp): string[] => fs.readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => `${dir}/${f}`);

test('every file in fixtures/models loads (with --gpus 64)', () => {
  const list = files('fixtures/models', /\.ya?ml$/);
  assert.ok(list.length >= 8);
  for (const f of list) assert.equal(loadJob(f, { gpus: 64 }).cluster.gpus, 64, f);
});

test('every Hugging Face config in fixtures/hf loads (folder and config.json)', () => {
  const dirs = fs.readdirSync('fixtures/hf').filter((d) => fs.statSync(`fixtures/hf/${d}`).isDirectory()).sort();
  assert.ok(dirs.length >= 8);
  for (const d of dirs) {
    assert.ok(loadJob(`fixtures/hf/${d}`, { gpus: 64 }).model.num_layers >= 1, d);
    assert.ok(loadJob(`fixtures/hf/${d}/config.json`, { gpus: 64 }).model.num_layers >= 1, d);
  }
});

test('every file in fixtures/clusters loads as the cluster of a job', () => {
  const list = files('fixtures/clusters', /\.ya?ml$/);
  assert.ok(list.length >= 3);
  for (const f of list) {
    const job = path.join(tmp, `${path.basename(f, '.yaml')}.job.yaml`);
    fs.writeFileSync(job, `model: ${path.join(REPO_ROOT, 'fixtures/models/mixtral-8x7b.yaml')}\ncluster: ${path.join(REPO_ROOT, f)}\n`);
    const c = loadJob(job).cluster;
    assert.ok(c.gpus >= 1 && c.gpus_per_node >= 1, f);
  }
});

test('every CI job in fixtures/ci loads', () => {
  const list = files('fixtures/ci', /\.ya?ml$/);
  assert.ok(list.length >= 4);
  for (const f of list) assert.ok(loadJob(f).cluster.gpus >= 1, f);
});

// Every file in fixtures/bad failing with exit 2 and one line is bad-input.test.ts's job (each file has a case
// there with its exact message); the hostile ones also run through the CLI in hostile-input.test.ts.
