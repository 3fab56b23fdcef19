/**
 * Stacked horizontal bars, one per plan: the step time split into its terms, or the peak memory split into its
 * terms (with the usable-memory limit). Terms no plan has are left out of the bars and the legend.
 */
import type { ResultJson } from '../plans/result.js';
import type { PlanJson } from '../render/plan-json.js';
import type { TimeBreakdown, MemoryBreakdown } from '../cost/estimate.js';
import { MEMORY_TERM_SIDE } from '../cost/estimate.js';
import { TIME_TERM_LABELS } from '../render/cost-shares.js';
import { memoryTermLabels } from '../render/explain.js';
import { snakeWithoutUnit } from '../render/numbers.js';
import { categoryColour, MARK_COLOURS } from './palette.js';
import { jobOfResult, mappingText } from './report-input.js';
import { escapeXml, legend, linearScale, niceDomain, px, svgRoot, tickLabel, xAxis, type Box } from './svg.js';

export const BARS_WIDTH = 1040;
/** Room for the longest mapping label: `#100 TP4 (no SP) CP2 DP16 PP16 (4/1) VPP2 | ETP1 EP8 EDP2`. */
const LABEL_WIDTH = 380;
const ROW_HEIGHT = 20;
const BAR_HEIGHT = 14;
const MARGIN = { right: 76, top: 10, bottom: 52 };

export interface BarTerm {
  /** The key of the term in the plan JSON (`time_breakdown_s` / `memory_breakdown_gib`). */
  key: string;
  label: string;
}

/** The step-time terms in their listed order, keyed as the JSON names them. */
export function timeTerms(): BarTerm[] {
  return (Object.keys(TIME_TERM_LABELS) as (keyof TimeBreakdown)[])
    .map((k) => ({ key: snakeWithoutUnit(k, 'S'), label: TIME_TERM_LABELS[k] }));
}

/** The memory terms (allocator side first, then device side), labelled for the job's stack. */
export function memoryTerms(result: ResultJson): BarTerm[] {
  const labels = memoryTermLabels(jobOfResult(result));
  return (Object.keys(MEMORY_TERM_SIDE) as (keyof MemoryBreakdown)[])
    .map((k) => ({ key: snakeWithoutUnit(k, 'Bytes'), label: labels[k] }));
}

export interface BarsSpec {
  kind: 'time' | 'memory';
  title: string;
  axisTitle: string;
  unit: string;
  terms: BarTerm[];
  values: (p: PlanJson) => Record<string, number>;
  total: (p: PlanJson) => number;
  /** A vertical limit line (the usable memory), or null. */
  limit: number | null;
}

export function timeBarsSpec(): BarsSpec {
  return {
    kind: 'time', title: 'Step time breakdown of the top plans', axisTitle: 'step time (s)', unit: 's', terms: timeTerms(),
    values: (p) => p.estimate.time_breakdown_s, total: (p) => p.estimate.step_time_s, limit: null,
  };
}

export function memoryBarsSpec(result: ResultJson): BarsSpec {
  const usable = result.plans[0]?.estimate.usable_memory_gib ?? null;
  return {
    kind: 'memory', title: 'Peak memory breakdown of the top plans', axisTitle: 'peak memory per GPU (GiB)', unit: 'GiB',
    terms: memoryTerms(result), values: (p) => p.estimate.memory_breakdown_gib, total: (p) => p.estimate.peak_memory_gib, limit: usable,
  };
}

/** The bar chart's plot area and x scale (exported so tests can check where segments are placed). */
export function barsLayout(plans: readonly PlanJson[], spec: BarsSpec): { box: Box; x: ReturnType<typeof linearScale>; ticks: number[]; step: number } {
  const maxTotal = Math.max(...plans.map((p) => Math.max(spec.total(p), sumOf(spec.values(p)))), spec.limit ?? 0);
  const d = niceDomain(0, maxTotal);
  const box: Box = { x: LABEL_WIDTH, y: MARGIN.top, w: BARS_WIDTH - LABEL_WIDTH - MARGIN.right, h: plans.length * ROW_HEIGHT };
  return { box, x: linearScale(d.domain, [box.x, box.x + box.w]), ticks: d.ticks, step: d.step };
}

function sumOf(values: Record<string, number>): number {
  let s = 0;
  for (const v of Object.values(values)) s += v > 0 ? v : 0;
  return s;
}

export function barsChart(result: ResultJson, plans: readonly PlanJson[], spec: BarsSpec): string {
  if (plans.length === 0) return '';
  const job = jobOfResult(result);
  const used = spec.terms.map((t, i) => ({ ...t, colour: categoryColour(i) }))
    .filter((t) => plans.some((p) => (spec.values(p)[t.key] ?? 0) > 0));
  const L = barsLayout(plans, spec);
  const { box, x } = L;
  const parts: string[] = [xAxis(box, x, L.ticks, (v) => tickLabel(v, L.step), spec.axisTitle)];
  plans.forEach((p, i) => {
    const rowY = box.y + i * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const values = spec.values(p);
    const total = spec.total(p);
    parts.push(`<g class="bar" data-rank="${p.rank}">`
      + `<text class="bar-label" x="${px(box.x - 8)}" y="${px(rowY + BAR_HEIGHT / 2)}" dy="0.32em" text-anchor="end">`
      + `#${p.rank} ${escapeXml(mappingText(job, p, `plans[${i}]`))}</text>`);
    let acc = 0;
    for (const t of used) {
      const v = values[t.key] ?? 0;
      if (!(v > 0)) continue;
      const x0 = x(acc);
      const x1 = x(acc + v);
      acc += v;
      const share = total > 0 ? ` (${((100 * v) / total).toFixed(1)}%)` : '';
      parts.push(`<rect class="seg" data-term="${escapeXml(t.key)}" x="${px(x0)}" y="${px(rowY)}" width="${px(Math.max(0, x1 - x0))}" height="${BAR_HEIGHT}"`
        + ` fill="${t.colour}"><title>#${p.rank} ${escapeXml(t.label)}: ${escapeXml(formatValue(v, spec.unit))}${share}</title></rect>`);
    }
    parts.push(`<text class="bar-total" x="${px(Math.max(x(acc), spec.limit === null ? 0 : x(spec.limit)) + 4)}" y="${px(rowY + BAR_HEIGHT / 2)}" dy="0.32em">${escapeXml(formatValue(total, spec.unit))}</text></g>`);
  });
  if (spec.limit !== null) {
    const lx = x(spec.limit);
    parts.push(`<g class="usable-limit"><line x1="${px(lx)}" y1="${px(box.y)}" x2="${px(lx)}" y2="${px(box.y + box.h)}" stroke="${MARK_COLOURS.limit}" stroke-width="2" stroke-dasharray="6 4"/></g>`);
  }
  const entries = used.map((t) => ({ label: t.label, swatch: `<rect x="0" y="-6" width="14" height="12" fill="${t.colour}"/>` }));
  if (spec.limit !== null) {
    entries.push({ label: `usable ${spec.limit.toFixed(1)} GiB`, swatch: `<path d="M7 -7 V7" stroke="${MARK_COLOURS.limit}" stroke-width="2" stroke-dasharray="4 3"/>` });
  }
  const lg = legend(box.x - LABEL_WIDTH + 12, box.y + box.h + MARGIN.bottom + 4, BARS_WIDTH - 24, entries);
  parts.push(lg.svg);
  const height = box.y + box.h + MARGIN.bottom + lg.height + 8;
  return svgRoot(`chart bars ${spec.kind}`, BARS_WIDTH, height, spec.title, parts.join(''));
}

function formatValue(v: number, unit: string): string {
  return `${v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3)} ${unit}`;
}
