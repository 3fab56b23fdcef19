/**
 * Accuracy of the cost models against published, measured H100 runs.
 *   npm run accuracy [-- RUNS.yaml] [--cal NAME] [--verbose]
 * Default set: fixtures/accuracy/runs.yaml, generated from data/measured-runs.yaml (the development set, each run
 * citing its source) by scripts/accuracy-fixtures.ts: one job file per run (the run's model, training with the stack
 * facts of its recipe, cluster) and a plan in `moefold score --plan` syntax. Each entry is scored exactly as
 * `moefold score JOB --plan PLAN` scores it: the CLI's job loader (loadJobContext), parsePlanSpec, checkPlan (a plan
 * Megatron would refuse stops the report, naming the run and the rules), the context's scorer. Where a run publishes
 * no recompute (`assume_recompute`), the first mode that fits is scored and named in the 'assumed' column. Prints
 * predicted vs measured tokens/s/GPU (a TFLOPS measurement converted with the source's FLOP convention), the error,
 * the predicted peak memory, and summaries (dense/MoE, BF16/FP8, median and max absolute error), with and without
 * the outliers (each with the reason the model cannot reach it), and the hard cases (facts a job cannot state exactly).
 * --cal NAME scores with cost-models/NAME.yaml (as `moefold score --gpu NAME`).
 * Not part of `npm test` (it is a report, not a pass/fail check); a test runs it on the fixture set.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../src/paths.js';
import { loadJobContext, type JobContext } from '../src/job-context.js';
import { checkPlan, parsePlanSpec } from '../src/enumerate/index.js';
import { scorePlan } from '../src/cost/score.js';
import { newEstimate, type Estimate } from '../src/cost/estimate.js';
import type { Plan } from '../src/enumerate/plan.js';
import type { JobOverrides } from '../src/job/load-job.js';

/** One entry of fixtures/accuracy/runs.yaml (scripts/accuracy-fixtures.ts writes them). */
interface Entry {
  id: string;
  job: string;
  plan: string;
  assume_recompute?: string[];
  measured: { tokens_per_s_per_gpu?: number; how?: string; tflops_per_gpu?: number; flop_convention?: string; flop_vocab_size?: number };
  notes?: string;
  outlier?: string;
  hard_case?: string;
  source?: string;
}
interface Index { runs_file?: string; runs: Entry[]; skipped?: string[] }

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const calIdx = args.indexOf('--cal');
const calArg = calIdx >= 0 ? args[calIdx + 1] : undefined;
const fileArg = args.find((a, i) => !a.startsWith('--') && (calIdx < 0 || i !== calIdx + 1));
const file = fileArg ?? path.relative(process.cwd(), path.join(REPO_ROOT, 'fixtures', 'accuracy', 'runs.yaml'));

function fail(msg: string, code = 2): never {
  process.stderr.write(`accuracy: ${msg}\n`);
  process.exit(code);
}

/** --cal NAME (or cost-models/NAME.yaml): the calibration, given to the loader as `--gpu NAME` would be. */
function calibrationName(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  if (arg === '' || arg.startsWith('--')) fail('--cal: needs a calibration name (a file in cost-models/)');
  const base = path.basename(arg).replace(/\.yaml$/, '');
  if (arg.endsWith('.yaml') && path.resolve(path.dirname(arg)) !== path.join(REPO_ROOT, 'cost-models')) {
    fail(`--cal: ${arg}: the calibration must be a file of cost-models/ (as moefold score --gpu NAME reads it)`);
  }
  return base;
}

function readIndex(f: string): Index {
  let d: unknown;
  try {
    d = yaml.load(fs.readFileSync(f, 'utf8'), { filename: f });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message.split('\n')[0];
    fail(`${f}: ${why}`);
  }
  const runs = (d as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) fail(`${f}: runs: missing (expected a list of accuracy runs)`);
  return d as Index;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const v = [...xs].sort((a, b) => a - b);
  const k = v.length >> 1;
  return v.length % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

/** Measured tokens/s/GPU: as published, or from TFLOPS with the source's FLOP convention. */
function measuredTokens(e: Entry, jc: JobContext): { tok: number; how: string } {
  const m = e.measured;
  if (typeof m.tokens_per_s_per_gpu === 'number') return { tok: m.tokens_per_s_per_gpu, how: m.how ?? 'tok/s' };
  if (typeof m.tflops_per_gpu !== 'number') fail(`${e.id}: measured: needs tokens_per_s_per_gpu or tflops_per_gpu`);
  if (m.flop_convention === 'nemo-noncausal') {
    // NeMo <= 25.07: non-causal attention, fixed vocabulary per family
    const model = jc.job.model;
    const vocab = m.flop_vocab_size ?? model.vocab_size;
    const h = model.hidden_size;
    const L = model.num_layers;
    const s = jc.job.training.seq_length;
    const g = model.num_query_groups / model.num_attention_heads;
    const f = model.swiglu ? 18 * model.ffn_hidden_size / h : 12 * model.ffn_hidden_size / h;
    const perToken = L * h * h * (12 + 12 * g + f + 12 * s / h + 6 * vocab / (L * h));
    return { tok: (m.tflops_per_gpu * 1e12) / perToken, how: 'from TFLOPS (NeMo non-causal)' };
  }
  if (m.flop_convention === 'megatron-causal') {
    return { tok: (m.tflops_per_gpu * 1e12) / jc.scoreContext().flopsPerToken, how: 'from TFLOPS (Megatron causal)' };
  }
  return fail(`${e.id}: measured.flop_convention: must be nemo-noncausal or megatron-causal (got ${String(m.flop_convention)})`);
}

/** The plan `moefold score JOB --plan SPEC` would score; a plan Megatron refuses stops the report. */
function planOf(e: Entry, jc: JobContext, spec: string): Plan {
  const plan = parsePlanSpec(spec, jc.job, jc.shape);
  const broken = checkPlan(jc.job, jc.shape, plan);
  if (broken.length > 0) {
    fail(`${e.id}: --plan ${spec}: Megatron-Core would refuse this plan: ` +
      `${broken.map((v) => `${v.rule} (${v.reason})`).join('; ')}`, 1);
  }
  return plan;
}

const index = readIndex(file);
const dir = path.dirname(file);
const overrides: JobOverrides = {};
const cal = calibrationName(calArg);
if (cal !== undefined) overrides.gpu = cal;

const rows: { id: string; moe: boolean; fp8: boolean; err: number; outlier: boolean }[] = [];
const unfit: string[] = [];
const fitStatus: string[] = [];
const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

let first = true;
for (const e of index.runs) {
  let jc: JobContext;
  try {
    jc = loadJobContext(path.resolve(dir, e.job), overrides);
  } catch (err) {
    fail(`${e.id}: ${(err as Error).message}`);
  }
  if (first) {
    console.log(`calibration: ${jc.calibration.file}   runs: ${file}${index.runs_file ? ` (from ${index.runs_file})` : ''}`);
    console.log(`${pad('run', 44)} ${pad('kind', 9)} ${lpad('pred', 8)} ${lpad('meas', 8)} ${lpad('err%', 7)} ` +
      `${lpad('memGB', 6)}  ${pad('assumed', 14)} notes`);
    first = false;
  }
  const ctx = jc.scoreContext();
  let est: Estimate = newEstimate();
  let assumed = '';
  try {
    if (e.assume_recompute && e.assume_recompute.length > 0) {
      for (const mode of e.assume_recompute) {
        est = scorePlan(ctx, planOf(e, jc, `${e.plan},recompute=${mode}`), newEstimate());
        assumed = `recompute ${mode}`;
        if (est.fits) break;
      }
    } else {
      est = scorePlan(ctx, planOf(e, jc, e.plan), newEstimate());
    }
  } catch (err) {
    fail(`${e.id}: ${(err as Error).message}`);
  }
  const meas = measuredTokens(e, jc);
  const err = est.tokensPerSPerGpu / meas.tok - 1;
  const isMoe = jc.shape.isMoe;
  const fp8 = jc.job.training.precision === 'fp8';
  const kind = `${isMoe ? 'moe' : 'dense'}/${jc.job.training.precision}`;
  rows.push({ id: e.id, moe: isMoe, fp8, err, outlier: e.outlier !== undefined });
  const memGb = est.peakMemBytes / 1e9;
  const usableGb = est.usableMemBytes / 1e9;
  fitStatus.push(`${pad(e.id, 44)} ${lpad(memGb.toFixed(1), 6)} GB ${est.fits ? 'fits' : 'DOES NOT FIT'}` +
    `${assumed ? ` (${assumed} assumed)` : ''}`);
  if (!est.fits) unfit.push(`${e.id}: predicted ${memGb.toFixed(1)} GB > usable ${usableGb.toFixed(1)} GB`);
  const notes = [meas.how, e.notes ?? '', e.hard_case ? 'HARD CASE' : '', est.fits ? '' : 'DOES NOT FIT',
    e.outlier ? 'OUTLIER' : ''].filter(Boolean).join('; ');
  console.log(`${pad(e.id, 44)} ${pad(kind, 9)} ${lpad(est.tokensPerSPerGpu.toFixed(0), 8)} ${lpad(meas.tok.toFixed(0), 8)} ` +
    `${lpad((100 * err).toFixed(1), 7)} ${lpad(memGb.toFixed(1), 6)}  ${pad(assumed, 14)} ${notes}`);
  if (verbose) {
    console.log(`    ${e.job}: --plan ${e.plan}${assumed ? `,recompute=${assumed.split(' ')[1]}` : ''}`);
    const parts = Object.entries(est.time).map(([k, v]) => `${k.replace(/S$/, '')}=${(100 * v / est.stepTimeS).toFixed(0)}%`);
    console.log(`    step ${est.stepTimeS.toFixed(3)} s  ${parts.join(' ')}`);
    const mem = Object.entries(est.mem).map(([k, v]) => `${k.replace(/Bytes$/, '')}=${(v / 1e9).toFixed(1)}`);
    console.log(`    mem GB: ${mem.join(' ')}`);
  }
}

function summary(label: string, sel: (x: (typeof rows)[number]) => boolean): void {
  const errs = rows.filter(sel).map((x) => Math.abs(x.err));
  if (errs.length === 0) return;
  const signed = rows.filter(sel).map((x) => x.err);
  console.log(`${pad(label, 14)} n=${lpad(String(errs.length), 3)}  median |err| ${(100 * median(errs)).toFixed(1)}%  ` +
    `max |err| ${(100 * Math.max(...errs)).toFixed(1)}%  median signed ${(100 * median(signed)).toFixed(1)}%`);
}
console.log('');
console.log('all runs:');
summary('  all', () => true);
summary('  dense', (x) => !x.moe);
summary('  moe', (x) => x.moe);
summary('  bf16', (x) => !x.fp8);
summary('  fp8', (x) => x.fp8);
console.log('without outliers:');
summary('  all', (x) => !x.outlier);
summary('  dense', (x) => !x.moe && !x.outlier);
summary('  moe', (x) => x.moe && !x.outlier);
summary('  bf16', (x) => !x.fp8 && !x.outlier);
summary('  fp8', (x) => x.fp8 && !x.outlier);
const over30 = rows.filter((x) => Math.abs(x.err) > 0.3).map((x) => `${x.id} (${(100 * x.err).toFixed(1)}%)`);
console.log(`beyond 30%: ${over30.length ? over30.join(', ') : 'none'}`);
const outliers = index.runs.filter((e) => e.outlier !== undefined);
console.log(`outliers (${outliers.length}):`);
for (const e of outliers) console.log(`  ${e.id}: ${e.outlier}`);
const hard = index.runs.filter((e) => e.hard_case !== undefined);
console.log(`hard cases (${hard.length}, kept in the figures):`);
for (const e of hard) console.log(`  ${e.id}: ${e.hard_case}`);
console.log(`not fitting: ${unfit.length ? '\n  ' + unfit.join('\n  ') : 'none'}`);
if (verbose) {
  console.log('memory fit of every published configuration:');
  for (const line of fitStatus) console.log(`  ${line}`);
  console.log('sources (the job files cite the recipe source of every stack fact):');
  for (const e of index.runs) console.log(`  ${e.id}: ${e.source ?? 'not recorded'}`);
}
const skipped = index.skipped ?? [];
console.log(`skipped (${skipped.length}):${skipped.length ? `\n  ${skipped.join('\n  ')}` : ' none'}`);
