/**
 * Where the output goes: a closed pipe, a full disk, an output folder that cannot be used, two runs into one
 * folder, and the help text's layout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { LOCK_FILE } from '../../src/io/out-dir.js';
import { moefold } from './run-cli.js';

const MIXTRAL = 'fixtures/models/mixtral-8x22b.yaml';
const SLICE = ['--gpus', '128', '--fix', 'tp=2,recompute=none,pp=8', '--quiet'];
const BIN = path.join(REPO_ROOT, 'bin/moefold.js');

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-out-'));
}

/** Every file below `dir`, relative, sorted (hidden ones included). */
function listAll(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** Runs moefold with stdout into a pipe that is closed after the first chunk, as `| head -1` does. */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

for (const format of ['json', 'yaml', 'table']) {
  test(`a closed stdout ends tune --format ${format} quietly with exit 0`, async () => {
    const r = await runIntoClosedPipe(['tune', MIXTRAL, ...SLICE, '--format', format, '--top', '100']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });
}

test('a closed stdout during --help is quiet too', async () => {
  const r = await runIntoClosedPipe(['tune', '--help']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
});

test('stdout onto a full disk: one line and exit 2', () => {
  const fd = fs.openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, 'tune', MIXTRAL, ...SLICE, '--format', 'json'], { cwd: REPO_ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'moefold: cannot write the output: no space left on the device (ENOSPC)\n');
  } finally {
    fs.closeSync(fd);
  }
});

test('--out under /proc is refused at once, before the search (no spin)', () => {
  const t0 = Date.now();
  const r = moefold('tune', MIXTRAL, '--gpus', '128', '--out', '/proc/moefold-test/x');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, '--out: cannot use folder /proc/moefold-test/x (no such folder (ENOENT))\n');
  assert.equal(r.stdout, '', 'nothing searched or printed');
  assert.ok(Date.now() - t0 < 30_000);
});

test('--out through a file, or naming a file: exit 2 before the search', () => {
  const d = tmpDir();
  fs.writeFileSync(path.join(d, 'f'), 'x');
  const a = moefold('tune', MIXTRAL, ...SLICE, '--out', path.join(d, 'f', 'sub'));
  assert.equal(a.status, 2);
  assert.match(a.stderr, /^--out: cannot use folder .*f\/sub \(a part of the path is a file, not a folder \(ENOTDIR\)\)\n$/);
  const b = moefold('tune', MIXTRAL, ...SLICE, '--out', path.join(d, 'f'));
  assert.equal(b.status, 2);
  assert.equal(b.stderr, `--out: ${path.join(d, 'f')} is not a folder\n`);
  assert.equal(a.stdout + b.stdout, '');
});

test('--out creates missing levels, but not an absurd number of them', () => {
  const d = tmpDir();
  const ok = moefold('tune', MIXTRAL, ...SLICE, '--top', '1', '--out', path.join(d, 'a', 'b', 'c'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(fs.readdirSync(path.join(d, 'a', 'b', 'c')).sort(), ['plan-1.torchrun.sh', 'plans.json']);
  const deep = path.join(d, ...Array.from({ length: 40 }, (_, i) => `l${i}`));
  const r = moefold('tune', MIXTRAL, ...SLICE, '--out', deep);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /would create more than 16 new folder levels/);
  assert.deepEqual(fs.readdirSync(d), ['a']);
});

test('a failed write leaves no partial and no temporary file', () => {
  const d = tmpDir();
  // plans.json is a non-empty folder: its rename fails after every temporary file was written.
  fs.mkdirSync(path.join(d, 'plans.json', 'inner'), { recursive: true });
  const r = moefold('tune', MIXTRAL, ...SLICE, '--top', '2', '--out', d);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^--out: .*plans\.json: cannot write \(/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  assert.deepEqual(listAll(d), ['plans.json', path.join('plans.json', 'inner')]);
});

test('two runs into one folder: the second is refused while the first holds it; a stale lock is taken over', () => {
  const d = tmpDir();
  const holder = spawn('sleep', ['30']);
  try {
    fs.writeFileSync(path.join(d, LOCK_FILE), `${holder.pid}\n`);
    const r = moefold('tune', MIXTRAL, ...SLICE, '--top', '1', '--out', d);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `--out: ${d} is being written by another moefold run (pid ${holder.pid}); `
      + `wait for it, use another folder, or remove ${path.join(d, LOCK_FILE)} if that process is not moefold\n`);
    assert.deepEqual(fs.readdirSync(d), [LOCK_FILE]);
  } finally {
    holder.kill();
  }
  // A lock whose process is gone (pid beyond any pid_max) is stale.
  fs.writeFileSync(path.join(d, LOCK_FILE), '99999999\n');
  const ok = moefold('tune', MIXTRAL, ...SLICE, '--top', '1', '--out', d);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(fs.readdirSync(d).sort(), ['plan-1.torchrun.sh', 'plans.json'], 'the lock is removed after the run');
});

test('export -o onto an unwritable place: one line, exit 2, nothing left', () => {
  const d = tmpDir();
  const t = moefold('tune', MIXTRAL, ...SLICE, '--top', '1', '--out', d);
  assert.equal(t.status, 0, t.stderr);
  const r = moefold('export', path.join(d, 'plans.json'), '--format', 'slurm', '-o', '/dev/full/train.sbatch');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, '--output: /dev/full/train.sbatch: cannot write (a part of the path is a file, not a folder (ENOTDIR))\n');
  const ok = moefold('export', path.join(d, 'plans.json'), '--format', 'slurm', '-o', path.join(d, 'train.sbatch'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(fs.statSync(path.join(d, 'train.sbatch')).mode & 0o777, 0o755);
  assert.deepEqual(fs.readdirSync(d).sort(), ['plan-1.torchrun.sh', 'plans.json', 'train.sbatch']);
});

test('help text wraps on word boundaries in a narrow terminal', () => {
  const r = spawnSync('script', ['-qc', `stty cols 90; ${process.execPath} ${BIN} tune --help`, '/dev/null'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.error) return; // no `script` (util-linux) on this machine: nothing to run the CLI on a terminal with
  const lines = r.stdout.replace(/\r/g, '').split('\n');
  assert.ok(lines.some((l) => l.includes('--gpu ')), r.stdout);
  for (const l of lines) assert.ok(l.length <= 90, `line wider than the terminal: ${JSON.stringify(l)}`);
  // The calibration list stays whole words: the ES-module build of yargs' layout broke "h100-sxm" into "h" / "100-sxm".
  assert.doesNotMatch(r.stdout, /\bh\r?\n\s*\d00-sxm/);
  for (const gpu of ['h100-sxm', 'h200-sxm']) assert.ok(r.stdout.includes(gpu), gpu);
});

test('suspicious but valid inputs: one warning line each on stderr, the run goes on', () => {
  // 524,288 is a common batch in tokens (0.5 M), typed as sequences
  const tokens = moefold('tune', MIXTRAL, '--gpus', '128', '--global-batch-size', '524288', '--dry-run');
  assert.equal(tokens.status, 0);
  assert.equal(tokens.stderr, `moefold: warning: ${MIXTRAL}: global_batch_size 524288 sequences × 4096 tokens = 2.1 B tokens per step: `
    + 'global_batch_size counts sequences, not tokens (published batches are at most about 60 M tokens)\n');
  const odd = moefold('tune', MIXTRAL, '--gpus', '128', '--global-batch-size', '1001', '--dry-run');
  assert.equal(odd.status, 0);
  assert.match(odd.stderr, /^moefold: warning: .*global_batch_size 1001 and 128 GPUs share no factor, so every plan has data-parallel size 1/);
  const fine = moefold('tune', MIXTRAL, '--gpus', '128', '--dry-run');
  assert.equal(fine.stderr, '');
});

test('--out removes only its own stale launch configs, never other files that start with "plan-"', () => {
  const d = tmpDir();
  for (const f of ['plan-2024.pdf', 'plan-1.notes.md', 'plan-7.torchrun.sh', 'plan-9.torchtitan.toml.refused.txt']) fs.writeFileSync(path.join(d, f), 'x');
  const r = moefold('tune', MIXTRAL, ...SLICE, '--top', '1', '--out', d);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(d).sort(), ['plan-1.notes.md', 'plan-1.torchrun.sh', 'plan-2024.pdf', 'plans.json'],
    'the stale plan-7 / plan-9 exports go, the user\'s files stay');
});

test('a symbolic link in place of an output file is replaced, never followed to its target', () => {
  const d = tmpDir();
  const victim = path.join(d, 'victim.txt');
  fs.writeFileSync(victim, 'precious\n');
  const out = path.join(d, 'out');
  fs.mkdirSync(out);
  fs.symlinkSync(victim, path.join(out, 'plans.json'));
  fs.symlinkSync(victim, path.join(out, 'plan-1.torchrun.sh'));
  const r = moefold('tune', MIXTRAL, ...SLICE, '--top', '1', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
  assert.equal(fs.lstatSync(path.join(out, 'plans.json')).isSymbolicLink(), false);
  const link = path.join(d, 'train.sbatch');
  fs.symlinkSync(victim, link);
  const e = moefold('export', path.join(out, 'plans.json'), '--format', 'slurm', '-o', link);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
  assert.match(fs.readFileSync(link, 'utf8'), /^#!\/usr\/bin\/env bash/);
});

test('-o onto a pipe that nobody reads is one line and exit 2, not a hang', () => {
  const d = tmpDir();
  const t = moefold('tune', MIXTRAL, ...SLICE, '--top', '1', '--out', d);
  assert.equal(t.status, 0, t.stderr);
  const fifo = path.join(d, 'fifo');
  const mk = spawnSync('mkfifo', [fifo]);
  if (mk.status !== 0) return; // no mkfifo here
  const r = moefold('export', path.join(d, 'plans.json'), '--format', 'torchrun', '-o', fifo);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `--output: ${fifo}: cannot write (a pipe that no process reads (ENXIO))\n`);
});
