/**
 * Hostile input through the real CLI (bin/moefold.js): each case must end in bounded time and memory with ONE
 * line on stderr and exit code 2, the line at most ~300 characters and never holding the content of a file
 * that is not a job (a token file, /etc/passwd, /etc/hostname).
 *
 * The children run with a small V8 heap and a 10 s timeout, so an input that expands, hangs or allocates
 * gigabytes fails here instead of slowing the suite down.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { loadJob } from '../../src/job/load-job.js';
import { tempWriter } from './temp-files.js';

process.chdir(REPO_ROOT);
const BIN = path.join(REPO_ROOT, 'bin/moefold.js');
const TIMEOUT_MS = 10_000;
const MAX_LINE = 300;

interface Run { status: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

/** Runs moefold from the repository root with a 10 s limit and a 256 MB V8 heap; resolves when it ends or is killed. */
function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--max-old-space-size=256', BIN, ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    const cap = (s: string, d: Buffer): string => (s.length < 1 << 20 ? s + d.toString('utf8') : s);
    child.stdout.on('data', (d: Buffer) => { stdout = cap(stdout, d); });
    child.stderr.on('data', (d: Buffer) => { stderr = cap(stderr, d); });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Exit 2, in time, one short line on stderr that holds none of `secrets` (and matches `expect` when given). */
function assertOneLine(r: Run, expect?: RegExp | string, secrets: readonly string[] = []): void {
  assert.ok(r.signal === null, `killed by ${r.signal} after ${r.ms} ms (timeout or memory); stderr: ${r.stderr.slice(0, 300)}`);
  assert.equal(r.status, 2, `exit ${r.status}; stderr: ${r.stderr.slice(0, 300)}`);
  assert.ok(r.ms < TIMEOUT_MS, `took ${r.ms} ms`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got ${lines.length}: ${r.stderr.slice(0, 300)}`);
  const line = lines[0];
  assert.ok(line.length <= MAX_LINE, `stderr line of ${line.length} characters: ${line.slice(0, 300)}…`);
  assert.ok(!line.includes('internal error'), line);
  if (typeof expect === 'string') assert.equal(line, expect);
  else if (expect !== undefined) assert.match(line, expect);
  for (const s of secrets) assert.ok(!line.includes(s), `stderr shows file content ${JSON.stringify(s)}: ${line}`);
}

const { dir: tmp, write } = tempWriter('moefold-hostile-');

/** `&a8 [&a7 [… &a0 [1 ×8], *a0 ×7] …]`: 8^levels leaves from a few hundred bytes. */
function aliasBomb(levels = 9): string {
  let s = '&a0 [1, 1, 1, 1, 1, 1, 1, 1]';
  for (let k = 1; k < levels; k++) s = `&a${k} [${s}${`, *a${k - 1}`.repeat(7)}]`;
  return s;
}

const DENSE = 'model:\n  num_layers: 4\n  hidden_size: 1024\n  num_attention_heads: 8\n  vocab_size: 32000\n';
const JOB = write('job.yaml', `${DENSE}cluster:\n  gpus: 8\n`);
const CI_JOB = 'fixtures/ci/qwen3-30b-a3b-16.yaml';
const CI_BASELINE = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'fixtures/ci/qwen3-30b-a3b-16.baseline.json'), 'utf8')) as Record<string, unknown>;
const TOKEN = 'ghp_NOT_A_REAL_TOKEN_0123456789';
const TOKEN_FILE = write('secrets/token.txt', `${TOKEN}abcdef\nsecond line\n`);
const SPACE_OK = fs.readFileSync(path.join(REPO_ROOT, 'search-spaces/default.yaml'), 'utf8');
const hostname = fs.existsSync('/etc/hostname') ? fs.readFileSync('/etc/hostname', 'utf8').trim() : '';
const passwdLine = fs.existsSync('/etc/passwd') ? (fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0] ?? '') : '';
const etcSecrets = [hostname, passwdLine, 'root:x:0:0'].filter((s) => s.length >= 4);

const baseline = (name: string, change: Record<string, unknown>): string =>
  write(name, JSON.stringify({ ...CI_BASELINE, ...change }, null, 2));

describe('hostile input: one line, exit 2, bounded time and memory', { concurrency: Math.max(2, Math.min(8, os.availableParallelism())) }, () => {
  // YAML alias bombs and deep nesting.
  test('alias bomb in an integer field', async () => {
    assertOneLine(await run('tune', 'fixtures/bad/alias-bomb-int.yaml', '--dry-run'), /model\.num_layers: must be an integer/);
  });
  test('alias bomb in moe_layer_freq', async () => {
    assertOneLine(await run('tune', 'fixtures/bad/alias-bomb-layer-freq.yaml', '--dry-run'), /model\.moe_layer_freq: /);
  });
  test('alias bomb in a --space file', async () => {
    const space = write('bomb-space.yaml', SPACE_OK.replace(/^tp: .*$/m, `tp: [${aliasBomb()}]`));
    assertOneLine(await run('tune', JOB, '--space', space, '--dry-run'), new RegExp(`${space}: tp: `));
  });
  test('100,000 nested [ in a job file', async () => {
    const f = write('deep.yaml', `model: ${'['.repeat(100_000)}\n`);
    assertOneLine(await run('tune', f, '--dry-run'));
  });
  test('100,000 nested [ in a plans file', async () => {
    const f = write('deep.json', `{"model": ${'['.repeat(100_000)}${']'.repeat(100_000)}, "training": {}, "cluster": {}, "plans": []}`);
    assertOneLine(await run('export', f, '--format', 'megatron'));
  });
  test('moe_layer_freq expression of a billion entries', async () => {
    assertOneLine(await run('tune', 'fixtures/bad/layer-freq-huge.yaml', '--dry-run'), /model\.moe_layer_freq: /);
  });

  // Files that are not job files.
  test('a 100 MB job file', async () => {
    const f = path.join(tmp, 'big.yaml');
    const fd = fs.openSync(f, 'w');
    fs.writeSync(fd, 'model:\n  num_layers: 4\n# ');
    fs.ftruncateSync(fd, 100 * 1024 * 1024); // sparse: fast to make
    fs.closeSync(fd);
    assertOneLine(await run('tune', f, '--dry-run'), /big\.yaml: .*larger than/);
  });
  test('/dev/zero as the job', async () => {
    assertOneLine(await run('tune', '/dev/zero', '--dry-run'), /^\/dev\/zero: /);
  });
  test('model: /dev/zero in a job file', async () => {
    assertOneLine(await run('tune', write('dev-model.yaml', 'model: /dev/zero\ncluster: {gpus: 8}\n'), '--dry-run'), /dev\/zero/);
  });
  test('cluster: /dev/zero in a job file', async () => {
    assertOneLine(await run('tune', write('dev-cluster.yaml', `${DENSE}cluster: /dev/zero\n`), '--dry-run'), /dev\/zero/);
  });
  test('a FIFO as the job ends at once', async () => {
    const fifo = path.join(tmp, 'job.fifo');
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo here
    assertOneLine(await run('tune', fifo, '--dry-run'), /job\.fifo: /);
  });
  test('model: a token file: its content is not printed', async () => {
    const job = write('token-model.yaml', `model: ${TOKEN_FILE}\ncluster: {gpus: 8}\n`);
    assertOneLine(await run('tune', job, '--dry-run'), /must be a mapping/, [TOKEN, 'second line']);
  });
  test('non-UTF-8 bytes are refused in one line', async () => {
    assertOneLine(await run('tune', 'fixtures/bad/not-utf8.yaml', '--dry-run'), /not-utf8\.yaml: .*UTF-8/);
  });
  test('duplicate keys', async () => {
    assertOneLine(await run('tune', 'fixtures/bad/duplicate-key.yaml', '--dry-run'), /duplicated mapping key/);
  });

  // Prototype keys.
  test('__proto__ key in a job file', async () => {
    assertOneLine(await run('tune', 'fixtures/bad/proto-key.yaml', '--dry-run'), /__proto__/);
  });
  test('constructor key in a cluster mapping', async () => {
    assertOneLine(await run('tune', 'fixtures/bad/constructor-key.yaml', '--dry-run'), /constructor/);
  });
  test('__proto__ key in a plans file', async () => {
    const f = write('proto.json', JSON.stringify(CI_BASELINE).replace('"cluster":{', '"cluster":{"__proto__":{"gpus":8},'));
    assertOneLine(await run('export', f, '--format', 'megatron'), /__proto__/);
  });
  test('__proto__ key in a space file', async () => {
    const space = write('proto-space.yaml', `${SPACE_OK}__proto__: {tp: 3}\n`);
    assertOneLine(await run('tune', JOB, '--space', space, '--dry-run'), /__proto__/);
  });

  // Numbers (every bad-number fixture is also checked in-process, with its message, in bad-input.test.ts).
  for (const [file, field] of [
    ['too-many-layers.yaml', 'model.num_layers'], ['too-many-gpus.yaml', 'cluster.gpus'],
    ['unsafe-integer.yaml', 'model.ffn_hidden_size'], ['nan.yaml', 'model.num_layers'],
  ] as const) {
    test(`out-of-range number: ${file}`, async () => {
      assertOneLine(await run('tune', `fixtures/bad/${file}`, '--dry-run'), new RegExp(`${file.replace('.', '\\.')}: ${field.replace('.', '\\.')}: must be `));
    });
  }
  for (const v of ['1e16', '1e308', '9007199254740993', '-0']) {
    test(`--gpus ${v}`, async () => {
      assertOneLine(await run('tune', JOB, '--gpus', v, '--dry-run'), /--gpus: must be an integer from 1 to /);
    });
  }

  // Flags given no value (yargs drops a number flag without a value, and reads '' as 0).
  test("--gpus '' is an error", async () => {
    assertOneLine(await run('tune', JOB, '--gpus', '', '--dry-run'), '--gpus: needs a value (an integer from 1 to 1048576)');
  });
  test('--gpus followed by another flag is an error', async () => {
    assertOneLine(await run('tune', JOB, '--gpus', '--dry-run'), '--gpus: needs a value (an integer from 1 to 1048576)');
  });
  for (const flag of ['--gpus', '--seq-length', '--global-batch-size', '--gpus-per-node', '--gpu', '--precision']) {
    test(`${flag} at the end is an error`, async () => {
      assertOneLine(await run('tune', JOB, '--dry-run', flag), new RegExp(`^${flag}: needs a value \\(`));
    });
  }

  // Search-space files.
  test('space file with long lists (vpp 1..2000, mbs 1..5000)', async () => {
    const range = (n: number): string => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`;
    const space = write('long-space.yaml', SPACE_OK.replace(/^vpp: .*$/m, `vpp: ${range(2000)}`)
      .replace(/^micro_batch_size: .*$/m, `micro_batch_size: ${range(5000)}`));
    assertOneLine(await run('tune', JOB, '--space', space, '--dry-run'), new RegExp(`${space}: (vpp|micro_batch_size): `));
  });
  // vpp {auto: true, max: 1e9} and max_first_last_reduction 1e9 (a loop to max, splits growing with its square) are
  // checked in-process in input-bounds.test.ts.

  // Plans files and baselines.
  test('truncated baseline (check)', async () => {
    const text = JSON.stringify(CI_BASELINE, null, 2);
    const f = write('truncated.baseline.json', text.slice(0, Math.floor(text.length / 2)));
    assertOneLine(await run('check', CI_JOB, '--baseline', f, '--workers', '0'), /truncated\.baseline\.json: /);
  });
  test('truncated plans file (export)', async () => {
    const text = JSON.stringify(CI_BASELINE, null, 2);
    const f = write('truncated.json', text.slice(0, Math.floor(text.length / 2)));
    assertOneLine(await run('export', f, '--format', 'megatron'), /truncated\.json: /);
  });
  test('plans file that is not JSON does not quote itself', async () => {
    const f = write('passwd-like.json', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n');
    assertOneLine(await run('export', f, '--format', 'megatron'), /passwd-like\.json: /, ['root:x', 'daemon']);
  });
  test('baseline with model: /etc/passwd', async () => {
    const f = baseline('passwd.baseline.json', { model: '/etc/passwd' });
    assertOneLine(await run('check', CI_JOB, '--baseline', f, '--workers', '0'), /passwd\.baseline\.json: model: /, etcSecrets);
    assertOneLine(await run('export', f, '--format', 'megatron'), /passwd\.baseline\.json: model: /, etcSecrets);
  });
  test('baseline with model: a token file', async () => {
    const f = baseline('token.baseline.json', { model: TOKEN_FILE });
    assertOneLine(await run('export', f, '--format', 'megatron'), /token\.baseline\.json: model: /, [TOKEN, 'second line']);
    const rel = baseline('token-rel.baseline.json', { model: 'secrets/token.txt' });
    assertOneLine(await run('export', rel, '--format', 'megatron'), undefined, [TOKEN, 'second line']);
  });
  test('baseline with model: /dev/zero', async () => {
    const f = baseline('zero.baseline.json', { model: '/dev/zero' });
    assertOneLine(await run('export', f, '--format', 'megatron'), /zero\.baseline\.json: model: /);
  });
  test('baseline with cluster: ../../../etc/hostname', async () => {
    const up = path.relative(tmp, '/etc/hostname'); // ../../etc/hostname from the temp folder
    const f = baseline('hostname.baseline.json', { cluster: up });
    assertOneLine(await run('export', f, '--format', 'megatron'), /hostname\.baseline\.json: cluster: /, etcSecrets);
    const f3 = baseline('hostname3.baseline.json', { cluster: '../../../etc/hostname' });
    assertOneLine(await run('export', f3, '--format', 'megatron'), /hostname3\.baseline\.json: cluster: /, etcSecrets);
  });
  test('baseline with a huge plan field does not print it', async () => {
    const plans = (CI_BASELINE.plans as Record<string, unknown>[]).map((p) => ({ ...p, recompute: 'x'.repeat(100_000) }));
    const f = baseline('huge-field.baseline.json', { plans });
    assertOneLine(await run('export', f, '--format', 'megatron'), /plans\[0\]\.recompute: /);
  });
  test('baseline with a plan of 2^60 pipeline stages', async () => {
    const plans = (CI_BASELINE.plans as Record<string, Record<string, unknown>>[]).map((p) => ({ ...p, mapping: { ...p.mapping, pp: 2 ** 60 } }));
    const f = baseline('pp.baseline.json', { plans });
    assertOneLine(await run('export', f, '--format', 'megatron'), /plans\[0\]\.mapping\.pp: /);
  });
  test('baseline with -0 and a float in the cluster', async () => {
    const f = write('neg-zero.baseline.json', JSON.stringify(CI_BASELINE).replace(/"gpus":16\b/, '"gpus":16.5'));
    assertOneLine(await run('export', f, '--format', 'megatron'), /cluster\.gpus: must be an integer from 1 to /);
    const z = write('neg-zero2.baseline.json', JSON.stringify(CI_BASELINE).replace(/"mtp_num_layers":0\b/, '"mtp_num_layers":-0'));
    assertOneLine(await run('export', z, '--format', 'megatron'), /model\.mtp_num_layers: must be an integer from 0 to .* \(got -0\)/);
  });
});

describe('friendly input still loads', () => {
  test('a UTF-8 BOM is fine', () => {
    const f = write('bom.yaml', `\uFEFF${DENSE}cluster:\n  gpus: 8\n`);
    assert.equal(loadJob(f).model.num_layers, 4);
    const plans = write('bom dir/plans.json', `\uFEFF${JSON.stringify(CI_BASELINE)}`);
    assert.ok(plans);
  });
  test('paths with spaces work (job, model file, cluster file)', async () => {
    write('with space/models dir/my model.yaml', DENSE);
    write('with space/clusters/eight gpus.yaml', 'gpus: 8\n');
    const job = write('with space/jobs/my job.yaml', 'model: "../models dir/my model.yaml"\ncluster: ../clusters/eight gpus.yaml\n');
    const j = loadJob(job);
    assert.equal(j.model.num_layers, 4);
    assert.equal(j.cluster.gpus, 8);
    const r = await run('tune', job, '--dry-run');
    assert.equal(r.status, 0, r.stderr);
  });
  test('a plans file with a BOM exports', async () => {
    const f = write('bom plans.json', `\uFEFF${JSON.stringify(CI_BASELINE)}`);
    const r = await run('export', f, '--format', 'megatron');
    assert.equal(r.status, 0, r.stderr);
  });
  test('loadJob refuses __proto__ as an InputError', () => {
    assert.throws(() => loadJob('fixtures/bad/proto-key.yaml'), (e: unknown) => e instanceof InputError && /__proto__/.test(e.message));
  });
});
