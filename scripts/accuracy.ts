/**
 * Accuracy of the cost models against published, measured H100 runs.
 *   npm run accuracy [-- RUNS.yaml] [--cal NAME] [--in-sample] [--verbose]
 * Default set: fixtures/accuracy/runs.yaml, generated from data/measured-runs.yaml (the development set, each run
 * citing its source) by scripts/accuracy-fixtures.ts; scripts/dev-set.ts loads and scores each entry exactly as
 * `moefold score JOB --plan PLAN` does (a plan Megatron would refuse stops the report, naming the run and the rules).
 * Where a run publishes no recompute (`assume_recompute`), the first mode that fits is scored and named.
 * Two figures per run and per slice (dense/MoE, BF16/FP8, forced/real routing):
 *  - in-sample: the calibration file as it is (its free constants were fitted by `npm run fit` on these runs);
 *  - leave-one-group-out (LOGO): for each group (software release / source), the free constants of
 *    cost-models/fit/<gpu>.free.yaml refitted without that group's runs, and the group predicted: what the model
 *    errs on runs it was not fitted to.
 * Then a ranking check: within each set of runs on the same model, GPU count and sequence length, does the model
 * order them as measured (pairs in the same order / all pairs)? Every run is in every figure; hard cases are named
 * with the reason the model cannot reach them, never dropped. --in-sample skips the refits (fast).
 * Not part of `npm test` (it is a report, not a pass/fail check); tests run it on the fixture set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/paths.js';
import { InputError } from '../src/job/errors.js';
import type { Estimate } from '../src/cost/estimate.js';
import type { JobOverrides } from '../src/job/load-job.js';
import { DevSetError, loadDevSet, median, predict, type DevRun } from './dev-set.js';
import { leaveOneGroupOut, readFreeTable } from '../src/calibrate/fit-core.js';
import { crossValidationFile, formatCrossValidation } from '../src/search/cross-validation.js';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const writeCv = args.includes('--write-cv');
const inSampleOnly = args.includes('--in-sample');
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

const overrides: JobOverrides = {};
const calName = calibrationName(calArg);
if (calName !== undefined) overrides.gpu = calName;

let runs: DevRun[];
let index: ReturnType<typeof loadDevSet>['index'];
try {
  ({ runs, index } = loadDevSet(file, overrides));
} catch (e) {
  if (e instanceof DevSetError || e instanceof InputError) fail(e.message, e.exitCode);
  throw e;
}
if (runs.length === 0) fail(`${file}: runs: empty`);
const cal = runs[0].jc.calibration;
const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');

// ---- leave-one-group-out ----
const freeFile = path.join(REPO_ROOT, 'cost-models', 'fit', `${cal.name}.free.yaml`);
let heldOut: number[] | null = null;
let logoNote = '';
if (!inSampleOnly) {
  if (!fs.existsSync(freeFile)) {
    logoNote = `no cost-models/fit/${cal.name}.free.yaml: no free constants to refit, leave-one-group-out skipped`;
  } else {
    try {
      const table = readFreeTable(freeFile);
      heldOut = leaveOneGroupOut(runs, cal, table).heldOut.map((x) => Math.exp(x) - 1);
    } catch (e) {
      if (e instanceof DevSetError || e instanceof InputError) fail(e.message, e.exitCode);
      throw e;
    }
  }
}

// ---- per-run table ----
console.log(`calibration: ${cal.file}   runs: ${file}${index.runs_file ? ` (from ${index.runs_file})` : ''}`);
console.log(`${pad('run', 44)} ${pad('group', 27)} ${pad('kind', 9)} ${lpad('pred', 7)} ${lpad('meas', 7)} ${lpad('err%', 7)} ` +
  `${lpad('LOGO%', 7)} ${lpad('allocGB', 7)} ${lpad('devGB', 6)}  ${pad('assumed', 18)} notes`);
interface Row { run: DevRun; err: number; logo: number; est: Estimate }
const rows: Row[] = [];
const unfit: string[] = [];
for (const [i, r] of runs.entries()) {
  const est = predict(r, cal);
  const err = est.tokensPerSPerGpu / r.measuredTokens - 1;
  const logo = heldOut ? heldOut[i] : NaN;
  rows.push({ run: r, err, logo, est: { ...est, time: { ...est.time }, mem: { ...est.mem } } });
  const e = r.entry;
  const devGb = est.peakMemBytes / 1e9;
  const allocGb = est.allocatedPeakBytes / 1e9;
  if (!est.fits) unfit.push(`${e.id}: predicted ${devGb.toFixed(1)} GB > usable ${(est.usableMemBytes / 1e9).toFixed(1)} GB`);
  const kind = `${r.moe ? 'moe' : 'dense'}/${r.fp8 ? 'fp8' : 'bf16'}`;
  const notes = [r.measuredHow, e.notes ?? '', r.forced ? 'forced routing' : '', e.hard_case || e.outlier ? 'HARD CASE' : '',
    est.fits ? '' : 'DOES NOT FIT'].filter(Boolean).join('; ');
  console.log(`${pad(e.id, 44)} ${pad(r.group, 27)} ${pad(kind, 9)} ${lpad(est.tokensPerSPerGpu.toFixed(0), 7)} ` +
    `${lpad(r.measuredTokens.toFixed(0), 7)} ${lpad((100 * err).toFixed(1), 7)} ${lpad(Number.isFinite(logo) ? (100 * logo).toFixed(1) : '-', 7)} ` +
    `${lpad(allocGb.toFixed(1), 7)} ${lpad(devGb.toFixed(1), 6)}  ` +
    `${pad(r.assumed ? `recompute ${r.assumed}` : '', 18)} ${notes}`);
  if (verbose) {
    console.log(`    ${e.job}: --plan ${e.plan}${r.assumed ? `,recompute=${r.assumed}` : ''}`);
    const parts = Object.entries(est.time).map(([k, v]) => `${k.replace(/S$/, '')}=${(100 * v / est.stepTimeS).toFixed(0)}%`);
    console.log(`    step ${est.stepTimeS.toFixed(3)} s  ${parts.join(' ')}`);
    const mem = Object.entries(est.mem).map(([k, v]) => `${k.replace(/Bytes$/, '')}=${(v / 1e9).toFixed(1)}`);
    console.log(`    mem GB: ${mem.join(' ')}`);
  }
}

// ---- summaries ----
function summary(label: string, sel: (x: Row) => boolean): void {
  const xs = rows.filter(sel);
  if (xs.length === 0) return;
  const abs = xs.map((x) => Math.abs(x.err));
  const logo = xs.map((x) => Math.abs(x.logo)).filter(Number.isFinite);
  console.log(`${pad(label, Math.max(16, label.length))} n=${lpad(String(xs.length), 3)}  in-sample median |err| ${lpad(pct(median(abs)), 6)}  ` +
    `max ${lpad(pct(Math.max(...abs)), 6)}  signed ${lpad(pct(median(xs.map((x) => x.err))), 6)}   |   ` +
    `LOGO median |err| ${lpad(pct(logo.length ? median(logo) : NaN), 6)}  max ${lpad(pct(logo.length ? Math.max(...logo) : NaN), 6)}  ` +
    `signed ${lpad(pct(logo.length ? median(xs.map((x) => x.logo)) : NaN), 6)}`);
}
console.log('');
console.log(`summary (every run; LOGO = each group predicted by constants refitted without it${heldOut ? '' : ': not run'}):`);
summary('  all', () => true);
summary('  dense', (x) => !x.run.moe);
summary('  moe', (x) => x.run.moe);
summary('  bf16', (x) => !x.run.fp8);
summary('  fp8', (x) => x.run.fp8);
summary('  moe forced', (x) => x.run.moe && x.run.forced);
summary('  moe real', (x) => x.run.moe && !x.run.forced);
if (logoNote) console.log(`  (${logoNote})`);
if (writeCv) {
  if (!heldOut) fail(`--write-cv: needs the leave-one-group-out refits (${logoNote || 'not with --in-sample'})`);
  const out = crossValidationFile(cal.name);
  fs.writeFileSync(out, formatCrossValidation({
    calibration: path.relative(REPO_ROOT, cal.file), runsFile: path.relative(REPO_ROOT, path.resolve(file)), runs: rows.length,
    groups: new Set(rows.map((x) => x.run.group)).size,
    logoMedianAbsError: median(rows.map((x) => Math.abs(x.logo))),
    inSampleMedianAbsError: median(rows.map((x) => Math.abs(x.err))),
    date: new Date().toISOString().slice(0, 10),
  }));
  console.log(`  wrote ${path.relative(process.cwd(), out)}`);
}
console.log('by group (the leave-one-group-out unit):');
for (const g of [...new Set(rows.map((x) => x.run.group))]) summary(`  ${g}`.padEnd(30), (x) => x.run.group === g);

// ---- ranking check ----
console.log('ranking (runs of one group on the same model, GPU count and sequence: pairs the model orders as measured;');
console.log('  measured ties within 1 % and pairs the model cannot tell apart, the same plan and stack, are left out):');
let pairs = 0;
let agree = 0;
for (const key of [...new Set(rows.map((x) => x.run.rankKey))]) {
  const xs = rows.filter((x) => x.run.rankKey === key);
  if (xs.length < 2) continue;
  let p = 0;
  let a = 0;
  const wrong: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dm = xs[i].run.measuredTokens - xs[j].run.measuredTokens;
      if (Math.abs(dm) / Math.max(xs[i].run.measuredTokens, xs[j].run.measuredTokens) < 0.01) continue; // a measured tie
      if (xs[i].est.tokensPerSPerGpu === xs[j].est.tokensPerSPerGpu) continue; // the same plan and stack
      p++;
      const dp = xs[i].est.tokensPerSPerGpu - xs[j].est.tokensPerSPerGpu;
      if (Math.sign(dp) === Math.sign(dm)) a++;
      else wrong.push(`${xs[i].run.entry.id} vs ${xs[j].run.entry.id}`);
    }
  }
  if (p === 0) continue;
  pairs += p;
  agree += a;
  const [group, model, gpus, seq] = key.split('|');
  console.log(`  ${pad(`${group}: ${model} on ${gpus} GPUs, seq ${seq}`, 64)} ${a}/${p}${wrong.length ? `  reversed: ${wrong.join('; ')}` : ''}`);
}
console.log(`  all: ${agree}/${pairs} pairs in the measured order`);

// ---- hard cases, memory ----
const hard = runs.filter((r) => r.entry.hard_case !== undefined || r.entry.outlier !== undefined);
console.log(`hard cases (${hard.length}, kept in every figure):`);
for (const r of hard) console.log(`  ${r.entry.id}: ${r.entry.hard_case ?? r.entry.outlier}`);
const over30 = rows.filter((x) => Math.abs(x.err) > 0.3).map((x) => `${x.run.entry.id} (${(100 * x.err).toFixed(1)}%)`);
console.log(`beyond 30% in-sample: ${over30.length ? over30.join(', ') : 'none'}`);
console.log(`not fitting: ${unfit.length ? '\n  ' + unfit.join('\n  ') : 'none'}`);
if (verbose) {
  console.log('sources (the job files cite the recipe source of every stack fact):');
  for (const r of runs) console.log(`  ${r.entry.id}: ${r.entry.source ?? 'not recorded'}`);
}
const skipped = index.skipped ?? [];
console.log(`skipped (${skipped.length}):${skipped.length ? `\n  ${skipped.join('\n  ')}` : ' none'}`);
