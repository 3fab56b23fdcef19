/**
 * The scaling curve of a sweep: the best plan's throughput at each GPU count, one line per GPU kind (and per
 * sequence length when the sweep has several), GPUs on a log2 axis. Points without a plan are left out of the
 * lines and listed under the chart by the page.
 */
import type { SweepJson, SweepPointJson } from '../sweep/sweep-json.js';
import { categoryColour, MARK_COLOURS } from './palette.js';
import { escapeXml, legend, linePath, linearScale, log2Scale, log2Ticks, niceDomain, px, svgRoot, tickLabel, xAxis, yAxis, type Box, type Scale } from './svg.js';

export const SCALING_WIDTH = 900;
const PLOT_HEIGHT = 320;
const MARGIN = { left: 96, right: 24, top: 16, bottom: 56 };

export type ScalingMetric = 'per_gpu' | 'total';

export const SCALING_METRICS: Readonly<Record<ScalingMetric, { title: string; axis: string; value: (p: SweepPointJson) => number }>> = {
  per_gpu: {
    title: 'Scaling: best plan tokens/s per GPU vs GPUs', axis: 'tokens/s per GPU (best plan)',
    value: (p) => (p.best === null ? Number.NaN : p.best.estimate.tokens_per_s_per_gpu),
  },
  total: {
    title: 'Scaling: best plan total tokens/s vs GPUs', axis: 'total tokens/s (best plan)',
    value: (p) => (p.best === null ? Number.NaN : p.best.estimate.tokens_per_s_per_gpu * p.gpus),
  },
};

export interface ScalingSeries {
  label: string;
  /** Points with a plan, by GPU count. */
  points: SweepPointJson[];
}

/** One series per GPU kind (and sequence length, when the sweep has more than one), in the sweep's order. */
export function scalingSeries(sweep: SweepJson): ScalingSeries[] {
  const seqs = new Set(sweep.points.map((p) => p.seq_length));
  const byKey = new Map<string, ScalingSeries>();
  for (const p of sweep.points) {
    const label = seqs.size > 1 ? `${p.gpu} · seq ${p.seq_length}` : p.gpu;
    let s = byKey.get(label);
    if (s === undefined) {
      s = { label, points: [] };
      byKey.set(label, s);
    }
    if (p.best !== null) s.points.push(p);
  }
  for (const s of byKey.values()) s.points.sort((a, b) => a.gpus - b.gpus);
  return [...byKey.values()];
}

export function scalingLayout(sweep: SweepJson, metric: ScalingMetric): { box: Box; x: Scale; y: Scale; xTicks: number[]; yTicks: number[]; yStep: number } {
  const withPlan = sweep.points.filter((p) => p.best !== null);
  const gpus = sweep.points.map((p) => p.gpus);
  const values = withPlan.map(SCALING_METRICS[metric].value);
  const xTicks = log2Ticks(Math.min(...gpus), Math.max(...gpus));
  const yd = niceDomain(0, values.length ? Math.max(...values) : 1);
  const box: Box = { x: MARGIN.left, y: MARGIN.top, w: SCALING_WIDTH - MARGIN.left - MARGIN.right, h: PLOT_HEIGHT };
  return {
    box,
    x: log2Scale([xTicks[0], xTicks[xTicks.length - 1]], [box.x, box.x + box.w]),
    y: linearScale(yd.domain, [box.y + box.h, box.y]),
    xTicks, yTicks: yd.ticks, yStep: yd.step,
  };
}

export function scalingChart(sweep: SweepJson, metric: ScalingMetric): string {
  if (sweep.points.length === 0) return '';
  const m = SCALING_METRICS[metric];
  const L = scalingLayout(sweep, metric);
  const { box, x, y } = L;
  const parts: string[] = [
    xAxis(box, x, L.xTicks, (v) => v.toLocaleString('en-US'), 'GPUs (log2 scale)'),
    yAxis(box, y, L.yTicks, (v) => tickLabel(v, L.yStep), m.axis),
  ];
  const series = scalingSeries(sweep);
  series.forEach((s, i) => {
    const colour = categoryColour(i);
    const pts = s.points.map((p) => [x(p.gpus), y(m.value(p))] as const);
    parts.push(`<g class="series" data-series="${escapeXml(s.label)}">`);
    if (pts.length > 1) parts.push(`<path class="scaling-line" d="${linePath(pts)}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    s.points.forEach((p, j) => {
      const e = p.best?.estimate;
      const tip = `${s.label} × ${p.gpus} GPUs: ${Math.round(e?.tokens_per_s_per_gpu ?? 0).toLocaleString('en-US')} tok/s/GPU, `
        + `${Math.round((e?.tokens_per_s_per_gpu ?? 0) * p.gpus).toLocaleString('en-US')} tok/s total, MFU ${(100 * (e?.mfu ?? 0)).toFixed(1)}%`;
      parts.push(`<circle class="pt scaling" cx="${px(pts[j][0])}" cy="${px(pts[j][1])}" r="4" fill="${colour}"><title>${escapeXml(tip)}</title></circle>`);
    });
    parts.push('</g>');
  });
  // Points without a plan: a grey cross on the x axis, the reason on hover.
  const none = sweep.points.filter((p) => p.best === null);
  const yBase = box.y + box.h;
  for (const p of none) {
    const cx = x(p.gpus);
    parts.push(`<path class="pt no-plan" d="M${px(cx - 5)} ${px(yBase - 5)} L${px(cx + 5)} ${px(yBase + 5)} M${px(cx - 5)} ${px(yBase + 5)} L${px(cx + 5)} ${px(yBase - 5)}"`
      + ` stroke="${MARK_COLOURS.noPlan}" stroke-width="2"><title>${escapeXml(`${p.gpu} × ${p.gpus} GPUs (seq ${p.seq_length}): no plan: ${p.reason ?? 'none'}`)}</title></path>`);
  }
  const entries = series.map((s, i) => ({ label: s.label, swatch: `<path d="M0 0 H14" stroke="${categoryColour(i)}" stroke-width="2"/><circle cx="7" cy="0" r="3.5" fill="${categoryColour(i)}"/>` }));
  if (none.length > 0) entries.push({ label: 'no plan (hover for why)', swatch: `<path d="M2 -5 L12 5 M2 5 L12 -5" stroke="${MARK_COLOURS.noPlan}" stroke-width="2"/>` });
  const lg = legend(box.x, PLOT_HEIGHT + MARGIN.top + MARGIN.bottom + 4, box.w, entries);
  parts.push(lg.svg);
  const height = PLOT_HEIGHT + MARGIN.top + MARGIN.bottom + lg.height + 8;
  return svgRoot(`chart scaling ${metric}`, SCALING_WIDTH, height, m.title, parts.join(''));
}
