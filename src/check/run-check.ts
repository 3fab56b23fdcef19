import { splitText } from '../render/split-text.js';
import { finetuneText } from '../job/describe.js';
import fs from 'node:fs';
import Table from 'cli-table3';
import type { SharedPool } from '../search/pool-choice.js';
import type { Job, ModelShape } from '../job/types.js';
import type { JobOverrides } from '../job/load-job.js';
import { loadJobContext } from '../job-context.js';
import { scorePlan } from '../cost/score.js';
import { headroomBytes, newEstimate, type Estimate } from '../cost/estimate.js';
import { checkPlan, countPlans } from '../enumerate/index.js';
import type { Plan } from '../enumerate/plan.js';
import { runSearch, type SearchResult } from '../search/pool.js';
import { leavesMargin, type RankOptions } from '../search/objective.js';
import { estimateToJson } from '../render/plan-json.js';
import { planAtRank, plansFileText, readPlansFile, withCalibrationCopies, type PlansFile } from '../plans/plans-file.js';
import type { ResultJson } from '../plans/result.js';
import path from 'node:path';
import { GIB } from '../render/numbers.js';
import { TIME_TERM_LABELS } from '../render/cost-shares.js';
import { buildResult } from '../plans/result.js';
import type { JobCheckReport } from './check-types.js';
import { describeChange, jobChanges } from './job-diff.js';
import { calibrationLabel, type Calibration } from '../cost/calibration.js';
import type { FileToWrite } from '../io/write-files.js';

export interface CheckOptions {
  rank: number;
  /** Relative throughput slack, e.g. 0.03. */
  tolerance: number;
  update: boolean;
  space?: string;
  fix?: string;
  workers: number;
  /** Plans kept in a baseline written by --update. */
  keepTop: number;
}

/** What checkJob found, and the baseline it would write (--update); the caller writes all of them at once. */
export interface CheckJobResult {
  report: JobCheckReport;
  /** The baseline and the calibration copies beside it (--update); empty otherwise. */
  write: FileToWrite[];
}

/**
 * Runs the checks of one job against its baseline: first that the baseline was made for this job (else the
 * other four are skipped), then valid, fits, best and regression. With --update the new baseline is returned in
 * `write` (nothing is written here), so the command can write every baseline in one atomic step.
 */
export async function checkJob(jobFile: string, baselineFile: string, overrides: JobOverrides, opts: CheckOptions,
  pools: SharedPool): Promise<CheckJobResult> {
  const { job, shape, space, calibration, scoreContext } = loadJobContext(jobFile, overrides, { space: opts.space, fix: opts.fix });
  // tie and memory margin left to runSearch's defaults: the same ranking as `moefold tune` (search/final-order.ts)
  const rankOpts: RankOptions = { objective: 'throughput', minTokensPerSPerGpu: 0, topK: Math.max(opts.keepTop, opts.rank), pareto: false };
  const report: JobCheckReport = {
    job_file: jobFile, baseline_file: baselineFile, rank: opts.rank, tolerance: opts.tolerance, passed: true,
    baseline_tokens_per_s_per_gpu_recorded: null, baseline_tokens_per_s_per_gpu_now: null, best_tokens_per_s_per_gpu_now: null,
    baseline_fits_now: null, job_changes: [], checks: [], updated: false,
  };
  const { pool, workers } = pools.forWork(countPlans(job, shape, space).valid);
  const search = await runSearch({ job, space, calibration, rank: rankOpts, workers }, pool);
  const best = search.top[0] ?? null;
  report.best_tokens_per_s_per_gpu_now = best ? round(best.estimate.tokensPerSPerGpu) : null;
  const newBaseline = (): FileToWrite[] => {
    report.updated = true;
    const { result, copies } = withCalibrationCopies(baselineResult(job, shape, calibration, opts, search));
    const dir = path.dirname(baselineFile);
    return [{ file: baselineFile, text: plansFileText(result) }, ...copies.map(([f, text]) => ({ file: path.join(dir, f), text }))];
  };

  if (opts.update && best === null) {
    report.passed = false;
    report.checks.push({ name: 'best', status: 'fail', message: 'no plan fits for the current job: the baseline was not written (see `moefold tune`)', details: [] });
    return { report, write: [] };
  }
  let pf: PlansFile | null = null;
  let baseline: ReturnType<typeof planAtRank> | null = null;
  if (fs.existsSync(baselineFile)) {
    try {
      pf = readPlansFile(baselineFile);
      baseline = planAtRank(pf, opts.rank, job);
    } catch (e) {
      if (!opts.update) throw e; // --update repairs a baseline that cannot be read
    }
  }
  if (pf === null || baseline === null) {
    report.checks.push({ name: 'best', status: 'pass', message: `baseline written with the current best (${fmtTps(best?.estimate.tokensPerSPerGpu)} tokens/s/GPU)`, details: [] });
    return { report, write: newBaseline() };
  }

  const { plan, json } = baseline;
  const recorded = json.estimate?.tokens_per_s_per_gpu;
  report.baseline_tokens_per_s_per_gpu_recorded = typeof recorded === 'number' ? recorded : null;

  // 0. The baseline was made for this job: a changed model, run or cluster is its own failure, not a "regression".
  const changes = jobChanges(pf.job, job);
  report.job_changes = changes;
  if (changes.length > 0) {
    const what = changes.map(describeChange).join(', ');
    report.checks.push({
      name: 'job', status: 'fail',
      message: `baseline was made for another job: ${what}: ${opts.update ? 'baseline rewritten for the current job (--update)' : 'rerun with --update if intended'}`,
      details: changes.map(describeChange),
    });
    const bestNow = best ? ` (best plan for the current job: ${fmtTps(best.estimate.tokensPerSPerGpu)} tokens/s/GPU)` : '';
    for (const name of ['valid', 'fits', 'best', 'regression'] as const) {
      report.checks.push({ name, status: 'skip', message: `not checked: the job changed since the baseline was made${name === 'best' ? bestNow : ''}`, details: [] });
    }
    report.passed = false;
    return { report, write: opts.update ? newBaseline() : [] };
  }
  report.checks.push({ name: 'job', status: 'pass', message: `baseline was made for this job (${describeJob(job, calibration)})`, details: [] });

  // 1. Megatron would still accept the plan for the current job.
  const broken = checkPlan(job, shape, plan);
  let est: Estimate | null = null;
  if (broken.length > 0) {
    report.checks.push({
      name: 'valid', status: 'fail',
      message: `baseline plan ${opts.rank} is no longer valid for ${jobFile}: it breaks ${broken.length} Megatron rule(s)`,
      details: broken.map((b) => `${b.rule}: ${b.reason}`),
    });
    report.checks.push({ name: 'fits', status: 'skip', message: 'not scored: the plan is invalid', details: [] });
  } else {
    report.checks.push({ name: 'valid', status: 'pass', message: `baseline plan ${opts.rank} is still valid`, details: [] });
    // 2. It still fits in memory.
    est = scorePlan(scoreContext(), plan, newEstimate());
    report.baseline_tokens_per_s_per_gpu_now = round(est.tokensPerSPerGpu);
    report.baseline_fits_now = est.fits;
    const mem = estimateToJson(est, calibration.denseBf16PeakFlops).memory_breakdown_gib;
    const memLine = Object.entries(mem).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    report.checks.push(est.fits
      ? { name: 'fits', status: 'pass', message: `fits: peak ${(est.peakMemBytes / GIB).toFixed(1)} of ${(est.usableMemBytes / GIB).toFixed(1)} GiB usable (allocated ${(est.allocatedPeakBytes / GIB).toFixed(1)} GiB)`
        + marginNote(est, search.rank.memoryMarginBytes), details: [] }
      : {
        name: 'fits', status: 'fail',
        message: `no longer fits: peak ${(est.peakMemBytes / GIB).toFixed(1)} GiB exceeds ${(est.usableMemBytes / GIB).toFixed(1)} GiB usable`,
        details: [`memory breakdown (GiB): ${memLine}`],
      });
  }

  // 3. No plan beats it by more than the tolerance. A plan that does not fit cannot run: any plan that fits beats
  // it, but the message shows the figure it would have, and why it cannot reach it.
  const nowTps = est && est.fits ? est.tokensPerSPerGpu : 0;
  if (est === null) {
    report.checks.push({
      name: 'best', status: 'skip',
      message: `not compared: the baseline plan is invalid${best ? ` (best plan now: ${fmtTps(best.estimate.tokensPerSPerGpu)} tokens/s/GPU; \`moefold check --update\` adopts it)` : ''}`,
      details: [],
    });
  } else if (!best) {
    report.checks.push({ name: 'best', status: 'fail', message: 'the current search finds no plan that fits (see `moefold tune`)', details: [] });
  } else if (best.estimate.tokensPerSPerGpu > nowTps * (1 + opts.tolerance)) {
    const why = est.fits && est.tokensPerSPerGpu > 0
      ? `${(100 * (best.estimate.tokensPerSPerGpu / est.tokensPerSPerGpu - 1)).toFixed(1)}% faster, tolerance ${(100 * opts.tolerance).toFixed(1)}%`
      : est.fits ? 'the baseline predicts no throughput' : `the baseline ${doesNotFit(est)}, so it cannot run`;
    report.checks.push({
      name: 'best', status: 'fail',
      message: `a better plan exists: ${fmtTps(best.estimate.tokensPerSPerGpu)} vs ${fmtTps(est.tokensPerSPerGpu)} tokens/s/GPU (${why})`,
      details: sideBySide(job, plan, est, best.plan, best.estimate).split('\n'),
    });
  } else {
    report.checks.push({ name: 'best', status: 'pass', message: `still the best within ${(100 * opts.tolerance).toFixed(1)}% (best found ${fmtTps(best.estimate.tokensPerSPerGpu)} tokens/s/GPU)`, details: [] });
  }

  // 4. Its own predicted throughput did not fall against what the baseline recorded; a plan that no longer fits
  // has regressed whatever its step time says.
  if (est === null) {
    report.checks.push({ name: 'regression', status: 'skip', message: 'not scored: the plan is invalid', details: [] });
  } else if (!est.fits) {
    const was = typeof recorded === 'number' ? `cannot reach the recorded ${fmtTps(recorded)} tokens/s/GPU` : 'cannot run';
    report.checks.push({
      name: 'regression', status: 'fail',
      message: `regression: the plan no longer fits (peak ${(est.peakMemBytes / GIB).toFixed(1)} GiB > ${(est.usableMemBytes / GIB).toFixed(1)} GiB usable), so it ${was} (it would predict ${fmtTps(est.tokensPerSPerGpu)} if it fit)`,
      details: movedMemory(json.estimate?.memory_breakdown_gib, estimateToJson(est, calibration.denseBf16PeakFlops).memory_breakdown_gib),
    });
  } else if (typeof recorded !== 'number') {
    report.checks.push({ name: 'regression', status: 'skip', message: 'the baseline records no throughput', details: [] });
  } else if (est.tokensPerSPerGpu < recorded * (1 - opts.tolerance)) {
    report.checks.push({
      name: 'regression', status: 'fail',
      message: `regression: predicted ${fmtTps(est.tokensPerSPerGpu)} tokens/s/GPU, ${(100 * (1 - est.tokensPerSPerGpu / recorded)).toFixed(1)}% below the recorded ${fmtTps(recorded)}`,
      details: movedTerms(json.estimate?.time_breakdown_s, estimateToJson(est, calibration.denseBf16PeakFlops).time_breakdown_s),
    });
  } else {
    report.checks.push({ name: 'regression', status: 'pass', message: `no regression: ${fmtTps(est.tokensPerSPerGpu)} vs recorded ${fmtTps(recorded)} tokens/s/GPU`, details: [] });
  }

  report.passed = report.checks.every((c) => c.status !== 'fail');
  return { report, write: opts.update ? newBaseline() : [] }; // best is not null here
}

function baselineResult(job: Job, shape: ModelShape, calibration: Calibration, opts: CheckOptions, search: SearchResult): ResultJson {
  return buildResult(job, shape, calibration, { objective: 'throughput', space: opts.space, timing: false, pareto: false }, search);
}

function describeJob(job: Job, calibration: Calibration): string {
  const c = job.cluster;
  const t = job.training;
  return `${job.model.name}, ${c.gpus} × ${calibrationLabel(calibration)} (${c.gpus_per_node} per node), seq ${t.seq_length}, GBS ${t.global_batch_size}, ${t.precision}${t.frozen ? `, ${finetuneText(t)}` : ''}`;
}

/** A baseline that fits but leaves less than the margin is not one `tune` would rank: say so (not a failure). */
function marginNote(est: Estimate, marginBytes: number): string {
  const free = headroomBytes(est);
  return !leavesMargin(est, marginBytes) ? `; only ${(free / GIB).toFixed(1)} GiB free, below the ${(marginBytes / GIB).toFixed(1)} GiB margin tune ranks with` : '';
}

function doesNotFit(est: Estimate): string {
  return `does not fit (peak ${(est.peakMemBytes / GIB).toFixed(1)} GiB > ${(est.usableMemBytes / GIB).toFixed(1)} GiB usable)`;
}

/** Memory terms whose GiB changed against the baseline's record, largest change first. */
export function movedMemory(before: Record<string, number> | undefined, after: Record<string, number>): string[] {
  if (!before) return ['the baseline records no memory breakdown'];
  return moved(before, after, 'GiB', 2, 'no memory term moved (the usable memory changed)');
}

/** Step-time terms whose seconds changed, largest change first. */
export function movedTerms(before: Record<string, number> | undefined, after: Record<string, number>): string[] {
  if (!before) return ['the baseline records no time breakdown'];
  return moved(before, after, 's', 4, 'no step-time term moved (the throughput change comes from elsewhere)');
}

function moved(before: Record<string, number>, after: Record<string, number>, unit: string, digits: number, none: string): string[] {
  // terms a baseline records that are no longer computed (an older moefold's names) count as moved to 0
  const keys = [...Object.keys(after), ...Object.keys(before).filter((k) => !Object.hasOwn(after, k) && typeof before[k] === 'number')];
  const rows = keys
    .map((k) => ({ k, b: before[k] ?? 0, a: after[k] ?? 0 }))
    .filter((r) => Math.abs(r.a - r.b) > 1e-9)
    .sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b) || x.k.localeCompare(y.k));
  return rows.length === 0 ? [none]
    : rows.map((r) => `${r.k}: ${r.b.toFixed(digits)} ${unit} → ${r.a.toFixed(digits)} ${unit} (${r.a > r.b ? '+' : ''}${(r.a - r.b).toFixed(digits)} ${unit})`);
}

function sideBySide(job: Job, basePlan: Plan, baseEst: Estimate | null, bestPlan: Plan, bestEst: Estimate): string {
  const isMoe = job.model.num_experts > 0;
  const t = new Table({ head: ['', 'baseline', 'best now'], style: { head: [], border: [], compact: true } });
  const row = (label: string, f: (p: Plan) => string | number) => t.push([label, String(f(basePlan)), String(f(bestPlan))]);
  row('TP·CP·DP·PP', (p) => `${p.tp}·${p.cp}·${p.dp}·${p.pp}`);
  row('VPP', (p) => p.vpp);
  if (isMoe) row('ETP·EP·EDP', (p) => `${p.etp}·${p.ep}·${p.edp}`);
  row('pipeline split', (p) => splitText(p, job.model.num_layers) || '-');
  row('sequence parallel', (p) => (p.sequenceParallel ? 'on' : 'off'));
  row('MBS', (p) => p.microBatchSize);
  row('recompute', (p) => p.recompute);
  if (isMoe) row('dispatcher', (p) => p.dispatcher);
  t.push(['tokens/s/GPU', baseEst ? fmtTps(baseEst.tokensPerSPerGpu) : '-', fmtTps(bestEst.tokensPerSPerGpu)]);
  t.push(['peak GiB', baseEst ? (baseEst.peakMemBytes / GIB).toFixed(1) : '-', (bestEst.peakMemBytes / GIB).toFixed(1)]);
  for (const k of Object.keys(TIME_TERM_LABELS) as (keyof typeof TIME_TERM_LABELS)[]) {
    const b = baseEst ? baseEst.time[k] : 0;
    const a = bestEst.time[k];
    if (a > 0 || b > 0) t.push([`${TIME_TERM_LABELS[k]} s`, baseEst ? b.toFixed(3) : '-', a.toFixed(3)]);
  }
  return t.toString();
}

function fmtTps(x: number | undefined): string {
  return x === undefined ? '-' : Math.round(x).toLocaleString('en-US');
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
