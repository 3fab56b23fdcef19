import fs from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { COMMANDS } from './commands.js';
import Table from 'cli-table3';
import { COST_MODELS_DIR } from '../paths.js';
import { InputError } from '../job/errors.js';
import { NAME_PATTERN } from '../job/fields.js';
import type { JobOverrides } from '../job/load-job.js';
import { calibrationLabel } from '../cost/calibration.js';
import { readFreeTable } from '../calibrate/fit-core.js';
import { readRunsFile, type CalibrationRun } from '../calibrate/runs-file.js';
import { calibrate, calibrationValue, overlayText, residual, type CalibrateResult } from '../calibrate/calibrate.js';
import { formatValue, median } from '../calibrate/fit-core.js';
import { writeFileAtomic } from '../io/write-files.js';
import { choiceOption, overridesFrom, requireValue, textOption } from './job-options.js';
import { printStructured } from './output.js';

interface CalibrateArgs {
  runs: string;
  out?: string;
  name?: string;
  constants?: string;
  format?: string;
  gpu?: string;
  calibration?: unknown;
}

/** The free-constant table of a base calibration: its own, else the H100 table (physical bounds of the same terms). */
function freeTableFile(baseName: string): string {
  const own = path.join(COST_MODELS_DIR, 'fit', `${baseName}.free.yaml`);
  return fs.existsSync(own) ? own : path.join(COST_MODELS_DIR, 'fit', 'h100-sxm.free.yaml');
}

export function registerCalibrate(cli: Argv, setExit: (code: number) => void): void {
  cli.command<CalibrateArgs>(
    COMMANDS.calibrate.usage,
    COMMANDS.calibrate.describe,
    (y) => y
      .positional('runs', { type: 'string', demandOption: true, describe: 'Runs file (YAML): each run a job, its plan, and a Megatron log or measured numbers' })
      .option('out', { alias: 'o', type: 'string', describe: 'Write the overlay here (apply it with --calibration FILE)' })
      .option('name', { type: 'string', describe: 'The overlay\'s name (default: the -o file\'s base name)' })
      .option('constants', { type: 'string', describe: 'Fit these free constants (section.key, commas) instead of choosing them; none: fit nothing, only compare the calibration with the runs' })
      .option('format', { type: 'string', describe: 'Output format: table or json (default table)' })
      .option('gpu', { type: 'string', describe: 'Base calibration for every run (a name in cost-models/ or a path)' })
      .option('calibration', { type: 'string', describe: 'Overlay applied to every run before fitting (repeatable)' })
      .example('$0 calibrate examples/calibrate/runs.yaml -o team-h100.yaml', 'Fit on the example runs and write the overlay')
      .example('$0 tune job.yaml --calibration team-h100.yaml', 'Plan with the overlay'),
    async (args) => {
      const format = choiceOption('--format', args.format, ['table', 'json'] as const, 'table');
      const out = textOption('-o/--out', args.out, 'a file to write the overlay to');
      const nameArg = textOption('--name', args.name, 'a name of letters, digits, ., _ and -');
      const constantsArg = textOption('--constants', args.constants, 'free constants such as overhead.step_overhead_s');
      const name = nameArg ?? (out !== undefined ? path.basename(out).replace(/\.ya?ml$/, '') : 'calibrated');
      if (!new RegExp(NAME_PATTERN).test(name)) {
        throw new InputError(`${nameArg !== undefined ? '--name' : '-o/--out'}: the overlay's name${nameArg !== undefined ? '' : ' (the file\'s base name)'} must be made of letters, digits, ., _ and - (got ${JSON.stringify(name)}; give --name)`);
      }
      const runsFile = requireValue('<runs>', args.runs, 'a runs file') as string;
      const overrides: JobOverrides = overridesFrom({ gpu: args.gpu, calibration: args.calibration });
      const runs = readRunsFile(runsFile, overrides);
      const base = runs[0].jc.calibration;
      for (const r of runs) {
        if (calibrationLabel(r.jc.calibration) !== calibrationLabel(base) || r.jc.calibration.file !== base.file) {
          throw new InputError(`${runsFile}: runs[${runs.indexOf(r)}].job: runs on ${calibrationLabel(r.jc.calibration)}, `
            + `but the first run on ${calibrationLabel(base)}: calibrate the runs of one GPU calibration together`);
        }
      }
      const table = readFreeTable(freeTableFile(base.name));
      // `none`: fit nothing, only compare the calibration given with the runs (e.g. an overlay on runs it was not fitted to)
      const asked = constantsArg === 'none' ? [] : constantsArg?.split(',').map((s) => s.trim());
      if (asked !== undefined && constantsArg !== 'none' && (asked.length === 0 || asked.some((k) => k === ''))) {
        throw new InputError(`--constants: must list free constants (section.key, commas), or be none (got ${JSON.stringify(constantsArg)})`);
      }
      const result = calibrate(runs, table, asked);
      const date = new Date().toISOString().slice(0, 10);
      const text = overlayText(result, { name, runsFile: path.basename(runsFile), date, runs: runs.length });
      if (out !== undefined) {
        if (asked !== undefined && asked.length === 0) throw new InputError('-o/--out: --constants none fits nothing: there is no overlay to write');
        if (result.constants.length === 0) throw new InputError(`${runsFile}: no free constant moves at least two runs by 2 %: nothing to calibrate (see --constants)`);
        const read = [runsFile, ...runs.flatMap((r) => r.inputs), ...(overrides.calibrations ?? []), ...(overrides.gpu ? [overrides.gpu] : [])];
        if (read.some((f) => path.resolve(f) === path.resolve(out))) throw new InputError(`-o/--out: ${out} is one of the files calibrate reads: write the overlay elsewhere`);
        writeFileAtomic(out, text, 'calibration overlay');
      }
      if (format === 'json') printStructured(resultJson(runs, result, out, text), 'json');
      else process.stdout.write(`${renderCalibration(runs, result, out)}\n`);
      const scatter = developmentScatter(base.name);
      const before = medianAbs(result.before);
      if (scatter !== null && result.constants.length > 0 && before < scatter) {
        process.stderr.write(`moefold: warning: before the fit the runs are already within the model's leave-one-group-out error on the `
          + `development set (median ${(before * 100).toFixed(1)} % < ${(scatter * 100).toFixed(1)} %, cost-models/fit/${base.name}.result.yaml): `
          + 'the fit may follow noise; judge it on runs it was not fitted to (--constants none --calibration FILE)\n');
      }
      setExit(0);
    },
  );
}

/** The development set's leave-one-group-out median |error| of a calibration's fit (npm run fit), if recorded. */
function developmentScatter(name: string): number | null {
  const f = path.join(COST_MODELS_DIR, 'fit', `${name}.result.yaml`);
  if (!fs.existsSync(f)) return null;
  const m = /^leave_one_group_out_median_abs_error: ([0-9.]+)$/m.exec(fs.readFileSync(f, 'utf8'));
  return m ? Number(m[1]) : null;
}

function medianAbs(xs: readonly number[]): number {
  return median(xs.map(Math.abs));
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const tok = (x: number): string => Math.round(x).toLocaleString('en-US');

function memText(run: CalibrationRun, predicted: number[]): string {
  const m = run.measuredStageGib;
  if (m === null) return `– / ${Math.max(...predicted).toFixed(1)}`;
  if (m.length === 1 && predicted.length > 1) return `${m[0]!.toFixed(1)} / ${Math.max(...predicted).toFixed(1)}`;
  const meas = m.filter((x): x is number => x !== null);
  const stages = m.map((x, i) => (x === null ? -1 : i)).filter((i) => i >= 0);
  const pred = Math.max(...stages.map((i) => predicted[i]));
  return `${Math.max(...meas).toFixed(1)} / ${pred.toFixed(1)}${stages.length < m.length ? ` (${stages.length}/${m.length} stages)` : ''}`;
}

export function renderCalibration(runs: readonly CalibrationRun[], r: CalibrateResult, out: string | undefined): string {
  const lines: string[] = [];
  lines.push(`moefold calibrate: ${runs.length} run${runs.length === 1 ? '' : 's'} on ${calibrationLabel(r.base)}`);
  lines.push('constants:');
  for (const c of r.choices) {
    const i = r.constants.findIndex((k) => k.key === c.key);
    const k = r.constants[i];
    const atBound = i >= 0 && (r.values[i] <= k.min || r.values[i] >= k.max) ? ' (at a bound)' : '';
    const v = i >= 0 ? `${formatValue(calibrationValue(r.base, c.key))} -> ${r.values[i]}${atBound}` : 'kept';
    lines.push(`  ${c.chosen ? 'fit ' : 'keep'} ${c.key.padEnd(36)} ${v.padEnd(34)} ${c.why}`);
  }
  const head = ['run', 'measured tok/s/GPU', 'spread', 'before', 'err', 'after', 'err'];
  if (r.heldOut) head.push('left out');
  head.push('max alloc GiB meas / pred');
  const t = new Table({ head, style: { head: [], border: [] } });
  runs.forEach((run, i) => {
    const row = [run.id, tok(run.measuredTokens), run.spread === null ? '–' : `${(run.spread * 100).toFixed(1)}%`,
      tok(run.measuredTokens * (1 + r.before[i])), pct(r.before[i]), tok(run.measuredTokens * (1 + r.after[i])), pct(r.after[i])];
    if (r.heldOut) row.push(pct(r.heldOut[i]));
    row.push(memText(run, r.predictedStageGib[i]));
    t.push(row);
  });
  lines.push(t.toString());
  const res = residual(r);
  lines.push(`median |error|: before ${(medianAbs(r.before) * 100).toFixed(1)}% · after ${(res.median * 100).toFixed(1)}% (max ${(res.max * 100).toFixed(1)}%)`
    + (r.heldOut ? ` · leave-one-out ${(medianAbs(r.heldOut) * 100).toFixed(1)}%` : runs.length < 3 ? ' · leave-one-out needs 3 runs' : ''));
  lines.push(out !== undefined ? `wrote ${out}: apply it with --calibration ${out}` : 'nothing written: give -o FILE to write the overlay');
  return lines.join('\n');
}

function resultJson(runs: readonly CalibrationRun[], r: CalibrateResult, out: string | undefined, text: string): unknown {
  return {
    base: calibrationLabel(r.base),
    constants: r.choices.map((c) => {
      const i = r.constants.findIndex((k) => k.key === c.key);
      return { key: c.key, fitted: c.chosen, before: calibrationValue(r.base, c.key), after: i >= 0 ? r.values[i] : null, why: c.why };
    }),
    runs: runs.map((run, i) => ({
      id: run.id, measured_tokens_per_s_per_gpu: run.measuredTokens, measured_step_time_s: run.measuredStepS, how: run.measuredHow,
      spread: run.spread, error_before: r.before[i], error_after: r.after[i], error_left_out: r.heldOut ? r.heldOut[i] : null,
      measured_max_allocated_gib_by_stage: run.measuredStageGib, predicted_max_allocated_gib_by_stage: r.predictedStageGib[i],
    })),
    residual: residual(r),
    overlay_file: out ?? null,
    overlay: text,
  };
}
