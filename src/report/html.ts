/**
 * `moefold report`: one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) drawn from a
 * tune result and, optionally, a sweep. Pure: the same input gives the same bytes.
 */
import type { PlanJson } from '../render/plan-json.js';
import type { SweepJson } from '../sweep/sweep-json.js';
import type { ResultJson } from '../plans/result.js';
import { describeJob, formatParamCount } from '../job/describe.js';
import { barsChart, memoryBarsSpec, timeBarsSpec } from './bars.js';
import { scatterChart } from './scatter.js';
import { scalingChart } from './scaling.js';
import { escapeXml as esc } from './svg.js';
import { headroomGib, jobOfResult, mainCostSharesOfJson, mappingText, runText, splitOf, type ReportInput } from './report-input.js';

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: #1b1b1b; background: #fff; margin: 24px auto; max-width: 1180px; padding: 0 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
p.lead { margin: 0 0 12px; color: #333; }
p.note, p.caption { color: #555; margin: 4px 0 10px; max-width: 900px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
table.plans { border-collapse: collapse; font-size: 12.5px; margin: 6px 0 12px; }
table.plans th, table.plans td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; white-space: nowrap; }
table.plans td.wrap { white-space: normal; min-width: 180px; }
table.plans th { background: #f2f4f7; }
table.plans td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.plans tr.best td { background: #fff8e0; }
svg.chart { display: block; margin: 6px 0; max-width: 100%; height: auto; }
svg.chart text { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 11px; fill: #333; }
svg.chart .axis-title { font-size: 12px; fill: #111; }
svg.chart .axis-line, svg.chart .tick-mark { stroke: #555; stroke-width: 1; }
svg.chart .grid { stroke: #e8e8e8; stroke-width: 1; }
svg.chart .best-label, svg.chart .limit-label { font-size: 12px; font-weight: bold; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
details { margin: 4px 0; } summary { cursor: pointer; color: #333; }
`;

export function renderReportHtml(input: ReportInput): string {
  const { result, sweep } = input;
  const title = `moefold report: ${result.model.name} on ${result.cluster.gpus} × ${result.calibration.label}`;
  const body = [
    headerSection(result),
    section('throughput-memory', 'Throughput vs peak memory', scatterSection(result)),
    section('scaling', 'Scaling', scalingSection(sweep)),
    section('time', 'Where the step time goes', barsSection(result, 'time')),
    section('memory', 'Where the memory goes', barsSection(result, 'memory')),
    section('top-plans', `Top ${result.plans.length} plans`, plansTable(result, result.plans, 'plans', 'top')),
    result.pareto && result.pareto.length > 0
      ? section('pareto', `Pareto front (${result.pareto.length} plans, lowest memory first)`, plansTable(result, result.pareto, 'pareto', 'pareto'))
      : '',
  ].join('\n');
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n<meta name="viewport" content="width=device-width, initial-scale=1"/>\n`
    + `<meta name="generator" content="moefold ${esc(result.moefold.version)}"/>\n<title>${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n`
    + `<body>\n${body}\n</body>\n</html>\n`;
}

function section(id: string, heading: string, content: string): string {
  return `<section id="${esc(id)}">\n<h2>${esc(heading)}</h2>\n${content}\n</section>`;
}

/** How the plans are ranked, in words. */
export function rankingText(result: ResultJson): string {
  const o = result.moefold.objective;
  const what = o === 'throughput' ? 'highest tokens/s per GPU first' : o === 'memory' ? 'lowest peak memory first' : `by ${o}`;
  const r = result.ranking;
  if (!r) return `ranked ${what}; only plans whose peak memory fits the GPU's usable memory are ranked`;
  const pct = `${+(100 * r.tie).toFixed(1)} %`;
  const src = r.tie_source === '--tie' ? 'set with --tie' : r.tie_source === 'none' ? 'no cross-validation file: exact ties'
    : `the model's cross-validated error, ${r.tie_source}${r.tie_derived_from ? `, measured on ${r.tie_derived_from}` : ''}`;
  return `ranked ${what}; plans within ${pct} of the best are a tie (${src}), ordered by memory headroom, then simplicity;`
    + ` only plans leaving ${r.memory_margin_gib} GiB free are ranked (${r.ranked.toLocaleString('en-US')} plans)`;
}

function headerSection(result: ResultJson): string {
  const job = jobOfResult(result);
  const s = result.search;
  const n = (v: number) => v.toLocaleString('en-US');
  const cal = result.calibration;
  const calText = `${cal.label} (${cal.file}${cal.overlays.map((o) => ` + ${o.file}`).join('')})`;
  const c = result.cluster;
  const pruned = Object.entries(s.pruned);
  const facts: [string, string][] = [
    ['job file', `<code>${esc(result.job_file)}</code>`],
    ['model', esc(describeJob(job, cal.label))],
    ['cluster', esc(`${c.gpus} GPUs, ${c.gpus_per_node} per node, ${cal.name}`)],
    ['calibration', esc(calText)],
    ['search', esc(`${n(s.enumerated)} candidates enumerated · ${n(s.valid)} valid (Megatron accepts) · ${n(s.fitting)} fit in memory`
      + ` · ${n(s.pruned_by_static_memory)} skipped early (weights and optimizer alone exceed the GPU)`
      + (s.wall_s !== null ? ` · ${s.wall_s} s` : '') + (s.interrupted ? ' · interrupted: the best found so far' : ''))],
    ['ranking', esc(rankingText(result))],
    ['search space', `<code>${esc(result.moefold.space)}</code>`],
    ['moefold', esc(result.moefold.version)],
  ];
  const prunedHtml = pruned.length === 0 ? '' : `<details><summary>what the rules pruned</summary><ul>${
    pruned.map(([rule, count]) => `<li><code>${esc(rule)}</code>: ${esc(n(count))}</li>`).join('')}</ul></details>`;
  return `<header>\n<h1>${esc(`${result.model.name} on ${c.gpus} × ${cal.label}`)}</h1>\n`
    + `<p class="lead">moefold report: the Megatron-Core MoE Parallel Folding plans for this job, scored and ranked.</p>\n`
    + `<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>\n${prunedHtml}\n</header>`;
}

function scatterSection(result: ResultJson): string {
  if (result.plans.length === 0) return '<p class="note">No plan fits: nothing to plot.</p>';
  const front = result.pareto && result.pareto.length > 0
    ? ' The diamonds joined by the staircase are the Pareto front (no other plan is both faster and smaller): the staircase reads as'
      + ' the best throughput reachable within each memory budget.'
    : '';
  return `${scatterChart(result)}\n${scatterChart(result, true)}\n<p class="caption">Each dot is one of the top plans; the second chart`
    + ` zooms on them.${front} Hover a mark for the plan.</p>`;
}

function scalingSection(sweep: SweepJson | undefined): string {
  if (sweep === undefined) {
    return '<p class="note">No sweep given. To see how the best plan scales with the GPU count and kind, run '
      + '<code>moefold sweep JOB --gpus 64,128,256,512 --gpu h100-sxm,h200-sxm --format json &gt; sweep.json</code> and add '
      + '<code>--sweep sweep.json</code> to <code>moefold report</code>.</p>';
  }
  const missing = sweep.points.filter((p) => p.best === null);
  const missingHtml = missing.length === 0 ? '' : `<p class="note">No plan at: ${missing.map((p) =>
    esc(`${p.gpu} × ${p.gpus} (seq ${p.seq_length}): ${p.reason ?? 'no plan'}`)).join('; ')}.</p>`;
  const tokens = formatParamCount(sweep.tokens);
  return `<p class="caption">From <code>${esc(sweep.job_file)}</code> (${esc(sweep.model.name)}), the best plan at each point;`
    + ` time and GPU-hours are for ${esc(tokens)} tokens.</p>\n`
    + `${scalingChart(sweep, 'per_gpu')}\n${scalingChart(sweep, 'total')}\n${missingHtml}\n${sweepTable(sweep)}`;
}

function sweepTable(sweep: SweepJson): string {
  const head = ['GPU', 'GPUs', 'seq', 'GBS', 'valid', 'fit', 'tok/s/GPU', 'total tok/s', 'MFU', 'step s', 'time to train', 'GPU-hours'];
  const rows = sweep.points.map((p) => {
    const e = p.best?.estimate;
    const cells = [
      td(p.gpu), td(p.gpus.toLocaleString('en-US'), true), td(String(p.seq_length), true), td(String(p.global_batch_size), true),
      td(p.valid.toLocaleString('en-US'), true), td(p.fitting.toLocaleString('en-US'), true),
      td(e ? Math.round(e.tokens_per_s_per_gpu).toLocaleString('en-US') : '-', true),
      td(e ? Math.round(e.tokens_per_s_per_gpu * p.gpus).toLocaleString('en-US') : '-', true),
      td(e ? `${(100 * e.mfu).toFixed(1)}%` : '-', true), td(e ? e.step_time_s.toFixed(2) : '-', true),
      td(p.time_to_train_s === null ? '-' : durationText(p.time_to_train_s), true),
      td(p.gpu_hours === null ? '-' : Math.round(p.gpu_hours).toLocaleString('en-US'), true),
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table class="plans sweep"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** 93_600 s → "1.1 days", 5_400 s → "1.5 h". */
export function durationText(s: number): string {
  if (s >= 2 * 86_400) return `${(s / 86_400).toFixed(1)} days`;
  if (s >= 3_600) return `${(s / 3_600).toFixed(1)} h`;
  return `${(s / 60).toFixed(1)} min`;
}

function barsSection(result: ResultJson, kind: 'time' | 'memory'): string {
  if (result.plans.length === 0) return '';
  const spec = kind === 'time' ? timeBarsSpec() : memoryBarsSpec(result);
  const caption = kind === 'time'
    ? 'The estimated step time of each top plan, split into its terms (compute, communication left exposed, pipeline bubble, optimizer).'
    : 'The estimated peak memory of the most loaded GPU of each top plan, split into its terms; the dashed line is the usable memory.';
  return `${barsChart(result, result.plans, spec)}\n<p class="caption">${esc(caption)}</p>`;
}

/** A table cell; `hover` (if any) shows on hover (the pipeline split of a mapping). */
function td(text: string, num = false, wrap = false, hover = ''): string {
  return `<td${num ? ' class="num"' : wrap ? ' class="wrap"' : ''}${hover ? ` title="${esc(hover)}"` : ''}>${esc(text)}</td>`;
}

const PLAN_HEAD = ['#', 'mapping', 'run', 'tok/s/GPU', 'MFU', 'step s', 'peak GiB', 'headroom GiB', 'main costs'];

function plansTable(result: ResultJson, plans: readonly PlanJson[], field: string, cls: string): string {
  const job = jobOfResult(result);
  const best = result.plans[0];
  const rows = plans.map((p, i) => {
    const e = p.estimate;
    const isBest = best !== undefined && samePlan(p, best);
    return `<tr${isBest ? ' class="best"' : ''}>${[
      td(String(p.rank), true), td(mappingText(job, p, `${field}[${i}]`), false, false, splitOf(job, p, `${field}[${i}]`)), td(runText(job, p), false, true),
      td(Math.round(e.tokens_per_s_per_gpu).toLocaleString('en-US'), true), td(`${(100 * e.mfu).toFixed(1)}%`, true),
      td(e.step_time_s.toFixed(2), true), td(e.peak_memory_gib.toFixed(1), true), td(headroomGib(p).toFixed(1), true),
      td(mainCostSharesOfJson(p), false, true),
    ].join('')}</tr>`;
  });
  return `<table class="plans ${esc(cls)}"><thead><tr>${PLAN_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** The same plan in two lists (the Pareto front's ranks are its own). */
function samePlan(a: PlanJson, b: PlanJson): boolean {
  return JSON.stringify(a.mapping) === JSON.stringify(b.mapping) && a.micro_batch_size === b.micro_batch_size
    && a.recompute === b.recompute && a.dispatcher === b.dispatcher && a.distributed_optimizer === b.distributed_optimizer
    && a.sequence_parallel === b.sequence_parallel && a.precision === b.precision;
}
