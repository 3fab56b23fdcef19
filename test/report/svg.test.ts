/** The report's SVG primitives: escaping, scales, nice ticks, log2 ticks, paths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, linearScale, log2Scale, log2Ticks, niceDomain, niceStep, px, stepPath, linePath, tickLabel } from '../../src/report/svg.js';

test('escapeXml escapes the five XML specials and nothing else', () => {
  assert.equal(escapeXml(`<script>alert("x") & 'y'</script>`), '&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;');
  assert.equal(escapeXml('Mixtral-8x22B · 128 × h100'), 'Mixtral-8x22B · 128 × h100');
  assert.equal(escapeXml('&amp;'), '&amp;amp;', 'an entity in the input is text, escaped again');
  assert.equal(escapeXml('a\nb\u0000c\u202ed\ud800'), 'a\\nb\\u0000c\\u202ed\\ud800', 'controls, bidi overrides and lone surrogates as escapes');
});

test('linearScale maps the domain onto the range, inverted ranges included', () => {
  const x = linearScale([40, 80], [84, 876]);
  assert.equal(x(40), 84);
  assert.equal(x(80), 876);
  assert.equal(x(60), 480);
  const y = linearScale([1000, 1500], [396, 16]);
  assert.equal(y(1000), 396);
  assert.equal(y(1500), 16);
  assert.equal(y(1250), 206);
  assert.equal(linearScale([5, 5], [0, 100])(5), 50, 'an empty domain maps to the middle');
});

test('log2Scale gives each doubling the same distance', () => {
  const x = log2Scale([16, 512], [0, 500]);
  assert.equal(x(16), 0);
  assert.equal(x(512), 500);
  assert.equal(x(32) - x(16), 100);
  assert.equal(x(256) - x(128), 100);
  assert.ok(Math.abs(x(96) - (x(64) + 100 * Math.log2(1.5))) < 1e-9, 'a count between powers lies where log2 says');
});

test('niceStep picks 1, 2 or 5 × 10^k', () => {
  assert.equal(niceStep(0, 10, 5), 2);
  assert.equal(niceStep(0, 1, 5), 0.2);
  assert.equal(niceStep(1000, 1500, 6), 100);
  assert.equal(niceStep(40, 80, 6), 5);
  assert.equal(niceStep(0, 7, 6), 1);
});

test('niceDomain widens to whole steps and lists the ticks without float noise', () => {
  assert.deepEqual(niceDomain(20.77, 79.65), { domain: [20, 80], ticks: [20, 30, 40, 50, 60, 70, 80], step: 10 });
  assert.deepEqual(niceDomain(0.1, 0.7).ticks, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  const single = niceDomain(100, 100);
  assert.ok(single.domain[0] < 100 && single.domain[1] > 100, 'a single value gets an interval around it');
  assert.deepEqual(niceDomain(5, 1).domain, [1, 5], 'reversed bounds are swapped');
});

test('log2Ticks spans the powers of two around the counts', () => {
  assert.deepEqual(log2Ticks(16, 512), [16, 32, 64, 128, 256, 512]);
  assert.deepEqual(log2Ticks(96, 1000), [64, 128, 256, 512, 1024]);
  assert.deepEqual(log2Ticks(128, 128), [128, 256], 'one count still gets an axis');
});

test('tick labels: thousands separated, decimals only as the step needs', () => {
  assert.equal(tickLabel(1500, 100), '1,500');
  assert.equal(tickLabel(0.25, 0.05), '0.25');
  assert.equal(tickLabel(0.2, 0.2), '0.2');
  assert.equal(tickLabel(70, 10), '70');
});

test('paths: a polyline and a Pareto staircase (horizontal, then vertical)', () => {
  assert.equal(linePath([[0, 10], [5, 5], [10, 0]]), 'M0 10 L5 5 L10 0');
  assert.equal(stepPath([[10, 100], [20, 80], [35.555, 60]]), 'M10 100 H20 V80 H35.56 V60');
  assert.equal(stepPath([]), '');
  assert.equal(px(-0.001), '0');
});
