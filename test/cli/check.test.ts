import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { moefold } from './run-cli.js';

const MIXTRAL = 'fixtures/models/mixtral-8x22b.yaml';
const SLICE = ['--fix', 'tp=2,recompute=none', '--workers', '2'];

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-check-'));
}

/** A baseline written by the current code for the Mixtral fixture on 128 GPUs. */
function freshBaseline(dir: string): string {
  const r = moefold('tune', MIXTRAL, '--gpus', '128', ...SLICE, '--top', '3', '--quiet', '--no-timing', '--out', dir);
  assert.equal(r.status, 0, r.stderr);
  return path.join(dir, 'plans.json');
}

function edit(file: string, f: (obj: any) => void): string {
  const obj = JSON.parse(fs.readFileSync(file, 'utf8'));
  f(obj);
  const out = file.replace(/\.json$/, '.edited.json');
  fs.writeFileSync(out, JSON.stringify(obj, null, 2));
  return out;
}

test('check: an untouched baseline passes (exit 0) and the JUnit report says so', () => {
  const dir = tmp();
  const baseline = freshBaseline(dir);
  const junit = path.join(dir, 'report.xml');
  const r = moefold('check', MIXTRAL, '--gpus', '128', '--baseline', baseline, ...SLICE, '--junit', junit);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS /m);
  const xml = fs.readFileSync(junit, 'utf8');
  assert.match(xml, /<testsuites name="moefold check" tests="4" failures="0" skipped="0">/);
});

test('check: a deliberately worsened baseline (full recompute) fails with "a better plan exists", side by side', () => {
  const dir = tmp();
  const baseline = freshBaseline(dir);
  const worse = moefold('score', MIXTRAL, '--gpus', '128', '--plan', 'tp=2,pp=8,vpp=7,ep=8,etp=1,recompute=full', '--format', 'json');
  assert.equal(worse.status, 0, worse.stderr);
  const edited = edit(baseline, (o) => { o.plans[0] = JSON.parse(worse.stdout); });
  const r = moefold('check', MIXTRAL, '--gpus', '128', '--baseline', edited, ...SLICE, '--format', 'json');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.passed, false);
  const best = rep.jobs[0].checks.find((c: any) => c.name === 'best');
  assert.equal(best.status, 'fail');
  assert.match(best.message, /a better plan exists/);
  assert.ok(best.details.some((d: string) => d.includes('baseline') && d.includes('best now')));
});

test('check: a baseline plan Megatron would refuse fails the validity check with the rule', () => {
  const dir = tmp();
  const edited = edit(freshBaseline(dir), (o) => { o.plans[0].mapping.ep = 16; });
  const r = moefold('check', MIXTRAL, '--gpus', '128', '--baseline', edited, ...SLICE);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /fail valid .*no longer valid/);
  assert.match(r.stdout, /experts-divisible-by-ep/);
});

test('check: a recorded throughput the plan no longer reaches fails as a regression, with the terms that moved', () => {
  const dir = tmp();
  const edited = edit(freshBaseline(dir), (o) => {
    o.plans[0].estimate.tokens_per_s_per_gpu *= 1.5;
    o.plans[0].estimate.time_breakdown_s.experts /= 2;
  });
  const r = moefold('check', MIXTRAL, '--gpus', '128', '--baseline', edited, ...SLICE);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /fail regression .*below the recorded/);
  assert.match(r.stdout, /experts: /);
});

test('check: a plan that no longer fits (longer sequences) fails with the memory breakdown', () => {
  const dir = tmp();
  const baseline = freshBaseline(dir);
  const r = moefold('check', MIXTRAL, '--gpus', '128', '--seq-length', '65536', '--global-batch-size', '256', '--baseline', baseline, ...SLICE);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /fail fits .*no longer fits/);
  assert.match(r.stdout, /memory breakdown \(GiB\): weights/);
});

test('check: folder mode with --update writes baselines, then passes', () => {
  const dir = tmp();
  fs.copyFileSync(path.join(REPO_ROOT, MIXTRAL), path.join(dir, 'mixtral.yaml'));
  const missing = moefold('check', dir, '--gpus', '128', ...SLICE);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no job file with a NAME\.baseline\.json beside it/);
  const u = moefold('check', dir, '--gpus', '128', ...SLICE, '--update');
  assert.equal(u.status, 0, u.stdout + u.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'mixtral.baseline.json')));
  const r = moefold('check', dir, '--gpus', '128', ...SLICE);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('check: bad input exits 2', () => {
  const r = moefold('check', MIXTRAL, '--gpus', '128');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--baseline: required/);
});

test('check: a baseline read against a changed world size is judged for the current job, not flagged invalid', () => {
  const dir = tmp();
  const baseline = freshBaseline(dir);
  const plan1 = JSON.parse(fs.readFileSync(baseline, 'utf8')).plans[0].mapping;
  assert.equal(128 % (plan1.tp * plan1.cp * plan1.pp * 2), 0, 'the fixture plan also divides 64 GPUs');
  const r = moefold('check', MIXTRAL, '--gpus', '64', '--baseline', baseline, ...SLICE, '--format', 'json');
  const rep = JSON.parse(r.stdout);
  const valid = rep.jobs[0].checks.find((c: any) => c.name === 'valid');
  assert.equal(valid.status, 'pass', JSON.stringify(valid));
});

test('check --update writes nothing and fails when no plan fits', () => {
  const dir = tmp();
  const target = path.join(dir, 'new.json');
  const r = moefold('check', MIXTRAL, '--gpus', '8', '--baseline', target, '--update', '--workers', '1');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /no plan fits for the current job: the baseline was not written/);
  assert.equal(fs.existsSync(target), false);
});

test('check DIR: files without a baseline (a workflow YAML, notes) are left alone', () => {
  const dir = tmp();
  fs.copyFileSync(path.join(REPO_ROOT, MIXTRAL), path.join(dir, 'mixtral.yaml'));
  assert.equal(moefold('check', dir, '--gpus', '128', ...SLICE, '--update').status, 0);
  fs.writeFileSync(path.join(dir, 'workflow.yml'), 'on: push\n');
  fs.writeFileSync(path.join(dir, 'notes.json'), '{}\n');
  const r = moefold('check', dir, '--gpus', '128', ...SLICE);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /moefold check: 1 of 1 job\(s\) passed/);
});

test('check DIR: a broken job is reported as a failing case, the others are still checked, exit 2', () => {
  const dir = tmp();
  fs.copyFileSync(path.join(REPO_ROOT, MIXTRAL), path.join(dir, 'mixtral.yaml'));
  assert.equal(moefold('check', dir, '--gpus', '128', ...SLICE, '--update').status, 0);
  fs.writeFileSync(path.join(dir, 'broken.yaml'), 'model: {num_layers: -1}\n');
  fs.writeFileSync(path.join(dir, 'broken.baseline.json'), '{}\n');
  const junit = path.join(dir, 'report.xml');
  const r = moefold('check', dir, '--gpus', '128', ...SLICE, '--junit', junit);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS .*mixtral\.yaml/m);
  assert.match(r.stdout, /^FAIL .*broken\.yaml/m);
  assert.match(r.stderr, /broken\.yaml: model\.num_layers: must be an integer >= 1 \(got -1\)/);
  assert.match(fs.readFileSync(junit, 'utf8'), /<testsuites name="moefold check" tests="5" failures="1" skipped="0">/);
});
