import type { Argv } from 'yargs';
import type { JobOverrides } from '../job/load-job.js';
import { calibrationNames } from '../paths.js';
import { InputError } from '../job/errors.js';
import { CLUSTER_FIELDS, TRAINING_FIELDS, excerpt, numberProblem, type FieldRule } from '../job/fields.js';
import { STACK_FIELDS, STACK_KEYS, stackFlagName } from '../job/stack.js';
import type { StackSpec } from '../job/types.js';

/**
 * Options every command that reads a job accepts; they override the job file.
 *
 * The numeric ones are declared as strings and read by overridesFrom(): yargs turns `--gpus ''` into 0 and drops
 * a `--gpus` given no value (at the end, or before another flag), so the job file's value would be planned
 * silently. As strings, every one of those arrives as '' and is refused.
 */
export function withJobOverrides<T>(y: Argv<T>) {
  return y
    .option('gpus', { type: 'string', describe: 'Total GPUs (overrides cluster.gpus)', group: 'Job overrides:' })
    .option('gpus-per-node', { type: 'string', describe: 'GPUs per node (default: the calibration\'s node, 8 on HGX, 4 on NVL72 trays)', group: 'Job overrides:' })
    .option('nvlink-domain', { type: 'string', describe: 'GPUs per NVLink domain, whole nodes (default: the calibration\'s, one node on HGX, 64 on NVL72)', group: 'Job overrides:' })
    .option('gpu', { type: 'string', describe: `GPU calibration: a name in cost-models/ (${calibrationNames().join(', ')}) or the path of a calibration file`, group: 'Job overrides:' })
    .option('calibration', {
      type: 'string', group: 'Job overrides:', // repeated: yargs gives the list (not `array`, which would take the next words too)
      describe: 'Calibration overlay (written by moefold calibrate) applied over the GPU\'s calibration; repeat for several, applied in order (the first may be a full calibration file: it replaces --gpu). Replaces the job\'s cluster.calibrations',
    })
    .option('seq-length', { type: 'string', describe: 'Sequence length in tokens', group: 'Job overrides:' })
    .option('global-batch-size', { type: 'string', describe: 'Global batch in sequences', group: 'Job overrides:' })
    .option('precision', { type: 'string', describe: 'Training precision: bf16 or fp8', group: 'Job overrides:' })
    .options(stackOptions());
}

/**
 * One option per software-stack field (`--tp-comm-overlap false`, `--recompute-modules core_attn,moe_act`,
 * `--moe-expert-capacity-factor null`): every one takes a value (true/false for a switch, commas between list
 * entries, `null` for a field's default), read by stackOverrides() and checked by the loader like the file's.
 */
function stackOptions(): Record<string, { type: 'string'; describe: string; group: string }> {
  const out: Record<string, { type: 'string'; describe: string; group: string }> = {};
  for (const k of STACK_KEYS) {
    const f = STACK_FIELDS[k];
    const what = f.rule.kind === 'bool' ? 'true|false' : f.rule.kind === 'enumList' ? 'a,b,…' : 'VALUE';
    out[stackFlagName(k).slice(2)] = {
      type: 'string', group: 'Software stack (training fields):',
      describe: `${what}: training.${k} (default ${f.dfltText.split(' (')[0]})`,
    };
  }
  return out;
}

/** The text of a stack flag as the value the field's rule checks (the loader gives the one-line error). */
function stackValue(k: keyof StackSpec, raw: unknown): unknown {
  const rule = STACK_FIELDS[k].rule;
  const v = String(requireValue(stackFlagName(k), raw, stackAllowed(k)));
  if (v === 'null' && (STACK_FIELDS[k].nullable || rule.kind === 'enumList')) return STACK_FIELDS[k].nullable ? null : [];
  switch (rule.kind) {
    case 'bool':
      return v === 'true' ? true : v === 'false' ? false : v;
    case 'number':
      return /^[0-9]{1,16}(\.[0-9]{1,16})?$/.test(v.trim()) ? Number(v) : v;
    case 'enumList':
      return v.split(',').map((x) => x.trim());
    default:
      return v;
  }
}

function stackAllowed(k: keyof StackSpec): string {
  const rule = STACK_FIELDS[k].rule;
  if (rule.kind === 'bool') return 'true or false';
  if (rule.kind === 'enumList') return `a comma-separated list of ${rule.values.join(', ')}`;
  if (rule.kind === 'enum') return `one of ${rule.values.join(', ')}`;
  return rule.kind === 'number' ? `a number from ${rule.min} to ${rule.max}` : 'a value';
}

/** The stack flags given on the command line, as values for the loader (yargs keeps the kebab-case keys too). */
function stackOverrides(a: Record<string, unknown>): Partial<Record<keyof StackSpec, unknown>> | undefined {
  const out: Partial<Record<keyof StackSpec, unknown>> = {};
  let any = false;
  for (const k of STACK_KEYS) {
    const raw = a[stackFlagName(k).slice(2)];
    if (raw === undefined) continue;
    out[k] = stackValue(k, raw);
    any = true;
  }
  return any ? out : undefined;
}

/**
 * Refuses a flag given without a value: yargs gives '' for a string option written last, before another flag or
 * as `--flag ''`, `undefined`/NaN for a number option written so, `true`/`false` for `--flag`/`--no-flag` of an
 * untyped one, and a list when the flag is repeated. `name` is the flag as written (`--top`), `allowed` what it
 * takes ("an integer from 1 to 1000"). Returns the value unchanged otherwise; `undefined` (flag absent) passes.
 *
 * For a numeric option with a default (`--top`, `--workers`, `--rank`, `--tolerance`, `--explain`), yargs hands
 * over the default when the flag is absent, so call this with the raw value (declare the option as a string, or
 * check `process.argv`-level presence) before reading it as a number.
 */
export function requireValue<V>(name: string, value: V, allowed?: string): V {
  if (value === undefined) return value;
  const what = allowed !== undefined ? ` (${allowed})` : '';
  if (Array.isArray(value)) throw new InputError(`${name}: given more than once; give it once${what}`);
  if (value === '' || value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isNaN(value))) {
    throw new InputError(`${name}: needs a value${what}`);
  }
  if (typeof value === 'string' && value.trim() === '') throw new InputError(`${name}: needs a value${what}`);
  return value;
}

/** A flag's text read as a decimal integer within its field's rule; anything else is one line naming the flag. */
function intFlag(name: string, raw: unknown, rule: FieldRule, file: string | undefined): number | undefined {
  if (rule.kind !== 'int') throw new Error(`${name}: not an integer field`);
  if (typeof raw === 'number') return raw; // a caller that parsed it already; the loader checks it against the rule
  return readNumber(name, raw, { min: rule.min, max: rule.max, integer: true }, { file, asField: true });
}

/**
 * The one reader of numeric flags (numberOption and the job overrides): `raw` (text as yargs gives it) read as a
 * decimal number within [min, max]; absent → undefined; anything else → one-line InputError naming the flag.
 * `asField`: worded as the loader words a field (`>= min` below the range; the digits as given above it, since
 * 9007199254740993 would print as …992 once read as a number); `file` prefixes the message.
 */
function readNumber(name: string, raw: unknown, o: { min: number; max: number; integer: boolean },
  style: { file?: string; asField?: boolean } = {}): number | undefined {
  const allowed = o.integer ? `an integer from ${o.min} to ${o.max}` : `a number from ${o.min} to ${o.max}`;
  const v = requireValue(name, raw, allowed);
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const n = (o.integer ? /^[0-9]{1,16}$/ : /^[0-9]{1,16}(\.[0-9]{1,16})?$/).test(s) ? Number(s) : Number.NaN;
  if (Number.isFinite(n) && (!o.integer || Number.isSafeInteger(n)) && n >= o.min && n <= o.max) return n;
  const where = style.file !== undefined ? `${style.file}: ` : '';
  let problem = `must be ${allowed} (got ${excerpt(String(v))})`;
  if (style.asField && Number.isFinite(n)) {
    const rule = { kind: o.integer ? 'int' as const : 'number' as const, min: o.min, max: o.max };
    problem = n < o.min ? numberProblem(rule, n) : `must be ${allowed} (got ${s.replace(/^0+(?=\d)/, '')})`;
  }
  throw new InputError(`${where}${name}: ${problem}`);
}

/** The raw job-override arguments as yargs parsed them (strings; numbers when a caller passes them so). */
export interface JobOverrideArgs {
  gpus?: unknown;
  gpusPerNode?: unknown;
  nvlinkDomain?: unknown;
  gpu?: unknown;
  calibration?: unknown;
  seqLength?: unknown;
  globalBatchSize?: unknown;
  precision?: unknown;
  /** The job file, when the caller knows it: then messages name it as the loader's do. */
  job?: unknown;
}

/** Picks the job overrides out of a command's parsed arguments (yargs names them as JobOverrides does). */
export function overridesFrom(a: JobOverrideArgs): JobOverrides {
  const file = typeof a.job === 'string' ? a.job : undefined;
  const o: JobOverrides = {};
  const gpus = intFlag('--gpus', a.gpus, CLUSTER_FIELDS.gpus, file);
  if (gpus !== undefined) o.gpus = gpus;
  const perNode = intFlag('--gpus-per-node', a.gpusPerNode, CLUSTER_FIELDS.gpus_per_node, file);
  if (perNode !== undefined) o.gpusPerNode = perNode;
  const domain = intFlag('--nvlink-domain', a.nvlinkDomain, CLUSTER_FIELDS.nvlink_domain, file);
  if (domain !== undefined) o.nvlinkDomain = domain;
  const gpu = requireValue('--gpu', a.gpu, 'a calibration name such as h100-sxm, or the path of a calibration file');
  if (gpu !== undefined) o.gpu = String(gpu);
  if (a.calibration !== undefined) {
    const given: unknown[] = Array.isArray(a.calibration) ? a.calibration : [a.calibration];
    o.calibrations = given.map((f) => String(requireValue('--calibration', f, 'a calibration overlay file')));
  }
  const seq = intFlag('--seq-length', a.seqLength, TRAINING_FIELDS.seq_length, file);
  if (seq !== undefined) o.seqLength = seq;
  const gbs = intFlag('--global-batch-size', a.globalBatchSize, TRAINING_FIELDS.global_batch_size, file);
  if (gbs !== undefined) o.globalBatchSize = gbs;
  const precision = requireValue('--precision', a.precision, 'bf16 or fp8');
  if (precision !== undefined) o.precision = String(precision);
  const stack = stackOverrides(a as Record<string, unknown>); // yargs also keeps each flag under its kebab-case name
  if (stack !== undefined) o.stack = stack;
  return o;
}

/**
 * A numeric command-line option read from its raw text, for the options of other commands (`--top`,
 * `--workers`, `--rank`, `--tolerance`, `--explain`). Declare the option as `{ type: 'string' }` without a
 * yargs default (a number option given no value silently becomes its default), then call this with the parsed
 * argument: absent → `dflt`; given without a value, repeated, not a decimal number, not an integer (when
 * `integer`), or outside [min, max] → one-line InputError naming the flag.
 */
export function numberOption(
  name: string,
  raw: unknown,
  o: { min: number; max: number; integer?: boolean; dflt?: number },
): number | undefined {
  return readNumber(name, raw, { min: o.min, max: o.max, integer: o.integer ?? true }) ?? o.dflt;
}

/**
 * An option taking one of a few words, declared as `{ type: 'string' }` without a yargs default or choices (yargs
 * silently uses the default for a flag written last): absent → `dflt`; given no value, repeated or another word →
 * one-line InputError naming the flag and the words allowed.
 */
export function choiceOption<C extends string>(name: string, raw: unknown, choices: readonly C[], dflt: C): C {
  const allowed = `one of ${choices.join(', ')}`;
  const v = requireValue(name, raw, allowed);
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new InputError(`${name}: must be ${allowed} (got ${excerpt(String(v))})`);
  }
  return v as C;
}

/** A string option (a file, a folder, a list) that must not be given empty or twice; absent → undefined. */
export function textOption(name: string, raw: unknown, allowed: string): string | undefined {
  const v = requireValue(name, raw, allowed);
  return v === undefined ? undefined : String(v);
}
