import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths.js';
import { loadJobContext } from '../src/job-context.js';
import { enumeratePlans, parsePlanSpec, checkPlan } from '../src/enumerate/index.js';
import { makeScoreContext, scorePlan } from '../src/cost/score.js';
import { newEstimate } from '../src/cost/estimate.js';
import { defaultTolerance, rankInSpace } from '../src/search/compare.js';
import { DEFAULT_MEMORY_MARGIN_BYTES, headroomBytes } from '../src/search/objective.js';
import { planNeighbours, sensitivityOf } from '../src/search/neighbours.js';
import { compareJson, planSpecText, renderCompare } from '../src/render/compare.js';
import { renderSensitivity } from '../src/render/sensitivity.js';
import { comparePlans } from '../src/search/order.js';
import type { Plan } from '../src/enumerate/plan.js';

const MIXTRAL = path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml');
const DEEPSEEK = path.join(REPO_ROOT, 'fixtures/models/deepseek-v3.yaml');
const ZOO_PLAN = 'tp=2,pp=8,vpp=7,ep=8,etp=1';
/** TP 1 needs more memory than an H100 has (the sensitivity table shows it): a given plan that does not fit. */
const NOT_FITTING = 'tp=1,pp=8,vpp=7,ep=8,etp=1';

const jc = loadJobContext(MIXTRAL, { gpus: 128 }, { warn: false });
const { job, shape, space, calibration } = jc;
const ctx = jc.scoreContext();
const score = (p: Plan) => scorePlan(ctx, p, newEstimate());
const zoo = parsePlanSpec(ZOO_PLAN, job, shape);
const zooEst = score(zoo);
const big = parsePlanSpec(NOT_FITTING, job, shape);
const bigEst = score(big);
/** The ranking's own tie (the model's cross-validated error): what score --rank uses by default. */
const TOL = defaultTolerance(calibration);

/** The brute force: every valid plan of the space scored, counted against two references. */
const brute = (() => {
  const bctx = makeScoreContext(job, shape, calibration);
  const est = newEstimate();
  let fitting = 0;
  let ranked = 0;
  let better = 0;
  let clearly = 0;
  let fasterThanBig = 0;
  let zooFound = 0;
  let bestTok = -Infinity;
  for (const p of enumeratePlans(job, shape, space)) {
    scorePlan(bctx, p, est);
    if (!est.fits) continue;
    fitting++;
    // only plans that leave the memory margin are ranked, and counted
    if (headroomBytes(est) < DEFAULT_MEMORY_MARGIN_BYTES) continue;
    ranked++;
    if (est.tokensPerSPerGpu > zooEst.tokensPerSPerGpu) better++;
    if (est.tokensPerSPerGpu > zooEst.tokensPerSPerGpu * (1 + TOL)) clearly++;
    if (est.tokensPerSPerGpu > bigEst.tokensPerSPerGpu) fasterThanBig++;
    if (comparePlans(p, zoo) === 0) zooFound++;
    if (est.tokensPerSPerGpu > bestTok) bestTok = est.tokensPerSPerGpu;
  }
  return { fitting, ranked, better, clearly, fasterThanBig, zooFound, bestTok };
})();

/** The search `score --rank` runs for the model-zoo plan, in this thread (shared by the tests below). */
let zooRank: ReturnType<typeof rankInSpace> | null = null;
const rankZoo = () => (zooRank ??= rankInSpace({ job, space, calibration, given: zooEst, tolerance: TOL, workers: 0 }));

test('compare: the model-zoo plan ranks where a brute-force count over the same space says, pooled or not', async () => {
  assert.equal(zooEst.fits, true);
  assert.equal(brute.zooFound, 1, 'the model-zoo plan is a plan of the default space');
  assert.ok(brute.better > 0 && brute.fitting > 1000);
  for (const workers of [0, 2]) {
    const r = workers === 0 ? await rankZoo() : await rankInSpace({ job, space, calibration, given: zooEst, tolerance: TOL, workers });
    assert.equal(r.rank.fitting, brute.fitting, `workers ${workers}`);
    assert.equal(r.rank.ranked, brute.ranked, `workers ${workers}`);
    assert.equal(r.rank.better, brute.better, `workers ${workers}`);
    assert.equal(r.rank.clearlyBetter, brute.clearly, `workers ${workers}`);
    assert.equal(r.rank.position, brute.better + 1);
    // the recommendation is first in the tie order: within the tie of the fastest plan, not necessarily the fastest
    assert.ok(r.search.top[0].estimate.tokensPerSPerGpu >= brute.bestTok * (1 - TOL));
  }
});

test('compare: a wider tolerance counts fewer plans as clearly faster, never more', async () => {
  const tight = await rankInSpace({ job, space, calibration, given: zooEst, tolerance: 0, workers: 0 });
  assert.equal(tight.rank.clearlyBetter, tight.rank.better, 'tolerance 0: every faster plan is clearly faster');
  const ratio = brute.bestTok / zooEst.tokensPerSPerGpu;
  const wide = await rankInSpace({ job, space, calibration, given: zooEst, tolerance: ratio, workers: 0 });
  assert.equal(wide.rank.clearlyBetter, 0, 'no plan beats it by more than the best does');
});

test('compare: a plan that does not fit is not ranked, but the fitting plans faster than it are counted', async () => {
  assert.equal(bigEst.fits, false);
  const r = await rankInSpace({ job, space, calibration, given: bigEst, tolerance: TOL, workers: 0 });
  assert.equal(r.rank.position, null);
  assert.equal(r.rank.fits, false);
  assert.equal(r.rank.better, brute.fasterThanBig);
  const text = renderCompare({ job, given: { plan: big, estimate: bigEst }, best: r.search.top[0], rank: r.rank });
  assert.match(text, /does not fit \(peak [\d.]+ of [\d.]+ GiB usable\), so it is not ranked/);
  assert.match(text, /What it changes: TP 1 → 2/);
});

test('compare: the best plan\'s term deltas sum to the step-time and peak-memory differences', async () => {
  const r = await rankZoo();
  const best = r.search.top[0];
  const c = { job, given: { plan: zoo, estimate: zooEst }, best, rank: r.rank };
  const j = compareJson(c, () => ({ megatron_args: [], env: {} }), 989e12);
  assert.ok(j.deltas && j.best);
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const dStep = best.estimate.stepTimeS - zooEst.stepTimeS;
  assert.ok(Math.abs(sum(j.deltas.time_s) - dStep) < 1e-4, `${sum(j.deltas.time_s)} vs ${dStep}`);
  assert.ok(dStep !== 0, 'the recommended plan differs from the model-zoo plan');
  const dPeakGib = j.best.estimate.peak_memory_gib - j.plan.estimate.peak_memory_gib;
  assert.ok(Math.abs(sum(j.deltas.memory_gib) - dPeakGib) < 1e-3);
  assert.deepEqual(j.rank, { position: brute.better + 1, fitting: brute.fitting, ranked: brute.ranked, better: brute.better,
    clearly_better: brute.clearly, tolerance: TOL, fits: true, within_margin: true, memory_margin_gib: 4 });
  // the text names the rank and the largest terms of the step-time table
  const text = renderCompare(c);
  assert.ok(text.includes(`rank ${(brute.better + 1).toLocaleString('en-US')} of ${brute.ranked.toLocaleString('en-US')} plans that fit with 4 GiB free`), text);
  assert.match(text, /the (gain|loss) is mostly /);
  // the best plan's --plan text reads back as the same plan
  const again = parsePlanSpec(j.best.plan_spec, job, shape);
  assert.equal(comparePlans(again, best.plan), 0, j.best.plan_spec);
});

test('compare: the given plan that is the best says so', async () => {
  const r = await rankZoo();
  const best = r.search.top[0];
  // with no tie the first plan is the fastest: given it, nothing is faster
  const fastest = (await rankInSpace({ job, space, calibration, given: best.estimate, tolerance: 0, workers: 0 })).search.top[0];
  const again = await rankInSpace({ job, space, calibration, given: fastest.estimate, tolerance: 0, workers: 0 });
  assert.equal(again.rank.position, 1);
  assert.equal(again.rank.better, 0);
  const text = renderCompare({ job, given: fastest, best: again.search.top[0], rank: again.rank });
  assert.match(text, /rank 1 of [\d,]+ plans that fit with 4 GiB free: no plan is faster/);
  assert.match(text, /The given plan is the best plan of the space/);
});

test('sensitivity: one step keeps the world size; TP 2 → 4 halves DP, EP 8 → 4 doubles EDP; refused steps name the rule', () => {
  const ns = planNeighbours(job, shape, zoo, { maxFirstLastReduction: 4 });
  const by = (change: string) => {
    const n = ns.find((x) => x.change === change);
    assert.ok(n, `${change} in ${ns.map((x) => x.change).join('; ')}`);
    return n;
  };
  const tp4 = by('TP 2 → 4');
  assert.deepEqual([tp4.plan.tp, tp4.plan.dp, tp4.plan.pp, tp4.plan.ep, tp4.plan.etp, tp4.plan.edp, tp4.plan.vpp], [4, 4, 8, 8, 1, 2, 7]);
  assert.equal(tp4.plan.numMicroBatches, 256 / (1 * 4));
  assert.deepEqual(tp4.refused, []);
  const ep4 = by('EP 8 → 4');
  assert.deepEqual([ep4.plan.tp, ep4.plan.dp, ep4.plan.ep, ep4.plan.edp], [2, 8, 4, 4]);
  const pp4 = by('PP 8 → 4');
  assert.deepEqual([pp4.plan.dp, pp4.plan.edp, pp4.plan.vpp, pp4.plan.firstStageLayers], [16, 4, 7, 14]);
  // Mixtral has 8 experts: EP 16 is refused, by the rule that says so
  assert.deepEqual(by('EP 8 → 16').refused.map((v) => v.rule), ['experts-divisible-by-ep']);
  for (const n of ns) {
    const p = n.plan;
    assert.equal(p.tp * p.cp * p.dp * p.pp, 128, n.change);
    assert.equal(p.etp * p.ep * p.edp * p.pp, 128, n.change);
    assert.deepEqual(n.refused, checkPlan(job, shape, p), n.change);
  }
  // every axis but the ones with no step from here appears; dispatcher lists both others
  assert.deepEqual(ns.filter((n) => n.axis === 'dispatcher').map((n) => n.change),
    ['dispatcher alltoall → allgather', 'dispatcher alltoall → flex']);
  assert.deepEqual(ns.filter((n) => n.axis === 'recompute').map((n) => n.change), ['recompute none → selective']);
  assert.ok(!ns.some((n) => n.change === 'TP 2 → 1' && n.refused.length > 0));
});

test('sensitivity: each accepted neighbour is scored as `score --plan` would score it; the table shows the changes', () => {
  const s = sensitivityOf(job, shape, ctx, zoo, { maxFirstLastReduction: 4 });
  assert.equal(s.estimate.tokensPerSPerGpu, zooEst.tokensPerSPerGpu);
  for (const r of s.rows) {
    if (r.refused.length > 0) { assert.equal(r.estimate, null); continue; }
    const again = parsePlanSpec(planSpecText(r.plan, job), job, shape);
    assert.equal(comparePlans(again, r.plan), 0, r.change);
    assert.equal(score(again).tokensPerSPerGpu, r.estimate?.tokensPerSPerGpu, r.change);
  }
  const text = renderSensitivity(job, s);
  // the free memory of TP 4, as the scorer gives it (the margin reads this figure)
  const tp4 = s.rows.find((r) => r.change === 'TP 2 → 4');
  assert.ok(tp4?.estimate);
  const free = ((tp4.estimate.usableMemBytes - tp4.estimate.peakMemBytes) / 2 ** 30).toFixed(1);
  assert.match(text, new RegExp(`TP 2 → 4 +│ +−\\d+\\.\\d % │ +−\\d+\\.\\d │ +${free.replace('.', '\\.')} │`));
  assert.match(text, /TP 2 → 1 +│ +\+\d+\.\d % │ +\+\d+\.\d │ does not fit │/);
  assert.match(text, /EP 8 → 16 +│ +refused: experts-divisible-by-ep/);
});

test('sensitivity: a plan with an explicit layout steps to the balanced layout of the new PP·VPP', () => {
  const ds = loadJobContext(DEEPSEEK, { gpus: 1024 }, { warn: false });
  const recipe = parsePlanSpec('tp=2,pp=8,ep=64,etp=1,layout=Et|(tt|)*30mL', ds.job, ds.shape);
  const ns = planNeighbours(ds.job, ds.shape, recipe, { maxFirstLastReduction: 4 });
  const pp4 = ns.find((n) => n.change === 'PP 8 → 4');
  assert.ok(pp4);
  assert.notEqual(pp4.plan.layout, '');
  assert.equal(pp4.plan.vpp, 4);
  assert.deepEqual(pp4.refused, [], 'checkPlan accepts it (layout-valid, layout-vpp)');
  assert.equal(pp4.plan.dp, 2 * recipe.dp);
  for (const n of ns) assert.equal(n.plan.tp * n.plan.cp * n.plan.dp * n.plan.pp, 1024, n.change);
  // the recipe's text reads back as the same plan
  assert.equal(comparePlans(parsePlanSpec(planSpecText(recipe, ds.job), ds.job, ds.shape), recipe), 0);
});
