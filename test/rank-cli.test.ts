import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { moefold } from './cli/run-cli.js';
import { HEADROOM_BAND_BYTES, HEADROOM_ENOUGH_BYTES, SHORT_SEQ_TOKENS } from '../src/search/final-order.js';
import { TABLE_WIDTH } from '../src/render/plans-table.js';

// The fixtures whose tables showed the problem (issue 15): Mixtral-8x22B at 128 GPUs (rows equal but for the
// dispatcher), Llama-3 70B at 64 (dense; uneven splits that cost the same), DeepSeek-V3 at 1024 (the widest table).
const MIXTRAL = ['fixtures/models/mixtral-8x22b.yaml', '--gpus', '128'];
const LLAMA = ['fixtures/models/llama3-70b.yaml', '--gpus', '64'];
const DSV3 = ['fixtures/models/deepseek-v3.yaml', '--gpus', '1024'];
const GIB = 2 ** 30;

function tuneJson(...args: string[]): any {
  const r = moefold('tune', ...args, '--format', 'json', '--no-timing', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const effectKey = (p: any): string => JSON.stringify([p.mapping.tp, p.mapping.cp, p.mapping.dp, p.mapping.pp, p.mapping.vpp,
  p.mapping.ep, p.mapping.etp, p.mapping.edp, p.micro_batch_size, p.recompute]);
const dims = (p: any): number => ['tp', 'cp', 'pp', 'vpp', 'ep', 'etp'].filter((k) => p.mapping[k] > 1).length;
const band = (p: any): number => Math.floor(Math.min(p.estimate.headroom_gib * GIB, HEADROOM_ENOUGH_BYTES) / HEADROOM_BAND_BYTES);

/** The ranking rules, checked on a result: the tie first (in its order), then the rest by speed; margin; no duplicates. */
function assertRanked(res: any, seqLength: number): void {
  const plans: any[] = res.plans;
  const tie: number = res.ranking.tie;
  const marginGib: number = res.ranking.memory_margin_gib;
  const best = Math.max(...plans.map((p) => p.estimate.tokens_per_s_per_gpu));
  let outside = false;
  for (const [i, p] of plans.entries()) {
    assert.ok(p.estimate.headroom_gib >= marginGib - 1e-9, `row ${i + 1}: headroom ${p.estimate.headroom_gib} < margin ${marginGib}`);
    const within = p.estimate.tokens_per_s_per_gpu >= best * (1 - tie) - 1e-6;
    assert.equal(p.in_tie, within, `row ${i + 1}: in_tie`);
    if (!p.in_tie) outside = true;
    else assert.ok(!outside, `row ${i + 1}: a tie row after a row outside the tie`);
    if (i === 0) continue;
    const q = plans[i - 1];
    if (q.in_tie && p.in_tie) {
      assert.ok(band(q) >= band(p), `rows ${i}/${i + 1}: headroom band`);
      if (band(q) === band(p)) {
        assert.ok(dims(q) <= dims(p), `rows ${i}/${i + 1}: dimensions > 1`);
        const cp = (x: any) => Number(x.mapping.cp > 1 && seqLength <= SHORT_SEQ_TOKENS);
        if (dims(q) === dims(p)) assert.ok(cp(q) <= cp(p), `rows ${i}/${i + 1}: CP at a short sequence`);
      }
    } else if (!q.in_tie && !p.in_tie) {
      assert.ok(q.estimate.tokens_per_s_per_gpu >= p.estimate.tokens_per_s_per_gpu, `rows ${i}/${i + 1}: speed outside the tie`);
    }
  }
  // no two rows equal in effect
  for (const [i, p] of plans.entries()) {
    for (const q of plans.slice(0, i)) {
      if (effectKey(p) !== effectKey(q)) continue;
      const a = p.estimate.tokens_per_s_per_gpu;
      const b = q.estimate.tokens_per_s_per_gpu;
      assert.ok(Math.abs(a - b) > res.ranking.dedupe_epsilon * Math.max(a, b), `row ${i + 1} is equal in effect to an earlier row`);
    }
  }
}

test('rank: Mixtral-8x22B @128, the rows that differed only by the dispatcher are one row, ties by headroom then simplicity', () => {
  const res = tuneJson(...MIXTRAL, '--top', '30', '--workers', '0');
  assertRanked(res, res.training.seq_length);
  assert.ok(res.ranking.tie > 0.03 && res.ranking.tie < 0.1, 'the default tie is the cross-validated error');
  assert.equal(res.ranking.tie_source, 'cost-models/fit/h100-sxm.cross-validation.yaml');
  const dispatcherAlts = res.plans.flatMap((p: any) => p.alternatives).filter((a: any) => 'dispatcher' in a.mapping_delta);
  assert.ok(dispatcherAlts.length >= 2, 'alltoall/flex twins are listed as alternatives');
  for (const p of res.plans) {
    for (const a of p.alternatives) {
      assert.ok(Object.keys(a.mapping_delta).length > 0);
      assert.ok(Math.abs(a.estimate.tokens_per_s_per_gpu / p.estimate.tokens_per_s_per_gpu - 1) <= res.ranking.dedupe_epsilon);
    }
  }
  // the top row is not the fastest plan: a plan within the tie with more headroom comes first
  const fastest = Math.max(...res.plans.map((p: any) => p.estimate.tokens_per_s_per_gpu));
  assert.ok(res.plans[0].in_tie);
  assert.ok(res.plans[0].estimate.headroom_gib >= res.plans.find((p: any) => p.estimate.tokens_per_s_per_gpu === fastest).estimate.headroom_gib);
});

test('rank: the tie set and its order do not depend on how the space is sharded', () => {
  const a = tuneJson(...MIXTRAL, '--top', '20', '--workers', '0');
  const b = tuneJson(...MIXTRAL, '--top', '20', '--workers', '2');
  assert.deepEqual(b.ranking, a.ranking);
  assert.deepEqual(b.plans, a.plans);
});

test('rank: --tie 0 ranks by speed alone; --memory-margin is respected and shown', () => {
  const res = tuneJson(...MIXTRAL, '--top', '15', '--workers', '2', '--tie', '0', '--memory-margin', '20');
  assert.equal(res.ranking.tie, 0);
  assert.equal(res.ranking.tie_source, '--tie');
  assert.equal(res.ranking.memory_margin_gib, 20);
  assertRanked(res, res.training.seq_length);
  const tps = res.plans.map((p: any) => p.estimate.tokens_per_s_per_gpu);
  assert.deepEqual(tps, [...tps].sort((x: number, y: number) => y - x));
  for (const p of res.plans) assert.ok(p.estimate.headroom_gib >= 20);
  const table = moefold('tune', ...MIXTRAL, '--top', '3', '--workers', '2', '--memory-margin', '20', '--tie', '0.02');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /ranking by throughput: plans within 2\.0 % of the best are a tie \(--tie\)/);
  assert.match(table.stdout, /memory margin 20\.0 GiB: [\d,]+ of [\d,]+ fitting plans leave it free and are ranked/);
});

test('rank: a margin no plan leaves says so, with the most headroom found', () => {
  const r = moefold('tune', ...MIXTRAL, '--fix', 'tp=2,pp=8,recompute=none', '--workers', '0', '--memory-margin', '70', '--quiet');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /plans fit in memory, but none leaves the --memory-margin 70\.0 GiB free: the most is [\d.]+ GiB/);
  assert.match(r.stderr, /try: --memory-margin [\d.]+/);
});

test('rank: Llama-3 70B @64 (dense): no expert columns, MFU names its peak, uneven splits that cost the same are one row', () => {
  const res = tuneJson(...LLAMA, '--top', '20', '--workers', '2');
  assertRanked(res, res.training.seq_length);
  const splitAlts = res.plans.flatMap((p: any) => p.alternatives).filter((a: any) => 'first_stage_layers' in a.mapping_delta
    || 'last_stage_layers' in a.mapping_delta || 'distributed_optimizer' in a.mapping_delta || 'layout' in a.mapping_delta);
  assert.ok(splitAlts.length > 0, 'splits / DO on-off that cost the same are alternatives');
  const p = res.plans[0];
  assert.equal(p.precision, 'fp8');
  assert.equal(p.estimate.mfu, p.estimate.mfu_precision_peak);
  assert.ok(Math.abs(p.estimate.mfu_bf16_peak / p.estimate.mfu_precision_peak - 2) < 0.01, 'FP8 dense peak is twice BF16');
  const t = moefold('tune', ...LLAMA, '--top', '10', '--workers', '2');
  assert.equal(t.status, 0, t.stderr);
  const head = t.stdout.split('\n').find((l) => l.trimStart().startsWith('#')) ?? '';
  for (const col of ['TP', 'CP', 'DP', 'PP', 'VPP', 'MBS', 'μB', 'recompute', 'tok/s/GPU', 'MFU(fp8)', 'peak GiB', 'free GiB']) {
    assert.ok(head.includes(col), col);
  }
  for (const col of [' EP', 'ETP', 'EDP', 'dispatcher', 'EP a2a']) assert.ok(!t.stdout.includes(col), `${col} in a dense table`);
  const wide = moefold('tune', ...LLAMA, '--top', '3', '--workers', '2', '--wide', '--explain', '1');
  assert.match(wide.stdout, /MFU\(fp8\) +MFU\(bf16\)/);
  assert.match(wide.stdout, /main costs/);
  assert.match(wide.stdout, /· MFU\(fp8\) [\d.]+% ·/, '--explain names the peak');
  for (const term of ['EP a2a', '│ experts', 'MoE dispatcher buffers']) assert.ok(!wide.stdout.includes(term), `${term} in a dense --explain`);
});

test('rank: the default table fits 120 columns (Mixtral-8x22B @128, DeepSeek-V3 @1024, Llama-3 70B @64); --wide may not', () => {
  for (const job of [MIXTRAL, DSV3, LLAMA]) {
    const r = moefold('tune', ...job, '--top', '30', '--workers', '2', ...(job === MIXTRAL ? ['--pareto'] : []));
    assert.equal(r.status, 0, r.stderr);
    const widest = Math.max(...r.stdout.split('\n').map((l) => l.length));
    assert.ok(widest <= TABLE_WIDTH, `${job[0]}: widest line ${widest}`);
    assert.match(r.stdout, /μB/);
  }
  const wide = moefold('tune', ...MIXTRAL, '--top', '10', '--workers', '2', '--wide');
  assert.match(wide.stdout.split('\n').find((l) => l.trimStart().startsWith('#')) ?? '', /DO +recompute +dispatcher +step s/);
});

test('rank: the header fits 120 columns with the longest objective and a derived tie source', () => {
  const r = moefold('tune', ...MIXTRAL, '--fix', 'tp=4,pp=8', '--objective', 'memory', '--min-throughput', '1200', '--gpu', 'b200',
    '--top', '5', '--workers', '2', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ranking by memory \(≥ 1200 tokens\/s\/GPU\): plans within [\d.]+ % of the smallest peak are a tie/);
  assert.match(r.stdout, /h100-sxm's cross-validated error: b200 derives from it/);
  for (const line of r.stdout.split('\n')) assert.ok(line.length <= TABLE_WIDTH, line);
});

test('rank: --objective memory ties on the smallest peak and breaks ties by throughput', () => {
  const res = tuneJson(...MIXTRAL, '--fix', 'tp=2', '--objective', 'memory', '--min-throughput', '1', '--top', '10', '--workers', '2');
  const peaks = res.plans.map((p: any) => p.estimate.peak_memory_gib);
  const smallest = Math.min(...peaks);
  const tied = res.plans.filter((p: any) => p.in_tie);
  assert.ok(tied.length >= 2);
  for (const p of tied) assert.ok(p.estimate.peak_memory_gib <= smallest * (1 + res.ranking.tie) + 1e-6);
  const tps = tied.map((p: any) => p.estimate.tokens_per_s_per_gpu);
  assert.deepEqual(tps, [...tps].sort((x: number, y: number) => y - x));
});

test('rank: bad --tie, --memory-margin and --out-top are one line naming the flag, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--tie', '-0.1'], /^--tie: /],
    [['--tie', 'abc'], /^--tie: /],
    [['--tie', '0.9'], /^--tie: /],
    [['--memory-margin', '-1'], /^--memory-margin: /],
    [['--memory-margin', 'lots'], /^--memory-margin: /],
    [['--out-top', '3'], /^--out-top: needs --out/],
    [['--out-top', '20', '--out', 'x', '--top', '5'], /^--out-top: /],
  ];
  for (const [args, re] of cases) {
    const r = moefold('tune', ...MIXTRAL, '--workers', '0', '--quiet', ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
  }
});

test('rank: --out writes launch configs for --out-top plans, and the Pareto plans by their own rank with --pareto', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-rank-out-'));
  try {
    const r = moefold('tune', ...MIXTRAL, '--fix', 'tp=2,pp=8', '--workers', '2', '--quiet', '--top', '6', '--out', dir, '--pareto');
    assert.equal(r.status, 0, r.stderr);
    const files = fs.readdirSync(dir).sort();
    const plans = files.filter((f) => /^plan-\d+\.torchrun\.sh$/.test(f));
    assert.equal(plans.length, 5, files.join(' ')); // default: min(--top, 5)
    assert.ok(files.some((f) => /^pareto-1\.torchrun\.sh$/.test(f)), files.join(' '));
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'plans.json'), 'utf8'));
    assert.equal(saved.plans.length, 6);
    assert.equal(files.filter((f) => /^pareto-\d+\.torchrun\.sh$/.test(f)).length, saved.pareto.length);
    for (const p of saved.pareto) assert.ok(p.estimate.headroom_gib >= saved.ranking.memory_margin_gib, 'the Pareto front keeps the margin');
    const again = moefold('tune', ...MIXTRAL, '--fix', 'tp=2,pp=8', '--workers', '2', '--quiet', '--top', '6', '--out', dir, '--out-top', '2');
    assert.equal(again.status, 0, again.stderr);
    const left = fs.readdirSync(dir);
    assert.deepEqual(left.filter((f) => /^plan-\d+\.torchrun\.sh$/.test(f)).sort(), ['plan-1.torchrun.sh', 'plan-2.torchrun.sh']);
    assert.ok(!left.some((f) => f.startsWith('pareto-')), 'stale Pareto configs removed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
