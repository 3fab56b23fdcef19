import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPlan, type Plan } from '../../src/enumerate/plan.js';
import { newEstimate, type Estimate } from '../../src/cost/estimate.js';
import { ParetoFront } from '../../src/search/pareto.js';

function plan(pp: number): Plan {
  const p = newPlan();
  p.pp = pp;
  return p;
}

function est(tps: number, memGiB: number, fits = true): Estimate {
  const e = newEstimate();
  e.tokensPerSPerGpu = tps; e.peakMemBytes = memGiB * 2 ** 30; e.fits = fits;
  return e;
}

test('Pareto front keeps exactly the non-dominated plans, lowest memory first', () => {
  const f = new ParetoFront();
  const points: [number, number][] = [[100, 50], [120, 60], [90, 40], [110, 70], [80, 45], [130, 80], [125, 80]];
  points.forEach(([t, m], i) => f.offer(plan(i + 1), est(t, m)));
  // [110,70] is dominated by [120,60]; [80,45] by [90,40]; [125,80] by [130,80].
  assert.deepEqual(f.plans().map((r) => [r.estimate.tokensPerSPerGpu, r.estimate.peakMemBytes / 2 ** 30]),
    [[90, 40], [100, 50], [120, 60], [130, 80]]);
});

test('Pareto front: brute-force check on a grid, any insertion order', () => {
  const pts: [number, number][] = [];
  for (let i = 0; i < 60; i++) pts.push([(i * 37) % 23, (i * 53) % 19 + 1]);
  const brute = pts
    .map(([t, m], i) => ({ t, m, i }))
    .filter((a, _, all) => !all.some((b) => (b.t >= a.t && b.m <= a.m && (b.t > a.t || b.m < a.m))));
  // identical points: the front keeps one of them (the first in plan order, here the smallest pp)
  const unique = new Map<string, number>();
  for (const b of brute) if (!unique.has(`${b.t}/${b.m}`)) unique.set(`${b.t}/${b.m}`, b.i);
  const expected = [...unique.keys()].map((k) => k.split('/').map(Number)).sort((a, b) => a[1] - b[1]);
  for (const order of [pts.map((_, i) => i), pts.map((_, i) => pts.length - 1 - i)]) {
    const f = new ParetoFront();
    for (const i of order) f.offer(plan(i + 1), est(pts[i][0], pts[i][1]));
    assert.deepEqual(f.plans().map((r) => [r.estimate.tokensPerSPerGpu, r.estimate.peakMemBytes / 2 ** 30]), expected);
    for (const r of f.plans()) {
      const k = `${r.estimate.tokensPerSPerGpu}/${r.estimate.peakMemBytes / 2 ** 30}`;
      assert.equal(r.plan.pp, unique.get(k)! + 1);
    }
  }
});

test('Pareto front never holds a plan that does not fit', () => {
  const f = new ParetoFront();
  f.offer(plan(1), est(1000, 10, false));
  f.offer(plan(2), est(10, 70));
  assert.deepEqual(f.plans().map((r) => r.plan.pp), [2]);
});
