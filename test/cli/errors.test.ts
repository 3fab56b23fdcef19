import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { moefold } from './run-cli.js';

const MIXTRAL = 'fixtures/models/mixtral-8x22b.yaml';

function assertInputError(r: ReturnType<typeof moefold>, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '');
}

test('missing job file: exit 2, one line naming the file', () => {
  const r = moefold('tune', 'no/such/job.yaml', '--gpus', '8');
  assertInputError(r, /no\/such\/job\.yaml/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('gpus not a multiple of gpus per node: exit 2 naming the field', () => {
  assertInputError(moefold('tune', MIXTRAL, '--gpus', '12'), /gpus/);
});

test('unknown GPU: exit 2 listing the calibrations', () => {
  assertInputError(moefold('tune', MIXTRAL, '--gpus', '128', '--gpu', 'a100'), /h100-sxm/);
});

test('bad --fix: exit 2 naming the option', () => {
  assertInputError(moefold('tune', MIXTRAL, '--gpus', '128', '--fix', 'tq=2'), /--fix/);
});

test('unknown option: exit 2', () => {
  assertInputError(moefold('tune', MIXTRAL, '--gpus', '128', '--bogus'), /bogus/);
});

test('score refuses an invalid plan with the rules it breaks', () => {
  assertInputError(moefold('score', MIXTRAL, '--gpus', '128', '--plan', 'tp=2,pp=8,ep=16,etp=1'), /experts-divisible-by-ep/);
});

test('score prints one plan; JSON has the plan object shape', () => {
  const r = moefold('score', MIXTRAL, '--gpus', '128', '--plan', 'tp=2,pp=8,vpp=7,ep=8,etp=1', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  assert.deepEqual([p.mapping.tp, p.mapping.pp, p.mapping.vpp, p.mapping.ep, p.mapping.etp, p.mapping.dp, p.mapping.edp], [2, 8, 7, 8, 1, 8, 2]);
  assert.equal(p.sequence_parallel, true);
  assert.equal(p.estimate.fits, true);
});

test('a job no mapping can serve explains which rules removed everything, exit 2', () => {
  const r = moefold('tune', MIXTRAL, '--gpus', '128', '--global-batch-size', '100', '--fix', 'tp=1,cp=1,pp=1,mbs=1');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /0 valid/);
  assert.match(r.stderr, /gbs-divisible-by-mbs-dp\s+288/);
  assert.match(r.stderr, /multiple of 1×128 = 128/);
});

test('export of a missing plans file: exit 2', () => {
  assertInputError(moefold('export', 'nope/plans.json', '--format', 'megatron'), /nope\/plans\.json/);
});

test('more GPUs per node than the calibration\'s NVLink domain is refused, naming where the value came from', () => {
  const msg = (where: string): string => `${where}: 16 GPUs per node, but the h100-sxm calibration describes nodes of 8 `
    + 'NVLink-connected GPUs (network.nvlink_domain_gpus): use at most 8, or a calibration of your node\n';
  for (const cmd of [['tune', MIXTRAL], ['score', MIXTRAL, '--plan', 'tp=2,pp=8,ep=8']]) {
    const r = moefold(...cmd, '--gpus', '128', '--gpus-per-node', '16');
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, msg(`${MIXTRAL}: --gpus-per-node`));
  }
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-node-'));
  fs.writeFileSync(path.join(d, 'cl16.yaml'), 'gpu: h100-sxm\ngpus: 128\ngpus_per_node: 16\n');
  fs.writeFileSync(path.join(d, 'job.yaml'), `model: ${path.join(REPO_ROOT, MIXTRAL)}\ncluster: cl16.yaml\n`);
  const r = moefold('tune', path.join(d, 'job.yaml'));
  assert.equal(r.stderr, msg(`${path.join(d, 'cl16.yaml')}: gpus_per_node`), 'the cluster file and its field');
  assert.equal(moefold('tune', MIXTRAL, '--gpus', '128', '--gpus-per-node', '4', '--dry-run').status, 0, 'smaller nodes are fine');
});

test('an I/O failure that is not bad input still ends with one line and exit 2, not an internal error', () => {
  const r = moefold('tune', '/proc/self/mem', '--gpus', '8');
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.doesNotMatch(r.stderr, /internal error/);
});

test('a command option given no value, an empty value or a bad number is one line and exit 2 (not its default)', () => {
  const cases: [string[], string][] = [
    [['tune', MIXTRAL, '--gpus', '128', '--top'], '--top: needs a value (an integer from 1 to 1000)\n'],
    [['tune', MIXTRAL, '--gpus', '128', '--top', '', '--dry-run'], '--top: needs a value (an integer from 1 to 1000)\n'],
    [['tune', MIXTRAL, '--gpus', '128', '--workers', '--quiet'], '--workers: needs a value (an integer from 0 to 1024)\n'],
    [['tune', MIXTRAL, '--gpus', '128', '--top', '3', '--explain', '4'], '--explain: must be an integer from 1 to 3 (got "4")\n'],
    [['tune', MIXTRAL, '--gpus', '128', '--top', '2.5'], '--top: must be an integer from 1 to 1000 (got "2.5")\n'],
    [['check', 'fixtures/ci', '--tolerance'], '--tolerance: needs a value (a number from 0 to 0.99)\n'],
    [['check', 'fixtures/ci', '--rank', 'x'], '--rank: must be an integer from 1 to 1000 (got "x")\n'],
    [['export', 'no-such-plans.json', '--format', 'json', '--rank'], '--rank: needs a value (an integer from 1 to 1000)\n'],
  ];
  for (const [args, msg] of cases) {
    const r = moefold(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, msg, args.join(' '));
  }
});

test('text from the command line or a file name never breaks the one-line message or reaches the terminal raw', () => {
  for (const args of [
    ['tune', MIXTRAL, '--gpus', '128', '--fix', 'a\nb\u001b[31m=1'],
    ['tune', '/nonexist\n::error file=x::INJECTED\u001b[31m.yaml', '--gpus', '8'],
    ['score', MIXTRAL, '--gpus', '128', '--plan', 'tp=2\u202e,x\r=1'],
  ]) {
    const r = moefold(...args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
    assert.doesNotMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f\u202e]/, JSON.stringify(r.stderr));
  }
});

test('--fix and --plan refuse object-method names (__proto__, constructor) as unknown keys', () => {
  const M = 'fixtures/models/mixtral-8x7b.yaml';
  for (const k of ['__proto__', 'constructor', 'toString']) {
    assertInputError(moefold('tune', M, '--gpus', '64', '--fix', `${k}=1`, '--dry-run'), new RegExp(`--fix: ${k}: unknown dimension`));
    assertInputError(moefold('score', M, '--gpus', '64', '--plan', `${k}=1`), new RegExp(`--plan: ${k}: unknown field`));
  }
});

test('options given no value (empty, written last, or before another flag) are refused before any search', () => {
  const M = 'fixtures/models/mixtral-8x7b.yaml';
  const B = 'fixtures/ci/llama3-70b-64.baseline.json';
  const cases: [args: string[], message: RegExp][] = [
    [['tune', M, '--gpus', '64', '--fix'], /^--fix: needs a value \(/],
    [['tune', M, '--gpus', '64', '--fix', ''], /^--fix: needs a value \(/],
    [['tune', M, '--gpus', '64', '--format'], /^--format: needs a value \(one of table, json, yaml\)/],
    [['tune', M, '--gpus', '64', '--objective'], /^--objective: needs a value \(one of throughput, memory\)/],
    [['tune', M, '--gpus', '64', '--objective', 'speed'], /^--objective: must be one of throughput, memory \(got "speed"\)/],
    [['tune', M, '--gpus', '64', '--out', ''], /^--out: needs a value \(/],
    [['tune', M, '--gpus', '64', '--out', 'x', '--export'], /^--export: needs a value \(launch formats/],
    [['tune', M, '--gpus', '64', '--space', ''], /^--space: needs a value \(/],
    [['check', M, '--baseline', B, '--junit'], /^--junit: needs a value \(/],
    [['check', M, '--baseline', B, '--junit', ''], /^--junit: needs a value \(/],
    [['check', M, '--baseline', B, '--format'], /^--format: needs a value \(one of text, json\)/],
    [['check', M, '--baseline', B, '--baseline'], /^--baseline: given more than once/],
    [['check', M, '--baseline', B, '--fix', ''], /^--fix: needs a value \(/],
    [['export', B, '--format', 'slurm', '-o'], /^-o\/--output: needs a value \(/],
    [['export', B, '--format', 'slurm', '-o', ''], /^-o\/--output: needs a value \(/],
    [['score', M, '--gpus', '64', '--plan', 'tp=1', '--format'], /^--format: needs a value \(one of table, json, yaml\)/],
  ];
  for (const [args, message] of cases) {
    const r = moefold(...args);
    assertInputError(r, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
  }
});
