/**
 * The list-valued flags of `moefold sweep` (--gpus 64,128,…, --gpu h100-sxm,b200, --seq-length 4096,8192) and
 * its token budget (--tokens 15e12 or 1.5T). Every bad entry is one line naming the flag and the entry.
 */
import { InputError } from '../job/errors.js';
import { CLUSTER_FIELDS, TRAINING_FIELDS, excerpt, type FieldRule } from '../job/fields.js';
import { requireValue } from '../cli/job-options.js';
import { isCalibrationPath, loadCalibration } from '../cost/calibration.js';
import { calibrationNames } from '../paths.js';

/** The most points one list flag may name: a bound on the sweep's size (the points are the lists' product). */
export const MAX_LIST_ENTRIES = 64;

/** The token budget when --tokens is not given: 1 T tokens (a round figure; the header and the JSON state it). */
export const DEFAULT_TOKENS = 1e12;

/** The largest --tokens accepted (10^18: far beyond any training run, and still exact enough as a double). */
export const MAX_TOKENS = 1e18;

/** The comma-separated entries of a list flag, each trimmed; an empty list or entry is refused. */
function listEntries(flag: string, raw: unknown, allowed: string): string[] | undefined {
  const v = requireValue(flag, raw, allowed);
  if (v === undefined) return undefined;
  const entries = String(v).split(',').map((s) => s.trim());
  if (entries.some((e) => e === '')) throw new InputError(`${flag}: an empty entry in ${excerpt(String(v))} (${allowed})`);
  if (entries.length > MAX_LIST_ENTRIES) throw new InputError(`${flag}: ${entries.length} entries, at most ${MAX_LIST_ENTRIES}`);
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e)) throw new InputError(`${flag}: ${excerpt(e)} is listed twice`);
    seen.add(e);
  }
  return entries;
}

/** A list of integers within a field's rule (--gpus within cluster.gpus, --seq-length within training.seq_length). */
function intList(flag: string, raw: unknown, rule: FieldRule): number[] | undefined {
  if (rule.kind !== 'int') throw new Error(`${flag}: not an integer field`);
  const allowed = `integers from ${rule.min} to ${rule.max}, joined by commas`;
  const entries = listEntries(flag, raw, allowed);
  if (entries === undefined) return undefined;
  const out = entries.map((e) => {
    const n = /^[0-9]{1,16}$/.test(e) ? Number(e) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < rule.min || n > rule.max) {
      throw new InputError(`${flag}: entry ${excerpt(e)} must be an integer from ${rule.min} to ${rule.max}`);
    }
    return n;
  });
  const dup = out.find((n, i) => out.indexOf(n) !== i);
  if (dup !== undefined) throw new InputError(`${flag}: ${dup} is listed twice`);
  return out;
}

/** --gpus 64,128,256: the GPU counts, as given (each a positive integer within cluster.gpus' range). */
export function parseGpusList(raw: unknown): number[] | undefined {
  return intList('--gpus', raw, CLUSTER_FIELDS.gpus);
}

/** --seq-length 4096,8192: the sequence lengths, as given. */
export function parseSeqLengthList(raw: unknown): number[] | undefined {
  return intList('--seq-length', raw, TRAINING_FIELDS.seq_length);
}

/**
 * --gpu h100-sxm,h200-sxm,b200: calibration names in cost-models/ or calibration files. A name that is not
 * there is refused here, naming the flag and the entry; a file is read (its own errors name it).
 */
export function parseGpuList(raw: unknown): string[] | undefined {
  const known = calibrationNames();
  const entries = listEntries('--gpu', raw, `calibration names (${known.join(', ')}) or calibration files, joined by commas`);
  if (entries === undefined) return undefined;
  for (const e of entries) {
    if (isCalibrationPath(e)) loadCalibration(e); // throws a one-line error naming the file
    else if (!known.includes(e)) throw new InputError(`--gpu: unknown GPU ${excerpt(e)} (known: ${known.join(', ')}; or the path of a calibration file)`);
  }
  return entries;
}

const TOKEN_SUFFIX: Record<string, number> = { K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12 };

/** --tokens: the training budget in tokens, `15e12`, `1.5T`, `800B` or `300000000000`; absent → DEFAULT_TOKENS. */
export function parseTokens(raw: unknown): number {
  const allowed = `a number of tokens from 1 to 1e18, e.g. 15e12, 1.5T or 800B`;
  const v = requireValue('--tokens', raw, allowed);
  if (v === undefined) return DEFAULT_TOKENS;
  const s = String(v).trim();
  const m = /^([0-9]{1,16}(?:\.[0-9]{1,16})?(?:[eE][+]?[0-9]{1,2})?)([KMBGT]?)$/i.exec(s);
  const n = m ? Number(m[1]) * (m[2] ? TOKEN_SUFFIX[m[2].toUpperCase()] : 1) : Number.NaN;
  if (!Number.isFinite(n) || n < 1 || n > MAX_TOKENS) throw new InputError(`--tokens: must be ${allowed} (got ${excerpt(s)})`);
  return n;
}
