/**
 * The report page, parsed as XML (it is written well-formed): the sections, the scatter's axes, ticks, points and
 * Pareto staircase, the breakdown bars, the scaling curve of a sweep, the tables, escaping, no network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReportHtml } from '../../src/report/html.js';
import { scatterLayout } from '../../src/report/scatter.js';
import { barsLayout, timeBarsSpec, memoryBarsSpec } from '../../src/report/bars.js';
import { TIME_TERM_LABELS } from '../../src/render/cost-shares.js';
import type { ResultJson } from '../../src/plans/result.js';
import type { PlanJson } from '../../src/render/plan-json.js';
import { fixtureSweep, mixtralResult } from './results.js';
import { hasClass, num, one, parseXml, select, textOf, type El } from './dom.js';

function page(result: ResultJson, sweep = undefined as ReturnType<typeof fixtureSweep> | undefined): El {
  return parseXml(renderReportHtml({ result, sweep }));
}

function svgOf(doc: El, ...classes: string[]): El {
  return one(doc, 'svg', 'chart', ...classes);
}

function close(a: number, b: number, what: string, tol = 0.011): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not ${b}`);
}

/** Two plans with round numbers, placed by hand: A (60 GiB, 1,500 tok/s/GPU, ranked first), B (40 GiB, 1,000). */
async function twoPlanResult(): Promise<ResultJson> {
  const r = await mixtralResult();
  const set = (p: PlanJson, memGib: number, tput: number): PlanJson => {
    const q = structuredClone(p);
    q.estimate.peak_memory_gib = memGib;
    q.estimate.tokens_per_s_per_gpu = tput;
    q.estimate.usable_memory_gib = 80;
    for (const k of Object.keys(q.estimate.time_breakdown_s)) q.estimate.time_breakdown_s[k] = 0;
    q.estimate.time_breakdown_s.attention = 1;
    q.estimate.time_breakdown_s.experts = 3;
    q.estimate.step_time_s = 4;
    return q;
  };
  const a = set(r.plans[0], 60, 1500);
  const b = set(r.plans[1], 40, 1000);
  b.rank = 2;
  r.plans = [a, b];
  r.pareto = [{ ...structuredClone(b), rank: 1 }, { ...structuredClone(a), rank: 2 }];
  return r;
}

test('report: the page is well-formed, self-contained (no script, no external resource) and has every section', async () => {
  const result = await mixtralResult();
  const html = renderReportHtml({ result });
  const doc = parseXml(html);
  assert.equal(doc.name, 'html');
  const ids = select(doc, 'section').map((s) => s.attributes.id);
  assert.deepEqual(ids, ['throughput-memory', 'scaling', 'time', 'memory', 'top-plans', 'pareto']);
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=|@import/i);
  assert.deepEqual([...html.matchAll(/https?:\/\/[^"'\s)]+/g)].map((m) => m[0]).filter((u) => u !== 'http://www.w3.org/2000/svg'), [],
    'no URL but the SVG namespace');
  assert.deepEqual([...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]).filter((u) => !u.startsWith('#')), [], 'url() only to ids in the page');
  assert.equal(renderReportHtml({ result }), html, 'the same input gives the same bytes');
  assert.equal(textOf(select(doc, 'h2')[0]), 'Throughput vs peak memory');
});

test('report header: job, model, cluster, calibration, search counts and the ranking rule', async () => {
  const result = await mixtralResult();
  const header = one(page(result), 'header');
  const facts = Object.fromEntries(select(header, 'dt').map((dt, i) => [textOf(dt), textOf(select(header, 'dd')[i])]));
  assert.match(facts['job file'], /mixtral-8x22b\.yaml$/);
  assert.match(facts.model, /^Mixtral-8x22B \(141B params, 39B active, 8 experts top-2\) · seq 4096 · GBS 256 · bf16 · 128 × h100-sxm/);
  assert.match(facts.cluster, /^128 GPUs, 8 per node/);
  assert.match(facts.calibration, /^h100-sxm \(.*h100-sxm\.yaml\)$/);
  assert.match(facts.search, new RegExp(`^${result.search.enumerated.toLocaleString('en-US')} candidates enumerated · ${result.search.valid.toLocaleString('en-US')} valid`));
  assert.match(facts.ranking, /highest tokens\/s per GPU first/);
});

test('scatter: axes with ticks and titles, one dot per top plan, one diamond per Pareto plan, the staircase through them', async () => {
  const result = await mixtralResult();
  const svg = svgOf(page(result), 'scatter', 'full');
  const L = scatterLayout(result);
  const xLabels = select(svg, 'text', 'tick', 'x').map(textOf);
  const yLabels = select(svg, 'text', 'tick', 'y').map(textOf);
  assert.deepEqual(xLabels, L.xTicks.map((t) => t.toLocaleString('en-US')));
  assert.ok(xLabels.length >= 3 && yLabels.length >= 3, 'both axes have ticks');
  assert.equal(textOf(one(svg, 'text', 'axis-title', 'x')), 'peak memory per GPU (GiB)');
  assert.equal(textOf(one(svg, 'text', 'axis-title', 'y')), 'tokens/s per GPU');
  // every tick label sits where the scale puts its value
  for (const t of select(svg, 'text', 'tick', 'x')) close(num(t, 'x'), L.x(Number(textOf(t).replace(/,/g, ''))), 'x tick');
  for (const t of select(svg, 'text', 'tick', 'y')) close(num(t, 'y'), L.y(Number(textOf(t).replace(/,/g, ''))), 'y tick');

  const dots = select(svg, 'circle', 'pt', 'top');
  assert.equal(dots.length, result.plans.length);
  dots.forEach((d, i) => {
    close(num(d, 'cx'), L.x(result.plans[i].estimate.peak_memory_gib), `dot ${i} x`);
    close(num(d, 'cy'), L.y(result.plans[i].estimate.tokens_per_s_per_gpu), `dot ${i} y`);
    assert.match(textOf(one(d, 'title')), new RegExp(`^plan #${i + 1}: TP2 `));
  });
  const pareto = result.pareto ?? [];
  assert.ok(pareto.length >= 2, 'the slice has a Pareto front');
  assert.equal(select(svg, 'path', 'pt', 'pareto').length, pareto.length);
  const front = one(svg, 'path', 'pareto-front').attributes.d;
  assert.equal((front.match(/H/g) ?? []).length, pareto.length - 1, 'one step per further Pareto plan');
  assert.ok(front.startsWith(`M${Math.round(L.x(pareto[0].estimate.peak_memory_gib) * 100) / 100} `));
  const legend = select(svg, 'text', 'legend-label').map(textOf);
  assert.deepEqual(legend, [`top ${result.plans.length} plans`, `Pareto front (${pareto.length} plans)`, 'best plan', 'usable memory']);
  // the usable-memory limit and the best plan
  const limit = one(one(svg, 'g', 'usable-limit'), 'line');
  close(num(limit, 'x1'), L.x(result.plans[0].estimate.usable_memory_gib), 'usable line');
  assert.match(textOf(one(svg, 'text', 'best-label')), /^best: #1 [\d,]+ tok\/s\/GPU$/);
});

test('scatter: two plans placed where the scales say, by hand', async () => {
  const result = await twoPlanResult();
  const svg = svgOf(page(result), 'scatter', 'full');
  // x: 40..80 GiB (step 5, the usable 80 included) onto 84..876 px; y: 1,000..1,500 (step 100) onto 396..16 px
  assert.deepEqual(select(svg, 'text', 'tick', 'x').map(textOf), ['40', '45', '50', '55', '60', '65', '70', '75', '80']);
  assert.deepEqual(select(svg, 'text', 'tick', 'y').map(textOf), ['1,000', '1,100', '1,200', '1,300', '1,400', '1,500']);
  const [a, b] = select(svg, 'circle', 'pt', 'top');
  assert.deepEqual([num(a, 'cx'), num(a, 'cy')], [480, 16], 'A: 60 GiB, 1,500 tok/s/GPU');
  assert.deepEqual([num(b, 'cx'), num(b, 'cy')], [84, 396], 'B: 40 GiB, 1,000 tok/s/GPU');
  assert.equal(one(svg, 'path', 'pareto-front').attributes.d, 'M84 396 H480 V16', 'from B across to A\'s memory, then up');
  assert.equal(num(one(one(svg, 'g', 'usable-limit'), 'line'), 'x1'), 876);
  const ring = one(one(svg, 'g', 'best'), 'circle');
  assert.deepEqual([num(ring, 'cx'), num(ring, 'cy')], [480, 16], 'the best plan is ringed');
});

test('scatter zoomed on the top plans: every top plan, only the Pareto plans in view, the staircase clipped', async () => {
  const result = await mixtralResult();
  const svg = svgOf(page(result), 'scatter', 'zoom');
  const L = scatterLayout(result, true);
  assert.equal(select(svg, 'circle', 'pt', 'top').length, result.plans.length);
  const inView = (result.pareto ?? []).filter((p) => p.estimate.peak_memory_gib >= L.x.domain[0] && p.estimate.tokens_per_s_per_gpu >= L.y.domain[0]);
  assert.equal(select(svg, 'path', 'pt', 'pareto').length, inView.length);
  assert.equal(one(svg, 'path', 'pareto-front').attributes['clip-path'], 'url(#clip-scatter-zoom)');
  assert.equal(one(svg, 'clipPath').attributes.id, 'clip-scatter-zoom');
});

test('time bars: one bar per plan, segments placed end to end and summing to the step time, by hand for round numbers', async () => {
  const result = await mixtralResult();
  const svg = svgOf(page(result), 'bars', 'time');
  const spec = timeBarsSpec();
  const L = barsLayout(result.plans, spec);
  const bars = select(svg, 'g', 'bar');
  assert.equal(bars.length, result.plans.length);
  bars.forEach((bar, i) => {
    const segs = select(bar, 'rect', 'seg');
    let x = L.x(0);
    for (const s of segs) {
      close(num(s, 'x'), x, `bar ${i} segment start`, 0.02);
      x = num(s, 'x') + num(s, 'width');
    }
    close(x, L.x(result.plans[i].estimate.step_time_s), `bar ${i} end`, 0.05);
    assert.match(textOf(one(bar, 'text', 'bar-label')), new RegExp(`^#${i + 1} TP2 CP\\d+ DP\\d+ PP8`));
  });
  const legend = select(svg, 'text', 'legend-label').map(textOf);
  assert.ok(legend.includes(TIME_TERM_LABELS.expertsS) && legend.includes(TIME_TERM_LABELS.attentionS));
  assert.ok(!legend.includes(TIME_TERM_LABELS.recomputeS), 'recompute=none: no recompute term in the legend');
  assert.ok(!legend.includes(TIME_TERM_LABELS.denseMlpS), 'Mixtral has no dense MLP layer');

  const two = svgOf(page(await twoPlanResult()), 'bars', 'time');
  // 0..4 s (step 0.5) onto 380..964 px: attention 1 s = 146 px, then experts 3 s = 438 px
  const [att, exp] = select(select(two, 'g', 'bar')[0], 'rect', 'seg');
  assert.deepEqual([att.attributes['data-term'], num(att, 'x'), num(att, 'width')], ['attention', 380, 146]);
  assert.deepEqual([exp.attributes['data-term'], num(exp, 'x'), num(exp, 'width')], ['experts', 526, 438]);
});

test('memory bars: segments sum to the peak, the usable limit drawn, labels from the job\'s stack', async () => {
  const result = await mixtralResult();
  const svg = svgOf(page(result), 'bars', 'memory');
  const L = barsLayout(result.plans, memoryBarsSpec(result));
  select(svg, 'g', 'bar').forEach((bar, i) => {
    const segs = select(bar, 'rect', 'seg');
    const end = num(segs[segs.length - 1], 'x') + num(segs[segs.length - 1], 'width');
    close(end, L.x(result.plans[i].estimate.peak_memory_gib), `bar ${i} end`, 0.05);
  });
  close(num(one(one(svg, 'g', 'usable-limit'), 'line'), 'x1'), L.x(result.plans[0].estimate.usable_memory_gib), 'usable line');
  const legend = select(svg, 'text', 'legend-label').map(textOf);
  assert.ok(legend.includes('weights (bf16)') && legend.includes('activations (in-flight micro-batches)'), legend.join(' | '));
  assert.ok(!legend.includes('FP8 weight copies (TE, row-wise + transpose)'), 'a bf16 job has no FP8 copies');
});

test('tables: one row per plan with mapping, tok/s/GPU, MFU, step, peak and headroom; the best row marked', async () => {
  const result = await mixtralResult();
  const doc = page(result);
  const table = one(doc, 'table', 'top');
  assert.deepEqual(select(one(table, 'thead'), 'th').map(textOf), ['#', 'mapping', 'run', 'tok/s/GPU', 'MFU', 'step s', 'peak GiB', 'headroom GiB', 'main costs']);
  const rows = select(one(table, 'tbody'), 'tr');
  assert.equal(rows.length, result.plans.length);
  assert.ok(hasClass(rows[0], 'best'));
  rows.forEach((row, i) => {
    const cells = select(row, 'td').map(textOf);
    const e = result.plans[i].estimate;
    assert.equal(cells[0], String(i + 1));
    assert.equal(cells[3], Math.round(e.tokens_per_s_per_gpu).toLocaleString('en-US'));
    assert.equal(cells[4], `${(100 * e.mfu).toFixed(1)}%`);
    assert.equal(cells[6], e.peak_memory_gib.toFixed(1));
    assert.equal(cells[7], (e.usable_memory_gib - e.peak_memory_gib).toFixed(1));
    assert.match(cells[8], /^experts \d+%/);
    assert.match(select(row, 'td')[1].attributes.title, /^even split, 7 layers per stage|first\/last stage|layers/, 'the split on hover');
  });
  assert.equal(select(one(one(doc, 'table', 'pareto'), 'tbody'), 'tr').length, (result.pareto ?? []).length);
});

test('scaling: without a sweep the page says how to get one; with one, a line per GPU kind on a log2 axis', async () => {
  const result = await mixtralResult();
  const without = select(page(result), 'section').find((s) => s.attributes.id === 'scaling') as El;
  assert.match(textOf(without), /moefold sweep JOB --gpus .* --format json > sweep\.json.*--sweep sweep\.json/);
  assert.equal(select(without, 'svg').length, 0);

  const sweep = fixtureSweep();
  const doc = page(result, sweep);
  const svg = svgOf(doc, 'scaling', 'per_gpu');
  assert.deepEqual(select(svg, 'text', 'tick', 'x').map(textOf), ['16', '32', '64', '128', '256', '512']);
  const series = select(svg, 'g', 'series');
  assert.deepEqual(series.map((s) => s.attributes['data-series']), ['h100-sxm', 'h200-sxm']);
  assert.deepEqual(series.map((s) => select(s, 'circle', 'pt').length), [4, 4], 'h100 × 16 has no plan: no point');
  assert.equal(series.map((s) => select(s, 'path', 'scaling-line').length).join(), '1,1');
  // by hand: x 16..512 (5 doublings) onto 96..876 px, 156 px per doubling; y 0..2,000 onto 336..16 px
  const h100at64 = sweep.points.find((p) => p.gpu === 'h100-sxm' && p.gpus === 64);
  assert.ok(h100at64?.best);
  const c = select(series[0], 'circle', 'pt')[0];
  assert.equal(num(c, 'cx'), 96 + 2 * 156);
  close(num(c, 'cy'), 336 - (h100at64.best.estimate.tokens_per_s_per_gpu / 2000) * 320, 'y of h100 × 64');
  const cross = one(svg, 'path', 'pt', 'no-plan');
  assert.match(textOf(one(cross, 'title')), /^h100-sxm × 16 GPUs \(seq 4096\): no plan: none of the/);
  assert.ok(cross.attributes.d.startsWith(`M${96 - 5} `), 'the cross sits at 16 GPUs');
  const total = svgOf(doc, 'scaling', 'total');
  assert.equal(textOf(one(total, 'text', 'axis-title', 'y')), 'total tokens/s (best plan)');
  const scaling = select(doc, 'section').find((s) => s.attributes.id === 'scaling') as El;
  assert.match(textOf(scaling), /No plan at: h100-sxm × 16 \(seq 4096\): none of the/);
  assert.equal(select(one(scaling, 'table', 'sweep'), 'tr').length, sweep.points.length + 1);
});

test('escaping: a model, job file and calibration named with <script> and & stay text', async () => {
  const result = await mixtralResult();
  const evil = 'Evil<script>alert(1)</script> & "Co" \'x\'';
  result.model.name = evil;
  result.job_file = 'jobs/<img src=x onerror=alert(1)>&\u0007\n.yaml';
  result.calibration.label = 'h100 <b>&amp;</b>';
  const sweep = fixtureSweep();
  sweep.model.name = evil;
  sweep.points[0].reason = '<script>x</script>';
  const html = renderReportHtml({ result, sweep });
  assert.doesNotMatch(html, /<script|<img|<b>/);
  assert.match(html, /Evil&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;Co&quot; &#39;x&#39;/);
  const doc = parseXml(html); // still well-formed
  assert.ok(textOf(one(one(doc, 'head'), 'title')).includes(`${evil} on 128 × h100 <b>&amp;</b>`), 'the title reads as the names were written');
  assert.ok(textOf(one(doc, 'header')).includes('jobs/<img src=x onerror=alert(1)>&\\u0007\\n.yaml'), 'controls shown as escapes');
});

test('a result without a Pareto front (tune without --pareto) draws the plans only', async () => {
  const result = await mixtralResult();
  delete result.pareto;
  const doc = page(result);
  const svg = svgOf(doc, 'scatter', 'full');
  assert.equal(select(svg, 'path', 'pareto-front').length, 0);
  assert.equal(select(svg, 'path', 'pt', 'pareto').length, 0);
  assert.equal(select(svg, 'circle', 'pt', 'top').length, result.plans.length);
  assert.deepEqual(select(svg, 'text', 'legend-label').map(textOf), [`top ${result.plans.length} plans`, 'best plan', 'usable memory']);
  assert.deepEqual(select(doc, 'section').map((s) => s.attributes.id), ['throughput-memory', 'scaling', 'time', 'memory', 'top-plans']);
});
