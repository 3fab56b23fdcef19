import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moefold } from './cli/run-cli.js';

const MIXTRAL = 'fixtures/models/mixtral-8x22b.yaml';
const ZOO_PLAN = 'tp=2,pp=8,vpp=7,ep=8,etp=1';

test('score --rank: JSON has the rank, the best plan and the deltas; pooled and unpooled runs agree', () => {
  const runs = [0, 2].map((w) => moefold('score', MIXTRAL, '--gpus', '128', '--plan', ZOO_PLAN, '--rank', '--format', 'json',
    '--quiet', '--workers', String(w)));
  for (const r of runs) assert.equal(r.status, 0, r.stderr);
  assert.equal(runs[1].stdout, runs[0].stdout);
  const j = JSON.parse(runs[0].stdout);
  for (const k of ['plan', 'rank', 'best', 'deltas', 'calibration']) assert.ok(k in j, k);
  assert.deepEqual(Object.keys(j.rank).sort(), ['better', 'clearly_better', 'fits', 'fitting', 'memory_margin_gib', 'position', 'ranked', 'tolerance', 'within_margin']);
  assert.equal(j.rank.position, j.rank.better + 1);
  assert.equal(j.rank.tolerance, 0.0609); // the default: the cross-validated error (cost-models/fit/h100-sxm.cross-validation.yaml)
  assert.ok(j.rank.clearly_better <= j.rank.better && j.rank.better < j.rank.fitting);
  assert.equal(j.plan.mapping.tp, 2);
  // the recommendation is tune's first plan: within the tie of the fastest (it may be a little slower than the given one)
  assert.ok(j.best.estimate.tokens_per_s_per_gpu >= j.plan.estimate.tokens_per_s_per_gpu * (1 - j.rank.tolerance));
  assert.equal(typeof j.best.plan_spec, 'string');
  const sum = Object.values(j.deltas.time_s as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - (j.best.estimate.step_time_s - j.plan.estimate.step_time_s)) < 1e-3);
});

test('score --rank --sensitivity: the table says where the plan ranks, what the best changes and what each step costs', () => {
  const r = moefold('score', MIXTRAL, '--gpus', '128', '--plan', ZOO_PLAN, '--rank', '--sensitivity', '--tie', '0.01', '--quiet', '--workers', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Where the plan ranks \(throughput\): rank [\d,]+ of [\d,]+ plans that fit with 4 GiB free; [\d,]+ (is|are) faster, [\d,]+ of them by more than 1 % \(--tie\): (the best is [\d.]+× \(\+[\d.]+ %\) faster|the recommended plan, first in the tie order \(headroom, then simplicity\), is [\d.]+ % slower, within the tie)\./);
  assert.match(r.stdout, /What it changes: .*→/);
  assert.match(r.stdout, /step time term +│ given s │ +best s │ +Δ s/);
  assert.match(r.stdout, /Sensitivity of tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1/);
  assert.match(r.stdout, /TP 2 → 4/);
  // the plan's own breakdown still comes first
  assert.ok(r.stdout.indexOf('step time term') < r.stdout.indexOf('Where the plan ranks'));
});

test('score --sensitivity --format json: one entry per neighbour, refused ones with their rule', () => {
  const r = moefold('score', MIXTRAL, '--gpus', '128', '--plan', ZOO_PLAN, '--sensitivity', '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.mapping.tp, 2, 'without --rank the plan JSON is as before');
  const ns = j.sensitivity.neighbours as { change: string; refused: { rule: string }[]; tokens_per_s_per_gpu: number | null }[];
  const ep16 = ns.find((n) => n.change === 'EP 8 → 16');
  assert.ok(ep16);
  assert.deepEqual(ep16.refused.map((v) => v.rule), ['experts-divisible-by-ep']);
  assert.equal(ep16.tokens_per_s_per_gpu, null);
  assert.ok(ns.filter((n) => n.refused.length === 0).every((n) => typeof n.tokens_per_s_per_gpu === 'number'));
});

test('score --rank: a plan that does not fit exits 1 and still shows what the best plan changes', () => {
  const r = moefold('score', MIXTRAL, '--gpus', '128', '--plan', 'tp=1,pp=8,vpp=7,ep=8,etp=1', '--rank', '--quiet', '--workers', '0');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /the plan does not fit \(peak [\d.]+ of [\d.]+ GiB usable\), so it is not ranked; of the [\d,]+ plans that fit with 4 GiB free, (none is|[\d,]+ are) faster than it would be/);
  assert.match(r.stdout, /What it changes: TP 1 → 2/);
});

test('score --rank: bad input is one line naming the flag, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--plan', 'tp=3,pp=8,ep=8', '--rank'], /^--plan: Megatron-Core would refuse this plan: /],
    [['--plan', 'tp=2,bogus=1', '--rank'], /--plan/],
    [['--plan', ZOO_PLAN, '--rank', '--tie', '2'], /--tie/],
    [['--plan', ZOO_PLAN, '--tie', '0.1'], /^--tie: only with --rank/],
    [['--plan', ZOO_PLAN, '--memory-margin', '8'], /^--memory-margin: only with --rank/],
    [['--plan', ZOO_PLAN, '--rank', '--memory-margin', '-1'], /^--memory-margin: must be/],
    [['--plan', ZOO_PLAN, '--workers', '2'], /^--workers: only with --rank/],
  ];
  for (const [args, re] of cases) {
    const r = moefold('score', MIXTRAL, '--gpus', '128', ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
