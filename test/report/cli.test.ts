/**
 * `moefold report` as a user runs it: the file it writes, the sweep it reads, and every refusal (one line on
 * stderr, exit 2, no file written).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { moefold } from '../cli/run-cli.js';
import { readSweepFile } from '../../src/report/sweep-file.js';
import { REPO_ROOT } from '../../src/paths.js';
import { MIXTRAL, SLICE, SWEEP_FIXTURE } from './results.js';

const BASE = ['--gpus', '128', '--fix', SLICE, '--workers', '0', '--quiet'];
const FAST = [...BASE, '--top', '5'];

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-report-'));
}

/** A copy of the fixture sweep with one change, written to a temporary file. */
function brokenSweep(dir: string, change: (s: Record<string, any>) => void): string {
  const s = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, SWEEP_FIXTURE), 'utf8'));
  change(s);
  const file = path.join(dir, 'sweep.json');
  fs.writeFileSync(file, JSON.stringify(s));
  return file;
}

test('report writes one HTML file, says what it holds, and leaves no temporary file', () => {
  const dir = tmpDir();
  const out = path.join(dir, 'report.html');
  const r = moefold('report', MIXTRAL, ...FAST, '-o', out, '--sweep', SWEEP_FIXTURE);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<\/html>\n$/);
  assert.equal((html.match(/<svg /g) ?? []).length, 6, 'scatter, zoom, two scaling curves, two breakdowns');
  assert.match(r.stdout, new RegExp(`^wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ KiB\\): 5 plans, a Pareto front of \\d+, the scaling curve of 9 sweep points\\n$`));
  assert.deepEqual(fs.readdirSync(dir), ['report.html']);
});

test('report --no-timing writes the same page byte for byte run to run', () => {
  const dir = tmpDir();
  const a = path.join(dir, 'a.html');
  const b = path.join(dir, 'b.html');
  assert.equal(moefold('report', MIXTRAL, ...FAST, '--no-timing', '-o', a).status, 0);
  assert.equal(moefold('report', MIXTRAL, ...FAST, '--no-timing', '-o', b).status, 0);
  assert.equal(fs.readFileSync(a, 'utf8'), fs.readFileSync(b, 'utf8'));
});

const refusals: [string, (dir: string) => string[], RegExp][] = [
  ['no -o', () => [], /^-o: missing: give the HTML file to write the report into/],
  ['-o without a value', () => ['-o', ''], /^-o: needs a value/],
  ['-o a folder', (dir) => ['-o', dir], /^-o: .*: is a folder; give the path of the HTML file to write/],
  ['-o inside a folder that does not exist', (dir) => ['-o', path.join(dir, 'nope', 'r.html')], /^-o: .*: cannot write \(no such folder \(ENOENT\)\)$/],
  ['-o below a file', () => ['-o', path.join(REPO_ROOT, MIXTRAL, 'r.html')], /^-o: .*: cannot write \(a part of the path is a file, not a folder \(ENOTDIR\)\)$/],
  ['--sweep that does not exist', (dir) => ['-o', path.join(dir, 'r.html'), '--sweep', path.join(dir, 'none.json')], /none\.json: file not found/],
  ['--sweep that is not JSON', (dir) => ['-o', path.join(dir, 'r.html'), '--sweep', path.join(REPO_ROOT, MIXTRAL)], /mixtral-8x22b\.yaml: not valid JSON \(an unexpected character\)$/],
  ['--sweep with a bad GPU count', (dir) => ['-o', path.join(dir, 'r.html'), '--sweep', brokenSweep(dir, (s) => { s.points[2].gpus = 'x'; })],
    /sweep\.json: points\[2\]\.gpus: must be an integer from 1 to 1048576 \(got "x"\)$/],
  ['--sweep without points', (dir) => ['-o', path.join(dir, 'r.html'), '--sweep', brokenSweep(dir, (s) => { s.points = []; })],
    /sweep\.json: points: must be a non-empty list of sweep points \(got \[\]\)$/],
  ['--sweep whose best plan has no throughput', (dir) => ['-o', path.join(dir, 'r.html'), '--sweep', brokenSweep(dir, (s) => { delete s.points[1].best.estimate.tokens_per_s_per_gpu; })],
    /sweep\.json: points\[1\]\.best\.estimate\.tokens_per_s_per_gpu: must be a number >= 0 \(got nothing\)$/],
  ['--sweep a plans file', (dir) => ['-o', path.join(dir, 'r.html'), '--sweep', path.join(REPO_ROOT, 'fixtures/ci/mixtral-8x22b-128.baseline.json')],
    /baseline\.json: (tokens|points): must be/],
];

refusals.push(['-o the job file itself', () => ['-o', MIXTRAL], /^-o: fixtures\/models\/mixtral-8x22b\.yaml: is the job file; give another path for the report$/]);
refusals.push(['--top 0', (dir) => ['-o', path.join(dir, 'r.html'), '--top', '0'], /^--top: must be an integer from 1 to 1000 \(got "0"\)$/]);

for (const [what, args, message] of refusals) {
  test(`report refuses ${what}: one line, exit 2, no file`, () => {
    const dir = tmpDir();
    const given = args(dir);
    const r = moefold('report', MIXTRAL, ...(given.includes('--top') ? BASE : FAST), ...given);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), message);
    const left = fs.readdirSync(dir).filter((f) => f !== 'sweep.json' && f !== 'nope');
    assert.deepEqual(left, [], 'nothing written');
  });
}

test('the fixture sweep follows SweepJson: it reads back as written', () => {
  const s = readSweepFile(path.join(REPO_ROOT, SWEEP_FIXTURE));
  assert.equal(s.points.length, 9);
  assert.equal(s.points.filter((p) => p.best === null).length, 1);
  for (const p of s.points) {
    if (p.best === null) continue;
    assert.ok(p.time_to_train_s !== null && p.gpu_hours !== null);
    const t = s.tokens / (p.best.estimate.tokens_per_s_per_gpu * p.gpus);
    assert.ok(Math.abs(p.time_to_train_s - t) / t < 1e-5, 'time = tokens ÷ (tokens/s/GPU × GPUs)');
    assert.ok(Math.abs(p.gpu_hours - (t * p.gpus) / 3600) / p.gpu_hours < 1e-5, 'GPU-hours = time × GPUs ÷ 3600');
  }
});

test('report --sweep of another model: drawn as it is, with one warning naming both models', () => {
  const dir = tmpDir();
  const out = path.join(dir, 'other.html');
  const r = moefold('report', 'fixtures/models/mixtral-8x7b.yaml', '--gpus', '16', '--top', '3', '--workers', '0', '--quiet',
    '--sweep', SWEEP_FIXTURE, '-o', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^moefold: warning: --sweep: .* is a sweep of Mixtral-8x22B, not of Mixtral-8x7B: its scaling curve is drawn as it is\n$/);
  assert.ok(fs.existsSync(out));
  fs.rmSync(dir, { recursive: true, force: true });
});
