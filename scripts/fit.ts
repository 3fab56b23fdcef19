/**
 * npm run fit [-- --cal NAME] [--dry-run]: fits the free constants of cost-models/NAME.yaml (default h100-sxm),
 * the ones cost-models/fit/NAME.free.yaml names with their bounds, on the development set
 * (fixtures/accuracy/runs.yaml) by scripts/fit-core.ts (soft-L1 least squares on ln(pred/meas) tokens/s/GPU,
 * every run in), then
 *  - writes each fitted value into cost-models/NAME.yaml, its source saying what it means, its bounds, that
 *    npm run fit produced it and on what;
 *  - writes cost-models/fit/NAME.result.yaml: the runs and groups fitted on, the values, each run's residual, and
 *    the constants of each leave-one-group-out fold (how stable each constant is without each group).
 * --dry-run prints the result and writes nothing. No other calibration value is touched.
 * --carry TARGET copies the values of cost-models/fit/NAME.result.yaml into cost-models/TARGET.yaml (a GPU without
 * measured runs of its own to fit on), each source saying where the value comes from; it fits nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../src/paths.js';
import { InputError } from '../src/job/errors.js';
import { DevSetError, loadDevSet, median, withValues } from './dev-set.js';
import {
  fit, formatValue, leaveOneGroupOut, logErrors, readFreeTable, setCalibrationEntry, type FreeTable,
} from '../src/calibrate/fit-core.js';
import { calibrationFromDoc } from '../src/cost/calibration.js';

const args = process.argv.slice(2);
const dry = args.includes('--dry-run');
const calIdx = args.indexOf('--cal');
const name = calIdx >= 0 ? args[calIdx + 1] : 'h100-sxm';

function fail(msg: string, code = 2): never {
  process.stderr.write(`fit: ${msg}\n`);
  process.exit(code);
}
if (!name || name.startsWith('--') || !/^[A-Za-z0-9._-]+$/.test(name)) fail('--cal: needs a calibration name (a file in cost-models/)');

const calFile = path.join(REPO_ROOT, 'cost-models', `${name}.yaml`);
const freeFile = path.join(REPO_ROOT, 'cost-models', 'fit', `${name}.free.yaml`);
const resultFile = path.join(REPO_ROOT, 'cost-models', 'fit', `${name}.result.yaml`);
const runsFile = path.join(REPO_ROOT, 'fixtures', 'accuracy', 'runs.yaml');
const rel = (f: string): string => path.relative(REPO_ROOT, f);

function sourceText(table: FreeTable, i: number, n: number, groups: number): string {
  const c = table.constants[i];
  return `${c.meaning}. Fitted by npm run fit (scripts/fit.ts) on the ${n} runs of fixtures/accuracy/runs.yaml ` +
    `(${groups} groups), bounds [${c.min}, ${c.max}]; residuals and leave-one-group-out constants: ${rel(resultFile)}`;
}

const carryIdx = args.indexOf('--carry');
if (carryIdx >= 0) {
  const target = args[carryIdx + 1];
  if (!target || target.startsWith('--') || !/^[A-Za-z0-9._-]+$/.test(target)) fail('--carry: needs a calibration name (a file in cost-models/)');
  try {
    const table = readFreeTable(freeFile);
    if (!fs.existsSync(resultFile)) fail(`${rel(resultFile)}: file not found (run npm run fit first)`);
    const rec = yaml.load(fs.readFileSync(resultFile, 'utf8')) as { values: Record<string, number>; fitted_on: { runs: number } };
    const targetFile = path.join(REPO_ROOT, 'cost-models', `${target}.yaml`);
    if (!fs.existsSync(targetFile)) fail(`${rel(targetFile)}: file not found`);
    let text = fs.readFileSync(targetFile, 'utf8');
    for (const c of table.constants) {
      const v = rec.values[c.key];
      if (typeof v !== 'number') fail(`${rel(resultFile)}: values.${c.key}: missing`);
      text = setCalibrationEntry(text, rel(targetFile), c.key, v, `${c.meaning}. Carried over from the ${name} fit ` +
        `(npm run fit -- --carry ${target}; ${rel(resultFile)}, ${rec.fitted_on.runs} runs): there are no measured ` +
        `${target} runs to fit on`);
    }
    calibrationFromDoc(yaml.load(text), rel(targetFile));
    if (!dry) fs.writeFileSync(targetFile, text);
    console.log(`fit: ${dry ? 'would carry' : 'carried'} ${table.constants.length} values of ${rel(resultFile)} into ${rel(targetFile)}`);
    process.exit(0);
  } catch (e) {
    if (e instanceof DevSetError || e instanceof InputError) fail(e.message, e.exitCode);
    throw e;
  }
}

try {
  const table = readFreeTable(freeFile);
  if (table.calibration !== name) fail(`${rel(freeFile)}: calibration: names ${table.calibration}, not ${name}`);
  const { runs } = loadDevSet(runsFile, { gpu: name });
  const base = runs[0].jc.calibration;
  const keys = table.constants.map((c) => c.key);
  const t0 = Date.now();
  const res = fit(runs, base, table);
  // the values as the calibration will hold them: 3 significant digits, clamped into the constant's bounds
  const written = table.constants.map((c, i) => Math.min(c.max, Math.max(c.min, Number(formatValue(res.values[i])))));
  const cal = withValues(base, keys, written);
  const errs = logErrors(runs, cal).map((x) => Math.exp(x) - 1);
  const groups = [...new Set(runs.map((r) => r.group))];
  console.log(`fit: ${keys.length} constants on ${runs.length} runs (${groups.length} groups), loss ${res.loss.toFixed(4)}, ` +
    `${res.evaluations} evaluations, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const [i, c] of table.constants.entries()) {
    const at = res.values[i] <= c.min * (1 + 1e-6) + 1e-15 || res.values[i] >= c.max * (1 - 1e-6) ? '  (at a bound)' : '';
    console.log(`  ${c.key.padEnd(40)} ${String(written[i]).padStart(10)}   [${c.min}, ${c.max}]${at}`);
  }
  console.log(`  in-sample median |err| ${(100 * median(errs.map(Math.abs))).toFixed(1)}%`);
  const logo = leaveOneGroupOut(runs, base, table, (f) =>
    console.log(`  without ${f.group.padEnd(28)} (${f.n} runs): ${f.values.map(formatValue).join(' ')}`));
  console.log(`  leave-one-group-out median |err| ${(100 * median(logo.heldOut.map((x) => Math.abs(Math.exp(x) - 1)))).toFixed(1)}%`);
  if (dry) process.exit(0);

  let text = fs.readFileSync(calFile, 'utf8');
  for (const [i, c] of table.constants.entries()) {
    text = setCalibrationEntry(text, rel(calFile), c.key, written[i], sourceText(table, i, runs.length, groups.length));
  }
  calibrationFromDoc(yaml.load(text), rel(calFile)); // what is written must load
  const record = {
    calibration: rel(calFile),
    free_constants: rel(freeFile),
    fitted_on: { runs_file: rel(runsFile), runs: runs.length, groups: Object.fromEntries(groups.map((g) => [g, runs.filter((r) => r.group === g).length])) },
    loss: { kind: 'soft_l1 on ln(predicted / measured) tokens/s/GPU', scale: table.loss_scale, value: Number(res.loss.toFixed(5)) },
    values: Object.fromEntries(table.constants.map((c, i) => [c.key, written[i]])),
    in_sample_median_abs_error: Number(median(errs.map(Math.abs)).toFixed(4)),
    leave_one_group_out_median_abs_error: Number(median(logo.heldOut.map((x) => Math.abs(Math.exp(x) - 1))).toFixed(4)),
    residuals: Object.fromEntries(runs.map((r, i) => [r.entry.id, { group: r.group, in_sample: Number(errs[i].toFixed(4)),
      held_out: Number((Math.exp(logo.heldOut[i]) - 1).toFixed(4)) }])),
    folds: logo.folds.map((f) => ({ without: f.group, runs_left_out: f.n,
      values: Object.fromEntries(keys.map((k, i) => [k, Number(formatValue(f.values[i]))])) })),
  };
  const head = `# Written by npm run fit (scripts/fit.ts); do not edit. What the free constants of ${rel(calFile)} were fitted on.\n`;
  fs.writeFileSync(calFile, text);
  fs.writeFileSync(resultFile, head + yaml.dump(record, { lineWidth: 120 }));
  console.log(`fit: wrote ${rel(calFile)} and ${rel(resultFile)}`);
} catch (e) {
  if (e instanceof DevSetError || e instanceof InputError) fail(e.message, e.exitCode);
  throw e;
}
