import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseXml } from '../report/dom.js';
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
  assert.match(xml, /<testsuites name="moefold check" tests="5" failures="0" skipped="0">/);
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
  assert.match(fs.readFileSync(junit, 'utf8'), /<testsuites name="moefold check" tests="6" failures="1" skipped="0">/);
});

// ---- The Qwen3-30B-A3B CI job with its committed baseline, copied into a temp folder --------------------------

const QWEN_JOB = 'fixtures/ci/qwen3-30b-a3b-16.yaml';
const QWEN_BASELINE = 'fixtures/ci/qwen3-30b-a3b-16.baseline.json';
const QWEN_MODEL = 'fixtures/models/qwen3-30b-a3b.yaml';
const QSLICE = ['--fix', 'tp=1,pp=2,ep=8', '--workers', '0']; // a narrow search without a pool: each run about a second

/** Copies the CI job (its model path made absolute, then `editJob` applied) and its baseline as NAME.yaml / NAME.baseline.json. */
function qwenCopy(dir: string, name = 'qwen', editJob: (text: string) => string = (t) => t): { job: string; baseline: string } {
  const job = path.join(dir, `${name}.yaml`);
  const text = fs.readFileSync(path.join(REPO_ROOT, QWEN_JOB), 'utf8').replace('../models/', `${path.join(REPO_ROOT, 'fixtures/models')}/`);
  fs.writeFileSync(job, editJob(text));
  const baseline = path.join(dir, `${name}.baseline.json`);
  fs.copyFileSync(path.join(REPO_ROOT, QWEN_BASELINE), baseline);
  return { job, baseline };
}

/** The Qwen3 model file copied into `dir` with `edit` applied; returns its path. */
function qwenModelCopy(dir: string, edit: (text: string) => string): string {
  const file = path.join(dir, 'model.yaml');
  fs.writeFileSync(file, edit(fs.readFileSync(path.join(REPO_ROOT, QWEN_MODEL), 'utf8')));
  return file;
}

function checkOf(rep: any, name: string, job = 0): any {
  return rep.jobs[job].checks.find((c: any) => c.name === name);
}

/** Exactly one line on stderr, naming `file`, giving the reason, and not an internal error. */
function assertOneLine(stderr: string, file: string, reason: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.ok(lines[0].includes(file), stderr);
  assert.match(lines[0], reason);
  assert.doesNotMatch(lines[0], /internal error/);
}

/** Files in `dir` whose names mark them as temporary. */
function temps(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => /\.tmp-/.test(n));
}

test('check: a baseline made for another GPU count fails as a changed job (exit 1) naming the field; the other checks are skipped', () => {
  const dir = tmp();
  const { job, baseline } = qwenCopy(dir);
  const r = moefold('check', job, '--baseline', baseline, '--gpus', '32', ...QSLICE);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}fail job +.*cluster\.gpus 16 → 32.*rerun with --update if intended/m);
  for (const name of ['valid', 'fits', 'best', 'regression']) {
    assert.match(r.stdout, new RegExp(`^ {2}skip ${name} +.*job changed`, 'm'));
  }
  assert.doesNotMatch(r.stdout, /regression:|a better plan exists|no longer/);
  const j = moefold('check', job, '--baseline', baseline, '--gpus', '32', ...QSLICE, '--format', 'json');
  assert.equal(j.status, 1, j.stderr);
  const rep = JSON.parse(j.stdout);
  assert.equal(rep.passed, false);
  assert.equal(checkOf(rep, 'job').status, 'fail');
  assert.deepEqual(rep.jobs[0].job_changes, [{ field: 'cluster.gpus', baseline: 16, current: 32 }]);
});

test('check: every changed job field is named (baseline → current), in the text, JSON and JUnit reports', () => {
  const dir = tmp();
  const model = qwenModelCopy(dir, (t) => t.replace('num_layers: 48', 'num_layers: 24').replace('name: Qwen3-30B-A3B', 'name: Qwen3-half'));
  const { job, baseline } = qwenCopy(dir, 'qwen', (t) => t.replace(/^model: .*$/m, `model: ${model}`)
    .replace('seq_length: 4096', 'seq_length: 8192').replace('precision: bf16', 'precision: fp8')
    .replace('gpu: h100-sxm', 'gpu: h200-sxm').replace('gpus_per_node: 8', 'gpus_per_node: 4'));
  const junit = path.join(dir, 'report.xml');
  const r = moefold('check', job, '--baseline', baseline, ...QSLICE, '--format', 'json', '--junit', junit);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  const jobCheck = checkOf(rep, 'job');
  assert.equal(jobCheck.status, 'fail');
  const expected = ['model.name Qwen3-30B-A3B → Qwen3-half', 'model.num_layers 48 → 24', 'training.seq_length 4096 → 8192',
    'training.precision bf16 → fp8', 'cluster.gpu h100-sxm → h200-sxm', 'cluster.gpus_per_node 8 → 4'];
  for (const e of expected) assert.ok(jobCheck.message.includes(e), `${e} in: ${jobCheck.message}`);
  assert.deepEqual(rep.jobs[0].job_changes.map((c: any) => c.field),
    ['model.name', 'model.num_layers', 'training.seq_length', 'training.precision', 'cluster.gpu', 'cluster.gpus_per_node']);
  for (const name of ['valid', 'fits', 'best', 'regression']) assert.equal(checkOf(rep, name).status, 'skip', name);
  const suites = parseXml(fs.readFileSync(junit, 'utf8'));
  assert.equal(suites.attributes.failures, '1');
  assert.equal(suites.attributes.skipped, '4');
  const cases = suites.children[0].children;
  assert.equal(cases[0].attributes.name.split(':')[0], 'job');
  const failure = cases[0].children.find((c) => c.name === 'failure');
  assert.ok(failure && failure.attributes.message.includes('cluster.gpu h100-sxm → h200-sxm'), JSON.stringify(cases[0]));
  assert.deepEqual(cases.slice(1).map((c) => c.children[0].name), ['skipped', 'skipped', 'skipped', 'skipped']);
});

test('check --update accepts a changed job: the baseline is rewritten for the current job (exit 0), which then passes', () => {
  const dir = tmp();
  const { job, baseline } = qwenCopy(dir);
  const u = moefold('check', job, '--baseline', baseline, '--gpus', '32', ...QSLICE, '--update');
  assert.equal(u.status, 0, u.stdout + u.stderr);
  assert.match(u.stdout, /baseline updated/);
  assert.match(u.stdout, /job +.*cluster\.gpus 16 → 32/);
  assert.equal(JSON.parse(fs.readFileSync(baseline, 'utf8')).cluster.gpus, 32);
  const r = moefold('check', job, '--baseline', baseline, '--gpus', '32', ...QSLICE);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}pass job /m);
});

test('check DIR: a job changed since its baseline fails as a changed job, the other jobs are still checked (exit 1)', () => {
  const dir = tmp();
  qwenCopy(dir, 'a');
  qwenCopy(dir, 'b', (t) => t.replace('global_batch_size: 512', 'global_batch_size: 1024'));
  const r = moefold('check', dir, ...QSLICE);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS .*a\.yaml/m);
  assert.match(r.stdout, /^FAIL .*b\.yaml/m);
  assert.match(r.stdout, /fail job +.*training\.global_batch_size 512 → 1024/);
});

test('check: a baseline plan that no longer fits is not "pass regression", and "a better plan exists" shows its real throughput', () => {
  const dir = tmp();
  const { job, baseline } = qwenCopy(dir);
  // four times the micro-batch (8 sequences, 8 micro-batches per step), no recompute: the activations outgrow the GPU
  const edited = edit(baseline, (o) => {
    o.plans[0].recompute = 'none'; o.plans[0].micro_batch_size = 8; o.plans[0].num_micro_batches = 8;
  });
  const r = moefold('check', job, '--baseline', edited, ...QSLICE, '--format', 'json');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(checkOf(rep, 'job').status, 'pass');
  const fits = checkOf(rep, 'fits');
  assert.equal(fits.status, 'fail');
  assert.match(fits.message, /no longer fits/);
  assert.match(fits.details.join('\n'), /memory breakdown \(GiB\): weights/);
  const regression = checkOf(rep, 'regression');
  assert.equal(regression.status, 'fail', JSON.stringify(regression));
  assert.match(regression.message, /no longer fits/);
  const best = checkOf(rep, 'best');
  assert.equal(best.status, 'fail');
  assert.doesNotMatch(best.message, / vs 0 tokens/);
  const now = rep.jobs[0].baseline_tokens_per_s_per_gpu_now;
  assert.ok(now > 0);
  assert.ok(best.message.includes(Math.round(now).toLocaleString('en-US')), best.message);
  assert.match(best.message, /does not fit \(peak [\d.]+ GiB > [\d.]+ GiB usable\)/);
});

// ---- Writes: every I/O failure is exit 2 with one line, nothing partial or temporary left ----------------------

test('check --update into a path under a regular file: exit 2, one line naming the file and the reason (ENOTDIR)', () => {
  const dir = tmp();
  const { job } = qwenCopy(dir);
  fs.writeFileSync(path.join(dir, 'a-file'), 'x');
  const target = path.join(dir, 'a-file', 'plans.json');
  const r = moefold('check', job, '--baseline', target, ...QSLICE, '--update');
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assertOneLine(r.stderr, target, /a part of the path is a file, not a folder \(ENOTDIR\)/);
  assert.deepEqual(temps(dir), []);
});

test('check --update onto a folder: exit 2, one line, and the temporary file written beside it is removed', () => {
  const dir = tmp();
  const { job } = qwenCopy(dir);
  const out = path.join(dir, 'out');
  const target = path.join(out, 'plans.json');
  fs.mkdirSync(path.join(target, 'keep'), { recursive: true });
  const r = moefold('check', job, '--baseline', target, ...QSLICE, '--update');
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assertOneLine(r.stderr, target, /is a folder \(EISDIR\)/);
  assert.deepEqual(fs.readdirSync(out), ['plans.json']);
});

test('check DIR --update writes all baselines or none: one that cannot be written leaves the others untouched, exit 2', () => {
  const dir = tmp();
  const a = qwenCopy(dir, 'a');
  const b = qwenCopy(dir, 'b', (t) => t.replace('gpus: 16', 'gpus: 32'));
  fs.rmSync(b.baseline);
  fs.mkdirSync(path.join(b.baseline, 'keep'), { recursive: true }); // b's baseline path is taken by a folder
  const before = fs.readFileSync(a.baseline);
  const r = moefold('check', dir, ...QSLICE, '--update');
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assertOneLine(r.stderr, b.baseline, /is a folder \(EISDIR\)/);
  assert.deepEqual(fs.readFileSync(a.baseline), before, 'a.baseline.json was not rewritten');
  assert.deepEqual(temps(dir), []);
});

test('check --update where even root may not create files (sysfs): exit 2, one line', (t) => {
  if (!fs.existsSync('/sys/kernel')) { t.skip('no /sys'); return; }
  const dir = tmp();
  const { job } = qwenCopy(dir);
  const target = '/sys/moefold-check-test.baseline.json';
  const r = moefold('check', job, '--baseline', target, ...QSLICE, '--update');
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assertOneLine(r.stderr, target, /permission denied \(EACCES\)|read-only file system \(EROFS\)|operation not permitted \(EPERM\)/);
  assert.equal(fs.existsSync(target), false);
});

test('check --update on a full disk (ENOSPC), then on a read-only one (EROFS): exit 2, one line, old baseline intact, no temp file', (t) => {
  const dir = tmp();
  const { job, baseline } = qwenCopy(dir);
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status !== 0) {
    t.skip('needs the right to mount a small tmpfs (root)');
    return;
  }
  try {
    const old = path.join(mnt, 'plans.json');
    fs.copyFileSync(baseline, old);
    const before = fs.readFileSync(old);
    try {
      fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(1 << 20, 1));
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    const full = moefold('check', job, '--baseline', old, ...QSLICE, '--update');
    assert.equal(full.status, 2, full.stdout + full.stderr);
    assertOneLine(full.stderr, old, /no space left on the device \(ENOSPC\)/);
    assert.deepEqual(fs.readFileSync(old), before);
    assert.deepEqual(fs.readdirSync(mnt).sort(), ['filler', 'plans.json']);

    fs.rmSync(path.join(mnt, 'filler'));
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
    const ro = moefold('check', job, '--baseline', old, ...QSLICE, '--update');
    assert.equal(ro.status, 2, ro.stdout + ro.stderr);
    assertOneLine(ro.stderr, old, /read-only file system \(EROFS\)/);
    assert.deepEqual(fs.readFileSync(old), before);
    assert.deepEqual(fs.readdirSync(mnt), ['plans.json']);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('check --junit /dev/full: exit 2, one line (ENOSPC), and /dev/full is still the device, with no temp file beside it', (t) => {
  if (!fs.existsSync('/dev/full')) { t.skip('no /dev/full'); return; }
  const dir = tmp();
  const { job, baseline } = qwenCopy(dir);
  const tempsBefore = temps('/dev');
  const r = moefold('check', job, '--baseline', baseline, ...QSLICE, '--junit', '/dev/full');
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assertOneLine(r.stderr, '/dev/full', /no space left on the device \(ENOSPC\)/);
  assert.ok(fs.statSync('/dev/full').isCharacterDevice());
  assert.deepEqual(temps('/dev'), tempsBefore);
});

test('check --junit cut short by the file-size limit (EFBIG): the old report is left whole, no temp file, exit 2 with one line', () => {
  const dir = tmp();
  const { job, baseline } = qwenCopy(dir);
  const junit = path.join(dir, 'report.xml');
  const old = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="old"/>\n';
  fs.writeFileSync(junit, old);
  // run-cli.ts cannot lower a limit: the CLI is run the same way, under `ulimit -f 1` (512 bytes), which holds for root too.
  const r = spawnSync('sh', ['-c', 'ulimit -f 1 && exec "$0" "$@"', process.execPath, path.join(REPO_ROOT, 'bin/moefold.js'),
    'check', job, '--baseline', baseline, ...QSLICE, '--junit', junit], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assertOneLine(r.stderr, junit, /EFBIG/);
  assert.equal(fs.readFileSync(junit, 'utf8'), old);
  assert.deepEqual(temps(dir), []);
});

// ---- JUnit XML escaping ------------------------------------------------------------------------------------------

test('check DIR --junit: a hostile job file name and model name are escaped, and the report parses with a strict XML parser', () => {
  const dir = tmp();
  const hostile = 'we<ird> & "q" \'s ]]> \u001b end';
  const model = qwenModelCopy(dir, (t) => t.replace('name: Qwen3-30B-A3B', 'name: \'Qwen <3> & "x" ]]> y\''));
  const { job } = qwenCopy(dir, hostile, (t) => t.replace(/^model: .*$/m, `model: ${model}`));
  const junit = path.join(dir, 'report.xml');
  const r = moefold('check', dir, ...QSLICE, '--junit', junit);
  assert.equal(r.status, 1, r.stdout + r.stderr); // the model name changed since the baseline
  const suites = parseXml(fs.readFileSync(junit, 'utf8'));
  const suite = suites.children[0];
  assert.equal(suite.attributes.name, job.replace('\u001b', '\\u001b'));
  const jobCase = suite.children[0];
  assert.ok(jobCase.attributes.classname.includes('we<ird> & "q" \'s ]]>'));
  const failure = jobCase.children.find((c) => c.name === 'failure');
  assert.ok(failure, JSON.stringify(jobCase));
  assert.ok(failure.attributes.message.includes('model.name Qwen3-30B-A3B → Qwen <3> & "x" ]]> y'), failure.attributes.message);
  assert.ok(failure.text.includes('Qwen <3> & "x" ]]> y'));
});
