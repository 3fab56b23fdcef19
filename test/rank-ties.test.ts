import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPlan, type Plan } from '../src/enumerate/plan.js';
import { newEstimate, type Estimate } from '../src/cost/estimate.js';
import { TieKeeper, mergeTieParts, tieThreshold } from '../src/search/ties.js';
import { collapseEqual, finalOrder, DEDUPE_EPSILON, type RankContext } from '../src/search/final-order.js';
import { parseRankOrder, DEFAULT_ORDER } from '../src/cost/topology.js';
import { defaultTie, crossValidationFile } from '../src/search/cross-validation.js';
import type { RankedPlan } from '../src/search/ranked.js';
import type { RankOptions } from '../src/search/objective.js';
import { objectiveValue } from '../src/search/objective.js';

const GIB = 2 ** 30;
const RC: RankContext = { seqLength: 4096, nvlinkDomainGpus: 8, rankOrder: parseRankOrder(DEFAULT_ORDER) };

function plan(o: Partial<Plan>): Plan {
  return Object.assign(newPlan(), o);
}

function est(tps: number, peakGib: number, usableGib = 80): Estimate {
  const e = newEstimate();
  e.tokensPerSPerGpu = tps; e.peakMemBytes = peakGib * GIB; e.usableMemBytes = usableGib * GIB; e.fits = peakGib <= usableGib;
  return e;
}

function ranked(tps: number, peakGib: number, p: Partial<Plan>): RankedPlan {
  return { value: tps, plan: plan(p), estimate: est(tps, peakGib) };
}

const RANK: RankOptions = { objective: 'throughput', minTokensPerSPerGpu: 0, topK: 100, pareto: false, tie: 0.05, memoryMarginBytes: 0 };

test('tie set: whatever the offer order and the shard split, every plan within the tie of the global best is kept', () => {
  // values rise and fall so that early running bests are low (the shard admits more, then drops the fallen-out ones)
  // a permutation of 1..3000: the running best of each shard rises as it goes
  const values = Array.from({ length: 3000 }, (_, i) => 1 + ((i * 7919) % 3000));
  const best = Math.max(...values);
  const expected = values.filter((v) => v >= tieThreshold(best, 0.05)).length;
  for (const shards of [1, 3, 8]) {
    const keepers = Array.from({ length: shards }, () => new TieKeeper(0.05, 1024));
    values.forEach((v, i) => keepers[i % shards].offer(v, plan({ pp: 1 + (i % 7), mbGroup: i }), est(v, 50)));
    const merged = mergeTieParts(keepers.map((k) => k.parts()));
    const inTie = merged.ties.filter((r) => r.value >= tieThreshold(best, 0.05));
    assert.equal(inTie.length, expected, `${shards} shards`);
    assert.equal(merged.tieOverflowed, false);
    assert.equal(merged.ranked, values.length);
  }
});

test('tie set: when more plans are within the tie than it can hold it says so and keeps the fastest', () => {
  const k = new TieKeeper(0.5, 16);
  for (let i = 0; i < 100; i++) k.offer(1000 + i, plan({ mbGroup: i }), est(1000 + i, 50));
  const parts = k.parts();
  assert.equal(parts.tieOverflowed, true);
  assert.ok(parts.ties.length <= 16);
  assert.ok(parts.ties.some((r) => r.value === 1099), 'the best is kept');
});

test('tie set: NaN (not ranked) plans are never kept, but the fitting plan with the most headroom is remembered', () => {
  const k = new TieKeeper(0.05);
  k.offer(NaN, plan({ tp: 2 }), est(900, 79));
  k.offer(NaN, plan({ tp: 4 }), est(800, 77));
  const parts = k.parts();
  assert.equal(parts.ties.length, 0);
  assert.equal(parts.ranked, 0);
  assert.equal(parts.mostHeadroom?.plan.tp, 4);
});

test('memory margin: a plan that fits with less free memory than the margin is not ranked', () => {
  const e = est(1000, 77, 80);
  assert.equal(objectiveValue(e, { ...RANK, memoryMarginBytes: 2 * GIB }), 1000);
  assert.ok(Number.isNaN(objectiveValue(e, { ...RANK, memoryMarginBytes: 4 * GIB })));
  assert.ok(Number.isNaN(objectiveValue(e, { ...RANK, memoryMarginBytes: undefined })), 'the default margin is 4 GiB');
});

test('final order: within the tie headroom bands first, then fewer dimensions, then no CP at short sequences, then speed', () => {
  const plans = [
    ranked(1000, 74, { tp: 2, pp: 2 }), // fastest, 6 GiB free
    ranked(990, 60, { tp: 2, pp: 2, ep: 8 }), // 20 GiB free (≥ 16: enough), 3 dims
    ranked(980, 62, { tp: 2, pp: 2, microBatchSize: 2 }), // 18 GiB free, 2 dims
    ranked(975, 62, { cp: 2, pp: 2 }), // 18 GiB free, 2 dims but CP at seq 4096
    ranked(985, 61, { pp: 4 }), // 19 GiB free, 1 dim
    ranked(900, 40, {}), // outside the 5 % tie, most headroom
    ranked(940, 74.5, { tp: 8 }), // outside, slower than the one above? no: faster
  ];
  const { top, tie } = finalOrder({ ties: plans, top: plans, tieOverflowed: false, ranked: plans.length, mostHeadroom: null }, RANK, RC);
  assert.deepEqual(top.map((r) => r.estimate.tokensPerSPerGpu), [985, 980, 975, 990, 1000, 940, 900]);
  assert.equal(tie.plans, 5);
  assert.deepEqual(top.map((r) => r.inTie), [true, true, true, true, true, false, false]);
});

test('final order: an EP group inside a node ranks before one across nodes at equal headroom and dimensions', () => {
  const across = ranked(1000, 60, { tp: 1, ep: 16, dp: 16 });
  const inside = ranked(990, 60, { tp: 1, ep: 8, dp: 16 });
  const { top } = finalOrder({ ties: [across, inside], top: [], tieOverflowed: false, ranked: 2, mostHeadroom: null }, RANK, RC);
  assert.deepEqual(top.map((r) => r.plan.ep), [8, 16]);
});

test('final order with --objective memory: ties on the smallest peak, broken by throughput', () => {
  const mk = (tps: number, peak: number): RankedPlan => ({ value: -peak * GIB, plan: plan({ mbGroup: tps }), estimate: est(tps, peak) });
  const plans = [mk(900, 40), mk(1000, 41), mk(1100, 50), mk(800, 39.9)];
  const { top } = finalOrder({ ties: plans, top: plans, tieOverflowed: false, ranked: 4, mostHeadroom: null },
    { ...RANK, objective: 'memory' }, RC);
  // 39.9 · 1.05 = 41.9: the first three are a tie, by throughput; 50 GiB follows
  assert.deepEqual(top.map((r) => r.estimate.tokensPerSPerGpu), [1000, 900, 800, 1100]);
});

test('equal in effect: same mapping but the dispatcher or the distributed optimizer, speed within epsilon, is one row', () => {
  const a = ranked(1000, 60, { ep: 8, dispatcher: 'flex' });
  const b = ranked(1000 * (1 - DEDUPE_EPSILON / 2), 60, { ep: 8, dispatcher: 'alltoall' });
  const c = ranked(999, 62, { ep: 8, dispatcher: 'flex', distributedOptimizer: false });
  const d = ranked(1000 * (1 - 2 * DEDUPE_EPSILON), 60, { ep: 8, dispatcher: 'allgather' }); // too slow to be the same
  const e = ranked(1000, 60, { ep: 8, microBatchSize: 2 }); // another mapping
  const rows = collapseEqual([a, b, c, d, e]);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0].alternatives?.map((x) => x.plan.dispatcher), ['alltoall', 'flex']);
  assert.equal(rows[0].alternatives?.[1].plan.distributedOptimizer, false);
  assert.equal(rows[1].plan.dispatcher, 'allgather');
});

test('default tie: the calibration\'s cross-validated error, h100-sxm\'s for calibrations derived from it', () => {
  const h100 = defaultTie('h100-sxm');
  assert.ok(h100 && h100.fraction > 0.01 && h100.fraction < 0.2, JSON.stringify(h100));
  assert.equal(h100?.derivedFrom, undefined);
  assert.match(crossValidationFile('h100-sxm'), /cost-models\/fit\/h100-sxm\.cross-validation\.yaml$/);
  const h200 = defaultTie('h200-sxm');
  assert.equal(h200?.fraction, h100?.fraction);
  assert.equal(h200?.derivedFrom, 'h100-sxm');
});
