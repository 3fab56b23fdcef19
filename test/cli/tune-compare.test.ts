/**
 * tune --compare / --sensitivity / --report (issue 15): the same counts and renderers as `score --rank` and
 * `moefold report`, wired into one tune run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { moefold } from './run-cli.js';

const MIXTRAL = 'fixtures/models/mixtral-8x22b.yaml';
const ZOO_PLAN = 'tp=2,pp=8,vpp=7,ep=8,etp=1';

test('tune --compare counts the same plans as score --rank, and the best it compares with is tune\'s plan 1', () => {
  const t = moefold('tune', MIXTRAL, '--gpus', '128', '--compare', ZOO_PLAN, '--format', 'json', '--quiet', '--workers', '0', '--no-timing');
  assert.equal(t.status, 0, t.stderr);
  const tj = JSON.parse(t.stdout);
  const s = moefold('score', MIXTRAL, '--gpus', '128', '--plan', ZOO_PLAN, '--rank', '--format', 'json', '--quiet', '--workers', '0');
  assert.equal(s.status, 0, s.stderr);
  const sj = JSON.parse(s.stdout);
  assert.deepEqual(tj.compare.rank, sj.rank);
  assert.equal(tj.compare.rank.tolerance, tj.ranking.tie, 'the tolerance is the ranking\'s tie');
  assert.equal(tj.compare.rank.ranked, tj.ranking.ranked);
  assert.deepEqual(tj.compare.best.mapping, tj.plans[0].mapping);
  assert.equal(tj.compare.plan.mapping.tp, 2);
  // the table form says where it ranks and what plan 1 changes
  const table = moefold('tune', MIXTRAL, '--gpus', '128', '--compare', ZOO_PLAN, '--top', '3', '--quiet', '--workers', '0');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`Where the plan ranks \\(throughput\\): rank ${tj.compare.rank.position} of [\\d,]+ plans that fit with 4 GiB free`));
  assert.match(table.stdout, /What it changes: .*→/);
});

test('tune --sensitivity: the neighbours of plan 1, in the table and in JSON', () => {
  const r = moefold('tune', 'fixtures/models/llama3-70b.yaml', '--gpus', '64', '--sensitivity', '--format', 'json', '--quiet', '--workers', '0');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.sensitivity.tokens_per_s_per_gpu, j.plans[0].estimate.tokens_per_s_per_gpu);
  assert.ok(j.sensitivity.neighbours.length >= 6);
  const t = moefold('tune', 'fixtures/models/llama3-70b.yaml', '--gpus', '64', '--sensitivity', '--top', '2', '--quiet', '--workers', '0');
  assert.match(t.stdout, /Sensitivity of plan 1, of tp=/);
  assert.match(t.stdout, /│ tp +│ TP \d+ → \d+/);
});

test('tune --report writes the HTML page of the result; a bad --report or --compare is refused before the search', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-tune-report-'));
  const file = path.join(dir, 'r.html');
  const r = moefold('tune', MIXTRAL, '--gpus', '128', '--report', file, '--top', '3', '--quiet', '--workers', '0');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ KiB\\)`));
  const html = fs.readFileSync(file, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/i);
  assert.match(html, /Pareto front/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 2);
  // refused, one line, exit 2, nothing written
  for (const [args, want] of [
    [['--report', dir], /--report: .*is a folder/],
    [['--compare', 'tp=3'], /--compare: /],
    [['--compare', ZOO_PLAN, '--objective', 'memory'], /--compare: only with --objective throughput/],
    [['--compare', ZOO_PLAN, '--dry-run'], /--dry-run: only counts candidates/],
    [['--wide', '--format', 'json'], /^--wide: only with --format table/],
  ] as [string[], RegExp][]) {
    const b = moefold('tune', MIXTRAL, '--gpus', '128', '--quiet', ...args);
    assert.equal(b.status, 2, `${args.join(' ')}: ${b.stderr}`);
    assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
    assert.match(b.stderr, want);
    assert.equal(b.stdout, '');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
