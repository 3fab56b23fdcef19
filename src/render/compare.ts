/**
 * Where a given plan ranks and what the best plan changes, term by term (`score --rank`, `tune --compare`):
 * pure renderers from (job, the two plans with their estimates, the counts) to text and to JSON.
 */
import Table from 'cli-table3';
import type { Job } from '../job/types.js';
import type { Plan } from '../enumerate/plan.js';
import { headroomBytes, type MemoryBreakdown, type TimeBreakdown } from '../cost/estimate.js';
import { isUnevenSplit, splitKind } from '../plan/layout.js';
import type { RankPosition, ScoredPlan } from '../search/compare.js';
import { comparePlans } from '../search/order.js';
import { TIME_TERM_LABELS } from './cost-shares.js';
import { memoryTermLabels, describeMapping } from './explain.js';
import { GIB, sig, snakeWithoutUnit } from './numbers.js';
import type { PlanJson } from './plan-json.js';
import { planToJson } from './plan-json.js';

export interface CompareInput {
  job: Job;
  given: ScoredPlan;
  /** The best plan of the space; null when no plan fits. */
  best: ScoredPlan | null;
  rank: RankPosition;
}

const int = (n: number) => n.toLocaleString('en-US');
const pct = (f: number) => `${+(100 * f).toFixed(1)} %`;

/** The plan as `--plan` text (what `score --plan` reads back as the same plan). */
export function planSpecText(p: Plan, job: Job): string {
  const isMoe = job.model.num_experts > 0;
  const parts = [`tp=${p.tp}`, `cp=${p.cp}`, `pp=${p.pp}`];
  if (p.layout !== '') parts.push(`vpp=${p.vpp}`, `layout=${p.layout}`);
  else if (p.vpp > 1) parts.push(`vpp=${p.vpp}`);
  if (isMoe) parts.push(`ep=${p.ep}`, `etp=${p.etp}`);
  parts.push(`mbs=${p.microBatchSize}`, `recompute=${p.recompute}`);
  if (isMoe) parts.push(`dispatcher=${p.dispatcher}`);
  parts.push(`distopt=${p.distributedOptimizer}`);
  if (p.tp > 1 && !p.sequenceParallel) parts.push('sp=false');
  if (p.accountEmbedding) parts.push('account_for_embedding=true');
  if (p.accountLoss) parts.push('account_for_loss=true');
  if (isUnevenSplit(p, job.model.num_layers)) parts.push(`first=${p.firstStageLayers}`, `last=${p.lastStageLayers}`);
  if (p.vpp > 1 && p.mbGroup !== p.pp) parts.push(`mb_group=${p.mbGroup}`);
  // a layout holds '|' and '*': the text is meant to be pasted inside quotes
  return parts.join(',');
}

/** The pipeline split in a few words: "even", "first/last 4/4", "embedding+loss counted", "layout Et|(tt|)*30mL" ('-' for PP 1). */
export function splitShortText(p: Plan, numLayers: number): string {
  if (p.pp <= 1) return '-';
  switch (splitKind(p, numLayers)) {
    case 'layout': return `layout ${p.layout}`;
    case 'accounted': return `${[p.accountEmbedding ? 'embedding' : '', p.accountLoss ? 'loss' : ''].filter(Boolean).join('+')} counted`;
    case 'uneven': return `first/last ${p.firstStageLayers}/${p.lastStageLayers}`;
    default: return 'even';
  }
}

/** What the best plan changes: "TP 2 → 1, EP 8 → 16, VPP 7 → -, dispatcher alltoall → flex" ('' when nothing). */
export function mappingDeltas(job: Job, a: Plan, b: Plan): string {
  const isMoe = job.model.num_experts > 0;
  const L = job.model.num_layers;
  const vpp = (p: Plan) => (p.vpp > 1 ? String(p.vpp) : '-');
  const yesNo = (x: boolean) => (x ? 'on' : 'off');
  const fields: [string, (p: Plan) => string, boolean][] = [
    ['TP', (p) => String(p.tp), true], ['CP', (p) => String(p.cp), true], ['DP', (p) => String(p.dp), true],
    ['PP', (p) => String(p.pp), true], ['VPP', vpp, true],
    ['EP', (p) => String(p.ep), isMoe], ['ETP', (p) => String(p.etp), isMoe], ['EDP', (p) => String(p.edp), isMoe],
    ['MBS', (p) => String(p.microBatchSize), true], ['micro-batches', (p) => String(p.numMicroBatches), true],
    ['recompute', (p) => p.recompute, true], ['dispatcher', (p) => p.dispatcher, isMoe],
    ['distributed optimizer', (p) => yesNo(p.distributedOptimizer), true],
    ['sequence parallel', (p) => yesNo(p.sequenceParallel), true],
    ['split', (p) => splitShortText(p, L), true],
    // Megatron's default group is PP: only a group other than that is news
    ['micro-batch group', (p) => (p.vpp > 1 && p.mbGroup !== p.pp ? String(p.mbGroup) : 'PP'), true],
  ];
  return fields.filter(([, f, shown]) => shown && f(a) !== f(b)).map(([label, f]) => `${label} ${f(a)} → ${f(b)}`).join(', ');
}

interface TermDelta {
  key: string;
  label: string;
  given: number;
  best: number;
  delta: number;
}

/** Per-term differences (best − given), largest |Δ| first; terms that are zero in both plans are left out. */
function termDeltas<T extends object>(a: T, b: T, labels: Record<keyof T, string>, scale: number): TermDelta[] {
  return (Object.keys(labels) as (keyof T & string)[])
    .map((k) => {
      const given = (a[k] as number) / scale;
      const best = (b[k] as number) / scale;
      return { key: k, label: labels[k], given, best, delta: best - given };
    })
    .filter((d) => d.given !== 0 || d.best !== 0)
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.label.localeCompare(y.label));
}

export function timeDeltas(given: ScoredPlan, best: ScoredPlan): TermDelta[] {
  return termDeltas<TimeBreakdown>(given.estimate.time, best.estimate.time, TIME_TERM_LABELS, 1);
}

export function memoryDeltas(job: Job, given: ScoredPlan, best: ScoredPlan): TermDelta[] {
  return termDeltas<MemoryBreakdown>(given.estimate.mem, best.estimate.mem, memoryTermLabels(job), GIB);
}

/** "+0.41 s", "−0.22 s"; a difference that rounds to zero has no sign. */
export function signed(x: number, digits: number, unit = ''): string {
  const text = Math.abs(x).toFixed(digits);
  const sign = Number(text) === 0 ? '' : x < 0 ? '−' : '+';
  return unit === '' ? `${sign}${text}` : `${sign}${text} ${unit}`;
}

/** "rank 12 of 5,678 plans that fit; 11 are faster, 3 of them by more than 5 % (the model's error): the best is 1.31× faster" */
export function rankSentence(c: CompareInput): string {
  const { rank, given, best } = c;
  const margin = `${+(rank.memoryMarginBytes / GIB).toFixed(1)} GiB`;
  if (rank.ranked === 0 || best === null) {
    const none = rank.fitting === 0 ? 'no plan of the space fits in memory' : `no plan of the space leaves the ${margin} memory margin free`;
    return `${given.estimate.fits ? '' : 'the plan does not fit in memory, and '}${none}`;
  }
  const r = best.estimate.tokensPerSPerGpu / given.estimate.tokensPerSPerGpu;
  const ratio = `${r.toFixed(2)}× (${r >= 1 ? '+' : '−'}${Math.abs(100 * (r - 1)).toFixed(1)} %)`;
  const than = rank.withinMargin ? '' : ' than it would be';
  // The recommendation is the first plan in the tie order (headroom, then simplicity): it can be a little slower.
  const verdict = r >= 1 ? `the best is ${ratio} faster`
    : `the recommended plan, first in the tie order (headroom, then simplicity), is ${pct(1 - r)} slower, within the tie`;
  const faster = `${int(rank.better)} ${rank.better === 1 ? 'is' : 'are'} faster${than}, ${int(rank.clearlyBetter)} of them by more than `
    + `${pct(rank.tolerance)} (${rank.tieGiven ? '--tie' : "the model's error"}): ${verdict}`;
  const among = `${int(rank.ranked)} plans that fit with ${margin} free`;
  if (!rank.withinMargin) {
    const e = given.estimate;
    const why = rank.fits
      ? `the plan leaves ${(headroomBytes(e) / GIB).toFixed(1)} GiB free, less than the ${margin} memory margin`
      : `the plan does not fit (peak ${(e.peakMemBytes / GIB).toFixed(1)} of ${(e.usableMemBytes / GIB).toFixed(1)} GiB usable)`;
    return `${why}, so it is not ranked; of the ${among}, `
      + (rank.better === 0 ? `none is faster${than} (the best reaches ${(100 * r).toFixed(0)} % of its throughput)` : faster);
  }
  const head = `rank ${int(rank.position as number)} of ${among}`;
  return rank.better === 0 ? `${head}: no plan is faster` : `${head}; ${faster}`;
}

/** The one or two terms named as the main contributors: the largest, and the next when it is at least a quarter of it. */
function mainTerms(sorted: TermDelta[]): TermDelta[] {
  return sorted.slice(0, sorted.length > 1 && Math.abs(sorted[1].delta) >= 0.25 * Math.abs(sorted[0].delta) ? 2 : 1);
}

/** "The gain is mostly PP bubble (−0.41 s) and EP a2a (−0.22 s), partly offset by experts (+0.10 s)." */
function gainSentence(given: ScoredPlan, best: ScoredPlan, time: TermDelta[], mem: TermDelta[]): string {
  const gainS = given.estimate.stepTimeS - best.estimate.stepTimeS;
  const terms = (ds: TermDelta[], digits: number, unit: string) => ds.map((d) => `${d.label} (${signed(d.delta, digits, unit)})`).join(' and ');
  const lines: string[] = [];
  const helping = time.filter((d) => (gainS >= 0 ? d.delta < 0 : d.delta > 0));
  const against = time.filter((d) => (gainS >= 0 ? d.delta > 0 : d.delta < 0));
  const main = mainTerms(helping);
  const offset = against.length > 0 && Math.abs(against[0].delta) >= 0.1 * Math.abs(gainS) ? against.slice(0, 1) : [];
  const stepText = `${signed(-gainS, 3, 's')} per step (${given.estimate.stepTimeS.toFixed(3)} → ${best.estimate.stepTimeS.toFixed(3)} s)`;
  lines.push(`Step time ${stepText}${main.length > 0 ? `: the ${gainS >= 0 ? 'gain' : 'loss'} is mostly ${terms(main, 3, 's')}` : ''}`
    + `${offset.length > 0 ? `, partly offset by ${terms(offset, 3, 's')}` : ''}.`);
  const dPeak = (best.estimate.peakMemBytes - given.estimate.peakMemBytes) / GIB;
  const memMain = mainTerms(mem.filter((d) => Math.sign(d.delta) === Math.sign(dPeak) && d.delta !== 0));
  lines.push(`Peak memory ${(given.estimate.peakMemBytes / GIB).toFixed(1)} → ${(best.estimate.peakMemBytes / GIB).toFixed(1)} GiB`
    + ` (${signed(dPeak, 1, 'GiB')}${memMain.length > 0 ? `, mostly ${terms(memMain, 1, 'GiB')}` : ''}).`);
  return lines.join(' ');
}

function deltaTable(head: string, unit: string, rows: TermDelta[], total: [string, number, number], digits: number): string {
  const t = new Table({
    head: [head, `given ${unit}`, `best ${unit}`, `Δ ${unit}`],
    style: { head: [], border: [], compact: true }, colAligns: ['left', 'right', 'right', 'right'],
  });
  for (const d of rows) t.push([d.label, d.given.toFixed(digits), d.best.toFixed(digits), signed(d.delta, digits)]);
  t.push([total[0], total[1].toFixed(digits), total[2].toFixed(digits), signed(total[2] - total[1], digits)]);
  return t.toString();
}

/** The comparison as text: the rank sentence, what the best plan changes, and the two term tables. */
export function renderCompare(c: CompareInput): string {
  const { job, given, best } = c;
  const isMoe = job.model.num_experts > 0;
  const lines: string[] = [];
  lines.push(`Where the plan ranks (throughput): ${rankSentence(c)}.`);
  if (best === null) return lines.join('\n');
  if (comparePlans(given.plan, best.plan) === 0) {
    lines.push('The given plan is the best plan of the space.');
    return lines.join('\n');
  }
  lines.push(`Plan 1 (what tune ranks first): ${describeMapping(best.plan, isMoe, job.model.num_layers)}`);
  lines.push(`  ${Math.round(best.estimate.tokensPerSPerGpu).toLocaleString('en-US')} tokens/s/GPU (given: `
    + `${Math.round(given.estimate.tokensPerSPerGpu).toLocaleString('en-US')}) · --plan '${planSpecText(best.plan, job)}'`);
  lines.push(`What it changes: ${mappingDeltas(job, given.plan, best.plan) || 'nothing in the mapping'}.`);
  const time = timeDeltas(given, best);
  const mem = memoryDeltas(job, given, best);
  lines.push(gainSentence(given, best, time, mem));
  lines.push(deltaTable('step time term', 's', time, ['step time', given.estimate.stepTimeS, best.estimate.stepTimeS], 4));
  lines.push(deltaTable('memory term (most loaded GPU)', 'GiB', mem,
    ['total (device peak, must fit)', given.estimate.peakMemBytes / GIB, best.estimate.peakMemBytes / GIB], 2));
  return lines.join('\n');
}

export interface CompareJson {
  plan: PlanJson;
  rank: {
    position: number | null; fitting: number; ranked: number; better: number; clearly_better: number; tolerance: number;
    fits: boolean; within_margin: boolean; memory_margin_gib: number;
  };
  /** The best plan of the space; null when no plan fits. */
  best: (PlanJson & { plan_spec: string }) | null;
  /** best − given per term: seconds of step time and GiB of peak memory; each set sums to the total's difference. */
  deltas: { time_s: Record<string, number>; memory_gib: Record<string, number> } | null;
}

/** The comparison as JSON/YAML; `launch` gives each plan's launch (megatronLaunch); the BF16 peak is the calibration's. */
export function compareJson(c: CompareInput, launch: (p: Plan) => PlanJson['launch'], bf16PeakFlops: number): CompareJson {
  const { given, best, rank } = c;
  const deltas = (a: object, b: object, unit: string, scale: number): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const k of Object.keys(a)) {
      out[snakeWithoutUnit(k, unit)] = sig(((b as Record<string, number>)[k] - (a as Record<string, number>)[k]) / scale);
    }
    return out;
  };
  return {
    plan: planToJson(rank.position ?? 0, given.plan, given.estimate, launch(given.plan), bf16PeakFlops),
    rank: {
      position: rank.position, fitting: rank.fitting, ranked: rank.ranked, better: rank.better, clearly_better: rank.clearlyBetter,
      tolerance: rank.tolerance, fits: rank.fits, within_margin: rank.withinMargin, memory_margin_gib: sig(rank.memoryMarginBytes / GIB),
    },
    best: best ? { ...planToJson(1, best.plan, best.estimate, launch(best.plan), bf16PeakFlops), plan_spec: planSpecText(best.plan, c.job) } : null,
    deltas: best ? {
      time_s: deltas(given.estimate.time, best.estimate.time, 'S', 1),
      memory_gib: deltas(given.estimate.mem, best.estimate.mem, 'Bytes', GIB),
    } : null,
  };
}
