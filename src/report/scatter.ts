/**
 * Throughput vs peak memory: the top plans as dots, the Pareto front as diamonds joined by a staircase (the best
 * throughput reachable within each memory budget), the usable-memory limit as a vertical line, the best plan
 * ringed and labelled.
 */
import type { ResultJson } from '../plans/result.js';
import type { PlanJson } from '../render/plan-json.js';
import type { Job } from '../job/types.js';
import { MARK_COLOURS } from './palette.js';
import { jobOfResult, mappingText } from './report-input.js';
import { escapeXml, legend, linearScale, niceDomain, px, stepPath, svgRoot, tickLabel, xAxis, yAxis, type Box } from './svg.js';

export const SCATTER_WIDTH = 900;
const PLOT_HEIGHT = 380;
const MARGIN = { left: 84, right: 24, top: 16, bottom: 56 };

/**
 * Where the scatter's plot area lies, and its scales (exported so tests can place points by hand). The full view
 * spans every plan drawn; `zoom` spans the top plans only (they are often within a few percent of each other).
 * Both include the usable-memory limit.
 */
export function scatterLayout(result: ResultJson, zoom = false): { box: Box; x: ReturnType<typeof linearScale>; y: ReturnType<typeof linearScale>;
  xTicks: number[]; yTicks: number[]; xStep: number; yStep: number } {
  const all = zoom ? result.plans : [...result.plans, ...(result.pareto ?? [])];
  const mems = all.map((p) => p.estimate.peak_memory_gib);
  const tputs = all.map((p) => p.estimate.tokens_per_s_per_gpu);
  const usable = usableGib(result);
  const xd = niceDomain(Math.min(...mems, usable), Math.max(...mems, usable));
  const yd = niceDomain(Math.min(...tputs), Math.max(...tputs));
  const box: Box = { x: MARGIN.left, y: MARGIN.top, w: SCATTER_WIDTH - MARGIN.left - MARGIN.right, h: PLOT_HEIGHT };
  return {
    box,
    x: linearScale(xd.domain, [box.x, box.x + box.w]),
    y: linearScale(yd.domain, [box.y + box.h, box.y]),
    xTicks: xd.ticks, yTicks: yd.ticks, xStep: xd.step, yStep: yd.step,
  };
}

/** The usable memory of the GPU the plans were scored for (the same for every plan of a result). */
export function usableGib(result: ResultJson): number {
  const p = result.plans[0] ?? result.pareto?.[0];
  return p === undefined ? 0 : p.estimate.usable_memory_gib;
}

function pointTitle(job: Job, p: PlanJson, field: string, what: string): string {
  const e = p.estimate;
  return `${what} #${p.rank}: ${mappingText(job, p, field)} · ${Math.round(e.tokens_per_s_per_gpu).toLocaleString('en-US')} tok/s/GPU`
    + ` · ${e.peak_memory_gib.toFixed(1)} GiB peak · MFU ${(100 * e.mfu).toFixed(1)}%`;
}

function diamond(cx: number, cy: number, r: number): string {
  return `M${px(cx)} ${px(cy - r)} L${px(cx + r)} ${px(cy)} L${px(cx)} ${px(cy + r)} L${px(cx - r)} ${px(cy)} Z`;
}

/** True when (x, y) lies in the domain of both scales (a zoomed view leaves the other Pareto plans out). */
function inView(L: ReturnType<typeof scatterLayout>, p: PlanJson): boolean {
  const [x0, x1] = L.x.domain;
  const [y0, y1] = L.y.domain;
  const m = p.estimate.peak_memory_gib;
  const t = p.estimate.tokens_per_s_per_gpu;
  return m >= x0 && m <= x1 && t >= y0 && t <= y1;
}

export function scatterChart(result: ResultJson, zoom = false): string {
  if (result.plans.length === 0) return '';
  const job = jobOfResult(result);
  const L = scatterLayout(result, zoom);
  const kind = zoom ? 'zoom' : 'full';
  const { box, x, y } = L;
  const parts: string[] = [];
  parts.push(xAxis(box, x, L.xTicks, (v) => tickLabel(v, L.xStep), 'peak memory per GPU (GiB)'));
  parts.push(yAxis(box, y, L.yTicks, (v) => tickLabel(v, L.yStep), 'tokens/s per GPU'));

  const usable = usableGib(result);
  const ux = x(usable);
  parts.push(`<g class="usable-limit"><line x1="${px(ux)}" y1="${px(box.y)}" x2="${px(ux)}" y2="${px(box.y + box.h)}" stroke="${MARK_COLOURS.limit}" stroke-width="2" stroke-dasharray="6 4"/>`
    + `<text class="limit-label" x="${px(ux - 6)}" y="${px(box.y + box.h - 8)}" text-anchor="end">usable ${escapeXml(usable.toFixed(1))} GiB</text></g>`);

  const front = result.pareto ?? [];
  const pareto = front.filter((p) => inView(L, p));
  if (front.length > 0) {
    // The staircase runs through the whole front; a zoomed view clips it to the plot area.
    const clipId = `clip-scatter-${kind}`;
    const pts = front.map((p) => [x(p.estimate.peak_memory_gib), y(p.estimate.tokens_per_s_per_gpu)] as const);
    parts.push(`<clipPath id="${clipId}"><rect x="${px(box.x)}" y="${px(box.y)}" width="${px(box.w)}" height="${px(box.h)}"/></clipPath>`,
      `<path class="pareto-front" d="${stepPath(pts)}" fill="none" stroke="${MARK_COLOURS.pareto}" stroke-width="1.5" clip-path="url(#${clipId})"/>`);
  }
  parts.push('<g class="points top">');
  result.plans.forEach((p, i) => {
    parts.push(`<circle class="pt top" data-rank="${p.rank}" cx="${px(x(p.estimate.peak_memory_gib))}" cy="${px(y(p.estimate.tokens_per_s_per_gpu))}" r="4.5"`
      + ` fill="${MARK_COLOURS.top}" fill-opacity="0.75"><title>${escapeXml(pointTitle(job, p, `plans[${i}]`, 'plan'))}</title></circle>`);
  });
  parts.push('</g><g class="points pareto">');
  pareto.forEach((p) => {
    parts.push(`<path class="pt pareto" data-rank="${p.rank}" d="${diamond(x(p.estimate.peak_memory_gib), y(p.estimate.tokens_per_s_per_gpu), 5)}"`
      + ` fill="${MARK_COLOURS.pareto}"><title>${escapeXml(pointTitle(job, p, `pareto[${front.indexOf(p)}]`, 'Pareto plan'))}</title></path>`);
  });
  parts.push('</g>');

  const best = result.plans[0];
  const bx = x(best.estimate.peak_memory_gib);
  const by = y(best.estimate.tokens_per_s_per_gpu);
  const leftSide = bx > box.x + box.w * 0.7;
  const labelY = by - 12 < box.y + 12 ? by + 22 : by - 12; // below the ring when the ring is at the top of the plot
  parts.push(`<g class="best"><circle cx="${px(bx)}" cy="${px(by)}" r="9" fill="none" stroke="${MARK_COLOURS.best}" stroke-width="2"/>`
    + `<text class="best-label" x="${px(bx + (leftSide ? -14 : 14))}" y="${px(labelY)}" text-anchor="${leftSide ? 'end' : 'start'}">best: #1 `
    + `${escapeXml(Math.round(best.estimate.tokens_per_s_per_gpu).toLocaleString('en-US'))} tok/s/GPU</text></g>`);

  const entries = [
    { label: `top ${result.plans.length} plans`, swatch: `<circle cx="7" cy="0" r="4.5" fill="${MARK_COLOURS.top}"/>` },
    { label: zoom ? `Pareto front (${pareto.length} of ${front.length} plans in view)` : `Pareto front (${front.length} plans)`, swatch: `<path d="M0 0 H14" stroke="${MARK_COLOURS.pareto}" stroke-width="1.5"/><path d="${diamond(7, 0, 5)}" fill="${MARK_COLOURS.pareto}"/>` },
    { label: 'best plan', swatch: `<circle cx="7" cy="0" r="6" fill="none" stroke="${MARK_COLOURS.best}" stroke-width="2"/>` },
    { label: 'usable memory', swatch: `<path d="M7 -7 V7" stroke="${MARK_COLOURS.limit}" stroke-width="2" stroke-dasharray="4 3"/>` },
  ].filter((_, i) => i !== 1 || front.length > 0); // a result without a Pareto front (tune without --pareto) has no front entry
  const lg = legend(box.x, PLOT_HEIGHT + MARGIN.top + MARGIN.bottom + 4, box.w, entries);
  parts.push(lg.svg);
  const height = PLOT_HEIGHT + MARGIN.top + MARGIN.bottom + lg.height + 8;
  const title = zoom ? 'Throughput vs peak memory, zoomed on the top plans' : 'Throughput vs peak memory: top plans and the Pareto front';
  return svgRoot(`chart scatter ${kind}`, SCATTER_WIDTH, height, title, parts.join(''));
}
