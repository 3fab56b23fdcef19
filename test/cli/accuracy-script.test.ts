import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJobContext } from '../../src/job-context.js';
import { checkPlan, parsePlanSpec } from '../../src/enumerate/index.js';
import { moefold } from './run-cli.js';

const SCRIPT = path.join(REPO_ROOT, 'dist', 'scripts', 'accuracy.js');
const GENERATOR = path.join(REPO_ROOT, 'dist', 'scripts', 'accuracy-fixtures.js');
const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'accuracy');

interface Entry { id: string; job: string; plan: string; assume_recompute?: string[] }
const index = yaml.load(fs.readFileSync(path.join(FIXTURES, 'runs.yaml'), 'utf8')) as { runs: Entry[]; skipped: string[] };
const entry = (id: string): Entry => {
  const e = index.runs.find((r) => r.id === id);
  assert.ok(e, `${id} in fixtures/accuracy/runs.yaml`);
  return e;
};

test('npm run accuracy runs in a fresh clone: the fixture set ships in fixtures/accuracy, its source in data/', () => {
  const r = spawnSync(process.execPath, [SCRIPT, '--in-sample'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /runs: fixtures\/accuracy\/runs\.yaml \(from data\/measured-runs\.yaml\)/);
  assert.match(r.stdout, /\n  all +n= *70 +in-sample median \|err\| +[\d.]+%/);
  assert.match(r.stdout, /\n  moe real +n= *\d+ /);
  assert.match(r.stdout, /ranking .*\n(.*\n)*  all: \d+\/\d+ pairs in the measured order/);
  assert.match(r.stdout, /hard cases \(\d+, kept in every figure\):(\n.*)*\n +nemo2407-nemotron4-340b-128: /);
  // GPT-3 20B TP2 PP1 does not fit with TE's cached FP8 weight copies: a hard case (its facts in NeMo 24.07 differ)
  assert.match(r.stdout, /not fitting: \n +nemo2407-gpt3-20b-64: predicted [\d.]+ GB > usable [\d.]+ GB\nskipped/);
  assert.match(r.stdout, /hard cases \(\d+, kept in every figure\):(\n.*)*\n +nemo2407-gpt3-20b-64: TP2 PP1 holds/);
  assert.match(r.stdout, /skipped \(6\):/);
});

test('accuracy with a missing runs file: one line naming it, exit 2, no stack trace', () => {
  const r = spawnSync(process.execPath, [SCRIPT, 'no/such/runs.yaml'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'accuracy: no/such/runs.yaml: file not found\n');
});

test('accuracy refuses loudly a plan Megatron would refuse, naming the run and the rule', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-acc-'));
  try {
    const e = entry('mlperf31-gpt3-512');
    const runs = { runs: [{ ...e, job: path.join(FIXTURES, e.job), plan: 'tp=4,pp=8,vpp=5,mbs=1' }] };
    fs.writeFileSync(path.join(dir, 'runs.yaml'), yaml.dump(runs));
    const r = spawnSync(process.execPath, [SCRIPT, path.join(dir, 'runs.yaml')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^accuracy: mlperf31-gpt3-512: --plan tp=4,pp=8,vpp=5,mbs=1,recompute=none: Megatron-Core would refuse this plan: /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run accuracy:fixtures reproduces the checked-in fixtures byte for byte', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-accfix-'));
  try {
    const r = spawnSync(process.execPath, [GENERATOR, '--out', dir], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const made = fs.readdirSync(dir).sort();
    assert.deepEqual(made, fs.readdirSync(FIXTURES).sort());
    assert.equal(made.length, index.runs.length + 1);
    for (const f of made) {
      assert.equal(fs.readFileSync(path.join(dir, f), 'utf8'), fs.readFileSync(path.join(FIXTURES, f), 'utf8'), `fixtures/accuracy/${f}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every fixtures/accuracy entry loads with the CLI loader and its plan passes the rule table', () => {
  assert.equal(index.runs.length, 70);
  for (const e of index.runs) {
    const jc = loadJobContext(path.join(FIXTURES, e.job), {}, { warn: false });
    const specs = e.assume_recompute ? e.assume_recompute.map((m) => `${e.plan},recompute=${m}`) : [e.plan];
    for (const spec of specs) {
      const plan = parsePlanSpec(spec, jc.job, jc.shape);
      assert.deepEqual(checkPlan(jc.job, jc.shape, plan).map((v) => v.rule), [], `${e.id}: --plan ${spec}`);
    }
  }
});

test('moefold score accepts the fixtures: the DeepSeek-V3 layout run, an accounted split, a CP run', () => {
  const cases: [string, RegExp][] = [
    ['mb2509-dsv3-1024', /layout Et\|\(tt\|\)\*30mL, first\/last stage 7\/6 layers/],
    ['mb2509-llama31-405b-1024', /embedding and loss counted as pipeline layers, first\/last stage 15\/15 layers/],
    ['nemo2407-llama3-70b-64', /CP2/],
  ];
  for (const [id, header] of cases) {
    const e = entry(id);
    const r = moefold('score', path.join('fixtures', 'accuracy', e.job), '--plan', e.plan);
    assert.equal(r.status, 0, `${id}: ${r.stderr}`);
    assert.match(r.stdout.split('\n').slice(0, 3).join('\n'), header, id);
  }
});
