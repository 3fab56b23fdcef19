import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPlan, type Plan } from '../../src/enumerate/plan.js';
import { newEstimate, type Estimate } from '../../src/cost/estimate.js';
import { TopK } from '../../src/search/top-k.js';
import { compareRanked, type RankedPlan } from '../../src/search/ranked.js';
import { comparePlans } from '../../src/search/order.js';

function plan(tp: number, pp: number, mbs = 1): Plan {
  const p = newPlan();
  p.tp = tp; p.pp = pp; p.microBatchSize = mbs;
  return p;
}

function est(tps: number, memGiB = 10): Estimate {
  const e = newEstimate();
  e.tokensPerSPerGpu = tps; e.peakMemBytes = memGiB * 2 ** 30; e.fits = true;
  return e;
}

/** Deterministic pseudo-random numbers (LCG) so the test is repeatable. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('TopK keeps the K best by value, best first', () => {
  const top = new TopK(3);
  const values = [5, 1, 9, 7, 3, 8];
  values.forEach((v, i) => top.offer(v, plan(1, i + 1), est(v)));
  assert.deepEqual(top.sorted().map((r) => r.value), [9, 8, 7]);
  assert.deepEqual(top.sorted().map((r) => r.plan.pp), [3, 6, 4]);
});

test('TopK copies what it keeps: mutating the offered plan afterwards changes nothing', () => {
  const top = new TopK(2);
  const p = plan(2, 4);
  const e = est(100);
  top.offer(100, p, e);
  p.tp = 8; e.tokensPerSPerGpu = 1;
  const [kept] = top.sorted();
  assert.equal(kept.plan.tp, 2);
  assert.equal(kept.estimate.tokensPerSPerGpu, 100);
});

test('TopK breaks ties by the stable plan order, whatever the insertion order', () => {
  const plans = [plan(4, 1), plan(1, 2), plan(2, 1), plan(1, 1), plan(8, 8)];
  const a = new TopK(3);
  const b = new TopK(3);
  for (const p of plans) a.offer(42, p, est(42));
  for (const p of [...plans].reverse()) b.offer(42, p, est(42));
  const key = (r: RankedPlan) => `${r.plan.tp}/${r.plan.pp}`;
  assert.deepEqual(a.sorted().map(key), ['1/1', '1/2', '2/1']);
  assert.deepEqual(b.sorted().map(key), a.sorted().map(key));
});

test('TopK ignores NaN values (plans that may not be ranked)', () => {
  const top = new TopK(2);
  top.offer(NaN, plan(1, 1), est(0));
  assert.equal(top.size, 0);
});

test('TopK equals a full sort on random input, and merging shard heaps equals one heap', () => {
  const rnd = lcg(7);
  const items: { v: number; p: Plan }[] = [];
  for (let i = 0; i < 500; i++) items.push({ v: Math.floor(rnd() * 50), p: plan(1 + (i % 8), 1 + Math.floor(i / 8), 1 + (i % 3)) });
  const whole = new TopK(10);
  for (const it of items) whole.offer(it.v, it.p, est(it.v));
  const reference = items
    .map((it) => ({ value: it.v, plan: it.p }))
    .sort((x, y) => (y.value - x.value) || comparePlans(x.plan, y.plan))
    .slice(0, 10);
  assert.deepEqual(whole.sorted().map((r) => [r.value, r.plan]), reference.map((r) => [r.value, r.plan]));
  const shards = [new TopK(10), new TopK(10), new TopK(10)];
  items.forEach((it, i) => shards[i % 3].offer(it.v, it.p, est(it.v)));
  const merged = new TopK(10);
  for (const s of shards) for (const r of s.sorted()) merged.offerRanked(r);
  assert.deepEqual(merged.sorted().map((r) => [r.value, r.plan]), whole.sorted().map((r) => [r.value, r.plan]));
  const sorted = merged.sorted();
  for (let i = 1; i < sorted.length; i++) assert.ok(compareRanked(sorted[i - 1], sorted[i]) < 0);
});
