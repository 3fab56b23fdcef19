/**
 * The SVG primitives of the report: escaping, scales, ticks, axes and paths. Small pure functions that return
 * markup text; every piece of text that reaches the page goes through escapeXml.
 */
import { oneLine } from '../text/one-line.js';

/**
 * Text for XML/HTML content and attribute values (both quote kinds escaped, so it is safe in either). Characters
 * that could break a line or the markup (controls, bidi overrides, lone surrogates: not even allowed in XML) are
 * shown as escapes first, by the one rule for text from files (text/one-line.ts).
 */
export function escapeXml(s: string): string {
  return oneLine(s).replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A pixel coordinate in the markup: at most 2 decimals, no "-0". */
export function px(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}

/** A map from a data interval onto a pixel interval (`range[1]` may be less than `range[0]`: y grows downwards). */
export interface Scale {
  (v: number): number;
  domain: readonly [number, number];
  range: readonly [number, number];
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = ((v: number) => (d1 === d0 ? (r0 + r1) / 2 : r0 + (v - d0) * k)) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** log2 scale: equal distances per doubling (a GPU-count axis). The domain must be positive. */
export function log2Scale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const lin = linearScale([Math.log2(domain[0]), Math.log2(domain[1])], range);
  const f = ((v: number) => lin(Math.log2(v))) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** The "nice" step (1, 2 or 5 × 10^k) that cuts [lo, hi] into about `count` intervals. */
export function niceStep(lo: number, hi: number, count: number): number {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/**
 * A domain widened to whole nice steps around [lo, hi] (a single value gets a small interval around it), and its
 * ticks: the multiples of the step from the low end to the high end.
 */
export function niceDomain(lo: number, hi: number, count = 6): { domain: [number, number]; ticks: number[]; step: number } {
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(lo, hi, count);
  const d0 = Math.floor(lo / step + 1e-9) * step;
  const d1 = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  const n = Math.round((d1 - d0) / step);
  for (let i = 0; i <= n; i++) ticks.push(roundToStep(d0 + i * step, step));
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, step };
}

/** Removes the float noise of `k × step` (0.30000000000000004 → 0.3). */
function roundToStep(v: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(20, decimals)));
}

/** The powers of two from the one at or below `lo` to the one at or above `hi` (a log2 axis's ticks). */
export function log2Ticks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log2(lo));
  const b = Math.max(a + 1, Math.ceil(Math.log2(hi)));
  const out: number[] = [];
  for (let k = a; k <= b; k++) out.push(2 ** k);
  return out;
}

/** A tick label: thousands separated, as few decimals as the step needs (`1,500`, `0.25`, `2,048`). */
export function tickLabel(v: number, step: number): string {
  const decimals = step >= 1 || step <= 0 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export interface Box {
  /** Left, top, width and height of the plot area (inside the axes) in pixels. */
  x: number; y: number; w: number; h: number;
}

/**
 * An x axis along the bottom of `box`: the line, a tick and label per tick value, grid lines, and the axis title.
 * Every label is a `<text class="tick x">`; the title a `<text class="axis-title x">`.
 */
export function xAxis(box: Box, scale: Scale, ticks: readonly number[], label: (v: number) => string, title: string): string {
  const y0 = box.y + box.h;
  const parts: string[] = [`<g class="axis x">`, `<line class="axis-line" x1="${px(box.x)}" y1="${px(y0)}" x2="${px(box.x + box.w)}" y2="${px(y0)}"/>`];
  for (const t of ticks) {
    const x = px(scale(t));
    parts.push(`<line class="grid" x1="${x}" y1="${px(box.y)}" x2="${x}" y2="${px(y0)}"/>`,
      `<line class="tick-mark" x1="${x}" y1="${px(y0)}" x2="${x}" y2="${px(y0 + 5)}"/>`,
      `<text class="tick x" x="${x}" y="${px(y0 + 18)}" text-anchor="middle">${escapeXml(label(t))}</text>`);
  }
  parts.push(`<text class="axis-title x" x="${px(box.x + box.w / 2)}" y="${px(y0 + 38)}" text-anchor="middle">${escapeXml(title)}</text>`, '</g>');
  return parts.join('');
}

/** A y axis along the left of `box` (labels `<text class="tick y">`, title rotated). */
export function yAxis(box: Box, scale: Scale, ticks: readonly number[], label: (v: number) => string, title: string): string {
  const parts: string[] = [`<g class="axis y">`, `<line class="axis-line" x1="${px(box.x)}" y1="${px(box.y)}" x2="${px(box.x)}" y2="${px(box.y + box.h)}"/>`];
  for (const t of ticks) {
    const y = px(scale(t));
    parts.push(`<line class="grid" x1="${px(box.x)}" y1="${y}" x2="${px(box.x + box.w)}" y2="${y}"/>`,
      `<line class="tick-mark" x1="${px(box.x - 5)}" y1="${y}" x2="${px(box.x)}" y2="${y}"/>`,
      `<text class="tick y" x="${px(box.x - 8)}" y="${y}" dy="0.32em" text-anchor="end">${escapeXml(label(t))}</text>`);
  }
  const cx = box.x - 58;
  const cy = box.y + box.h / 2;
  parts.push(`<text class="axis-title y" x="${px(cx)}" y="${px(cy)}" text-anchor="middle" transform="rotate(-90 ${px(cx)} ${px(cy)})">${escapeXml(title)}</text>`, '</g>');
  return parts.join('');
}

/** A polyline path through the points in order: `M x0 y0 L x1 y1 …`. */
export function linePath(points: readonly (readonly [number, number])[]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x)} ${px(y)}`).join(' ');
}

/**
 * A staircase through the points in order of x: from each point horizontally to the next one's x, then vertically
 * to its y (`M x0 y0 H x1 V y1 H x2 V y2 …`): the best y reachable for any x budget, for a Pareto front.
 */
export function stepPath(points: readonly (readonly [number, number])[]): string {
  if (points.length === 0) return '';
  const [x0, y0] = points[0];
  const parts = [`M${px(x0)} ${px(y0)}`];
  for (let i = 1; i < points.length; i++) parts.push(`H${px(points[i][0])} V${px(points[i][1])}`);
  return parts.join(' ');
}

/** `<svg>` root with a viewBox, a title (for screen readers and a hover) and the given body. */
export function svgRoot(cls: string, width: number, height: number, title: string, body: string): string {
  return `<svg class="${escapeXml(cls)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`
    + `<title>${escapeXml(title)}</title>${body}</svg>`;
}

/** A legend: one swatch and label per entry, laid out in rows from (x, y), wrapping at `width`. */
export function legend(x: number, y: number, width: number, entries: readonly { label: string; swatch: string }[]): { svg: string; height: number } {
  const rowH = 18;
  let cx = x;
  let cy = y;
  const parts: string[] = ['<g class="legend">'];
  for (const e of entries) {
    const w = 26 + e.label.length * 6.6;
    if (cx > x && cx + w > x + width) {
      cx = x;
      cy += rowH;
    }
    parts.push(`<g class="legend-entry" transform="translate(${px(cx)} ${px(cy)})">${e.swatch}`
      + `<text class="legend-label" x="20" y="0" dy="0.32em">${escapeXml(e.label)}</text></g>`);
    cx += w + 12;
  }
  parts.push('</g>');
  return { svg: parts.join(''), height: cy - y + rowH };
}
