import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';

const SCRIPT = path.join(REPO_ROOT, 'dist', 'scripts', 'accuracy.js');

test('npm run accuracy runs in a fresh clone: its development set ships in data/', () => {
  const r = spawnSync(process.execPath, [SCRIPT], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /runs: .*data\/measured-runs\.yaml/);
  assert.match(r.stdout, /all +n= *\d+ +median \|err\| [\d.]+%/);
});

test('accuracy with a missing runs file: one line naming it, exit 2, no stack trace', () => {
  const r = spawnSync(process.execPath, [SCRIPT, 'no/such/runs.yaml'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'accuracy: no/such/runs.yaml: file not found\n');
});
