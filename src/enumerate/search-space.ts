import fs from 'node:fs';
import path from 'node:path';
import { compiledValidator } from '../validate/compiled.js';
import type { Dispatcher, Recompute } from '../job/types.js';
import { InputError, inputError } from '../job/errors.js';
import { LIMITS, gotText } from '../job/fields.js';
import { parseYaml, readInputText } from '../job/read-file.js';
import { parseKeyValues } from './key-values.js';
import { SEARCH_SPACES_DIR } from '../paths.js';

/**
 * The values to try for each dimension of a mapping (search-spaces/*.yaml, documented in default.yaml).
 * Plain data (no Maps, no functions, null for "no limit") so it can be posted to worker threads.
 * `auto` lists are resolved per job by resolveSpace().
 */
export type IntDimension =
  | { kind: 'list'; values: number[] }
  /** Every value that can be valid for the job, at most `max` (null: no limit). */
  | { kind: 'auto'; max: number | null };

export interface SearchSpace {
  /** Where it was read from (for messages). */
  source: string;
  tp: IntDimension;
  cp: IntDimension;
  pp: IntDimension;
  /** Virtual pipeline stages per PP rank. */
  vpp: IntDimension;
  ep: IntDimension;
  etp: IntDimension;
  microBatchSize: IntDimension;
  uneven: { enabled: boolean; maxFirstLastReduction: number };
  /** Also try splits that count the embedding and/or the loss as a layer (--account-for-*-in-pipeline-split). */
  accountedSplits: boolean;
  /** Also try the balanced explicit layouts, one per (PP, VPP > 1) (--pipeline-model-parallel-layout). */
  layouts: boolean;
  /** Sequence parallel values tried where it is a choice (dense models with TP > 1). */
  sequenceParallel: boolean[];
  recompute: Recompute[];
  dispatcher: Dispatcher[];
  distributedOptimizer: boolean[];
}

export const RECOMPUTE_VALUES: readonly Recompute[] = ['none', 'selective', 'full'];
export const DISPATCHER_VALUES: readonly Dispatcher[] = ['alltoall', 'allgather', 'flex'];

/** The YAML keys, in file order. */
export const SPACE_KEYS = ['tp', 'cp', 'pp', 'vpp', 'uneven_stages', 'accounted_splits', 'layouts', 'ep', 'etp',
  'micro_batch_size', 'sequence_parallel', 'recompute', 'dispatcher', 'distributed_optimizer'] as const;
type SpaceKey = typeof SPACE_KEYS[number];
/** Keys a space file may leave out, with their defaults (added after the first release of the format). */
const OPTIONAL_KEYS = ['accounted_splits', 'layouts', 'sequence_parallel'] as const;
const REQUIRED_KEYS = SPACE_KEYS.filter((k) => !(OPTIONAL_KEYS as readonly string[]).includes(k));

/**
 * Bounds of a space file, checked when it is read (and after --fix): an enumerator worker allocates tables of
 * the product of the vpp, micro-batch and pipeline-split counts, and auto vpp with a max loops up to it.
 *   values    tp, cp, pp, ep, etp <= 1,048,576 (the largest world size); vpp <= 1024 (the most layers);
 *             micro_batch_size <= 1,048,576 (the largest global batch); the same for `max` of an auto list
 *   lists     at most 64 values each (a world size <= 1,048,576 has at most 240 divisors, but no one lists more
 *             than a few), and the product of the explicit lists' lengths at most 65,536
 *   uneven    max_first_last_reduction <= 32 (the model zoo uses <= 4; the number of uneven splits grows with
 *             its square)
 */
export const SPACE_LIMITS = {
  listValues: 64,
  listProduct: 65_536,
  maxFirstLastReduction: 32,
} as const;
const DIM_MAX: Readonly<Record<'tp' | 'cp' | 'pp' | 'vpp' | 'ep' | 'etp' | 'micro_batch_size', number>> = {
  tp: LIMITS.gpus, cp: LIMITS.gpus, pp: LIMITS.gpus, ep: LIMITS.gpus, etp: LIMITS.gpus,
  vpp: LIMITS.layers, micro_batch_size: LIMITS.globalBatch,
};

const INT_DIM_ALLOWED = 'must be an integer >= 1, a list of integers >= 1, "auto", or {auto: true, max: N} with N >= 1';
const ALLOWED: Record<SpaceKey, string> = {
  tp: INT_DIM_ALLOWED, cp: INT_DIM_ALLOWED, pp: INT_DIM_ALLOWED, vpp: INT_DIM_ALLOWED, ep: INT_DIM_ALLOWED,
  etp: INT_DIM_ALLOWED, micro_batch_size: INT_DIM_ALLOWED,
  uneven_stages: 'must be {enabled: true|false, max_first_last_reduction: integer >= 0}',
  accounted_splits: 'must be true or false',
  layouts: 'must be true or false',
  sequence_parallel: 'must be "auto", true, false, or a non-empty list of true/false',
  recompute: `must be "auto" or a non-empty list of ${RECOMPUTE_VALUES.join(', ')}`,
  dispatcher: `must be "auto" or a non-empty list of ${DISPATCHER_VALUES.join(', ')}`,
  distributed_optimizer: 'must be "auto", true, false, or a non-empty list of true/false',
};

const intDimSchema = {
  anyOf: [
    { const: 'auto' },
    { type: 'integer', minimum: 1 },
    { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1 } },
    {
      type: 'object', additionalProperties: false, required: ['auto', 'max'],
      properties: { auto: { const: true }, max: { type: 'integer', minimum: 1 } },
    },
  ],
};
const enumDimSchema = (values: readonly string[]) => ({
  anyOf: [
    { const: 'auto' },
    { enum: values },
    { type: 'array', minItems: 1, items: { enum: values } },
  ],
});
/** The search-space file's JSON Schema (compiled at build time: validate/schemas.ts). */
export const SEARCH_SPACE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [...REQUIRED_KEYS],
  properties: {
    tp: intDimSchema, cp: intDimSchema, pp: intDimSchema, vpp: intDimSchema, ep: intDimSchema, etp: intDimSchema,
    micro_batch_size: intDimSchema,
    uneven_stages: {
      type: 'object', additionalProperties: false, required: ['enabled', 'max_first_last_reduction'],
      properties: { enabled: { type: 'boolean' }, max_first_last_reduction: { type: 'integer', minimum: 0 } },
    },
    accounted_splits: { type: 'boolean' },
    layouts: { type: 'boolean' },
    sequence_parallel: {
      anyOf: [{ const: 'auto' }, { type: 'boolean' }, { type: 'array', minItems: 1, items: { type: 'boolean' } }],
    },
    recompute: enumDimSchema(RECOMPUTE_VALUES),
    dispatcher: enumDimSchema(DISPATCHER_VALUES),
    distributed_optimizer: {
      anyOf: [{ const: 'auto' }, { type: 'boolean' }, { type: 'array', minItems: 1, items: { type: 'boolean' } }],
    },
  },
};

let validator: ReturnType<typeof compiledValidator> | null = null;
function validate(doc: unknown) {
  validator ??= compiledValidator('searchSpace', 'space', SEARCH_SPACE_SCHEMA);
  return { ok: validator(doc) as boolean, errors: validator.errors ?? [] };
}

/** A value for a message: the short JSON the messages always showed, else a bounded excerpt (never a walk). */
function show(v: unknown): string {
  if (typeof v === 'string') return gotText(v);
  if (Array.isArray(v) && v.length <= 16 && v.every((x) => typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean')) {
    const s = JSON.stringify(v);
    if (s.length <= 60 && /^[\x20-\x7e]*$/.test(s)) return s;
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length <= 4 && entries.every(([k, x]) => /^[a-z_]{1,32}$/.test(k) && (typeof x === 'number' || typeof x === 'boolean'))) {
      return JSON.stringify(v);
    }
  }
  return gotText(v);
}

function intDim(v: unknown): IntDimension {
  if (v === 'auto') return { kind: 'auto', max: null };
  if (typeof v === 'number') return { kind: 'list', values: [v] };
  if (Array.isArray(v)) return { kind: 'list', values: uniqueSorted(v as number[]) };
  return { kind: 'auto', max: (v as { max: number }).max };
}

function enumDim<T extends string>(v: unknown, all: readonly T[]): T[] {
  if (v === 'auto') return [...all];
  const given = Array.isArray(v) ? v as T[] : [v as T];
  return all.filter((x) => given.includes(x)); // canonical order, no repeats
}

function boolDim(v: unknown): boolean[] {
  if (v === 'auto') return [true, false];
  const given = Array.isArray(v) ? v as boolean[] : [v as boolean];
  return [true, false].filter((x) => given.includes(x));
}

export function uniqueSorted(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** The file's document as a SearchSpace (the document must already be valid). */
function fromDocument(doc: Record<SpaceKey, unknown>, source: string): SearchSpace {
  const uneven = doc.uneven_stages as { enabled: boolean; max_first_last_reduction: number };
  return {
    source,
    tp: intDim(doc.tp), cp: intDim(doc.cp), pp: intDim(doc.pp), vpp: intDim(doc.vpp), ep: intDim(doc.ep),
    etp: intDim(doc.etp), microBatchSize: intDim(doc.micro_batch_size),
    uneven: { enabled: uneven.enabled, maxFirstLastReduction: uneven.max_first_last_reduction },
    accountedSplits: (doc.accounted_splits ?? true) as boolean,
    layouts: (doc.layouts ?? true) as boolean,
    sequenceParallel: boolDim(doc.sequence_parallel ?? 'auto'),
    recompute: enumDim(doc.recompute, RECOMPUTE_VALUES),
    dispatcher: enumDim(doc.dispatcher, DISPATCHER_VALUES),
    distributedOptimizer: boolDim(doc.distributed_optimizer),
  };
}

/** Checks a parsed search-space document; throws a one-line InputError naming the file and the dimension. */
export function searchSpaceFromDocument(doc: unknown, file: string): SearchSpace {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw inputError(file, '', `must be a mapping of dimension -> values (dimensions: ${SPACE_KEYS.join(', ')})`);
  }
  const { ok, errors } = validate(doc);
  if (!ok) {
    const e = errors[0];
    if (e.instancePath === '' && e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      throw inputError(file, key, `unknown dimension (allowed: ${SPACE_KEYS.join(', ')})`);
    }
    if (e.instancePath === '' && e.keyword === 'required') {
      const key = (e.params as { missingProperty: string }).missingProperty;
      throw inputError(file, key, `missing: every dimension must be given (${REQUIRED_KEYS.join(', ')}; optional: ${OPTIONAL_KEYS.join(', ')})`);
    }
    const key = e.instancePath.split('/')[1] as SpaceKey;
    const value = (doc as Record<string, unknown>)[key];
    throw inputError(file, key, `${ALLOWED[key]} (got ${show(value)})`);
  }
  const d = doc as Record<SpaceKey, unknown>;
  for (const key of ['tp', 'cp', 'pp', 'vpp', 'ep', 'etp', 'micro_batch_size'] as const) {
    const v = d[key];
    const max = DIM_MAX[key];
    if (Array.isArray(v) && v.length > SPACE_LIMITS.listValues) {
      throw inputError(file, key, `a list of at most ${SPACE_LIMITS.listValues} values (got a list of ${v.length})`);
    }
    const values: unknown[] = Array.isArray(v) ? v : typeof v === 'number' ? [v] : isAutoMax(v) ? [v.max] : [];
    const big = values.find((x) => typeof x === 'number' && x > max);
    if (big !== undefined) throw inputError(file, key, `values must be at most ${max} (got ${gotText(big)})`);
  }
  const uneven = d.uneven_stages as { max_first_last_reduction: number };
  if (uneven.max_first_last_reduction > SPACE_LIMITS.maxFirstLastReduction) {
    throw inputError(file, 'uneven_stages', `max_first_last_reduction must be at most ${SPACE_LIMITS.maxFirstLastReduction} (got ${gotText(uneven.max_first_last_reduction)})`);
  }
  const space = fromDocument(d, file);
  checkSpaceSize(space, file);
  return space;
}

function isAutoMax(v: unknown): v is { max: number } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { max?: unknown }).max === 'number';
}

/** The product of the explicit lists' lengths is bounded (an auto list resolves per job to a few divisors). */
function checkSpaceSize(space: SearchSpace, source: string): void {
  const dims: [string, IntDimension][] = [['tp', space.tp], ['cp', space.cp], ['pp', space.pp], ['vpp', space.vpp],
    ['ep', space.ep], ['etp', space.etp], ['micro_batch_size', space.microBatchSize]];
  let product = 1;
  for (const [, dim] of dims) if (dim.kind === 'list') product *= dim.values.length;
  if (product > SPACE_LIMITS.listProduct) {
    const sizes = dims.filter(([, dim]) => dim.kind === 'list' && dim.values.length > 1)
      .map(([k, dim]) => `${k} ${(dim as { values: number[] }).values.length}`).join(' × ');
    const largest = dims.reduce((a, b) => (listLength(b[1]) > listLength(a[1]) ? b : a));
    throw inputError(source, largest[0], `the lists are too long together: ${sizes} = ${product} combinations, more than ${SPACE_LIMITS.listProduct} (shorten ${largest[0]} or use auto)`);
  }
}

function listLength(d: IntDimension): number {
  return d.kind === 'list' ? d.values.length : 0;
}

/** Shows a path relative to the working directory when that is shorter (for messages). */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

/** Reads and checks a search-space file (default: search-spaces/default.yaml). */
export function loadSearchSpace(file?: string): SearchSpace {
  if (file !== undefined && file.trim() === '') throw new InputError('search-space file: needs a name (got an empty one)');
  const full = file ?? path.join(SEARCH_SPACES_DIR, 'default.yaml');
  const shown = displayPath(full);
  try {
    fs.statSync(shown);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw inputError(shown, '', 'cannot read the search-space file (ENOENT)');
  }
  // The bounded reader of every input file: regular files only, 16 MiB, UTF-8, no __proto__ keys.
  const text = readInputText(shown, 'search-space file');
  let doc: unknown;
  try {
    doc = parseYaml(text, shown);
  } catch (err) {
    const m = err instanceof InputError ? /: YAML syntax error:? ?(.*)$/.exec(err.message) : null;
    if (m === null) throw err;
    throw inputError(shown, '', `not valid YAML: ${m[1]}`);
  }
  return searchSpaceFromDocument(doc, shown);
}

/** The bounds of a space file, for a space narrowed by --fix. */
function checkFixBounds(space: SearchSpace, source: string): void {
  const dims: ['tp' | 'cp' | 'pp' | 'vpp' | 'ep' | 'etp' | 'micro_batch_size', IntDimension][] = [['tp', space.tp], ['cp', space.cp],
    ['pp', space.pp], ['vpp', space.vpp], ['ep', space.ep], ['etp', space.etp], ['micro_batch_size', space.microBatchSize]];
  for (const [key, dim] of dims) {
    if (dim.kind !== 'list') continue;
    if (dim.values.length > SPACE_LIMITS.listValues) throw inputError(source, key, `at most ${SPACE_LIMITS.listValues} values (got ${dim.values.length})`);
    const big = dim.values.find((v) => v > DIM_MAX[key]);
    if (big !== undefined) throw inputError(source, key, `values must be at most ${DIM_MAX[key]} (got ${big})`);
  }
  if (space.uneven.maxFirstLastReduction > SPACE_LIMITS.maxFirstLastReduction) {
    throw inputError(source, 'uneven', `the largest first/last reduction is ${SPACE_LIMITS.maxFirstLastReduction} (got ${space.uneven.maxFirstLastReduction})`);
  }
  checkSpaceSize(space, source);
}

const FIX_ALIASES: Record<string, SpaceKey> = {
  tp: 'tp', cp: 'cp', pp: 'pp', vpp: 'vpp', ep: 'ep', etp: 'etp',
  mbs: 'micro_batch_size', micro_batch_size: 'micro_batch_size',
  recompute: 'recompute', dispatcher: 'dispatcher',
  distopt: 'distributed_optimizer', dist_opt: 'distributed_optimizer', distributed_optimizer: 'distributed_optimizer',
  uneven: 'uneven_stages', uneven_stages: 'uneven_stages',
  account: 'accounted_splits', accounted_splits: 'accounted_splits', layouts: 'layouts', layout: 'layouts',
  sp: 'sequence_parallel', sequence_parallel: 'sequence_parallel',
};
const FIX_KEYS_TEXT = 'tp, cp, pp, vpp, ep, etp, mbs (micro_batch_size), sp (sequence_parallel), recompute, dispatcher, '
  + 'distopt (distributed_optimizer), uneven, account (accounted_splits), layouts';

function parseBool(v: string): boolean | null {
  const s = v.toLowerCase();
  if (s === 'true' || s === 'on' || s === 'yes' || s === '1') return true;
  if (s === 'false' || s === 'off' || s === 'no' || s === '0') return false;
  return null;
}

/**
 * Narrows a space with `--fix key=value,...` (e.g. `tp=2,ep=8,recompute=selective,mbs=1,vpp=7`). Integer
 * dimensions take one integer, several joined by '/' (`mbs=1/2`) or `auto`; recompute and dispatcher take one
 * value, several joined by '/', or `auto`; distopt takes true/false (on/off); uneven takes on/off or the largest
 * first/last reduction N (which turns it on). Returns a new space; the input is not changed.
 */
export function applyFixes(space: SearchSpace, fixes: string, source = '--fix'): SearchSpace {
  const out: SearchSpace = structuredClone(space);
  for (const { key, rawKey, value } of parseKeyValues(fixes, source, FIX_ALIASES, FIX_KEYS_TEXT, 'unknown dimension')) {
    const parts = value.split('/').map((s) => s.trim());
    switch (key) {
      case 'tp': case 'cp': case 'pp': case 'vpp': case 'ep': case 'etp': case 'micro_batch_size': {
        let dim: IntDimension;
        if (value.toLowerCase() === 'auto') {
          dim = { kind: 'auto', max: null };
        } else {
          if (!parts.every((p) => /^[1-9][0-9]*$/.test(p) && Number.isSafeInteger(Number(p)))) {
            throw inputError(source, rawKey, `must be an integer >= 1, several joined by '/', or auto (got ${show(value)})`);
          }
          dim = { kind: 'list', values: uniqueSorted(parts.map(Number)) };
        }
        if (key === 'micro_batch_size') out.microBatchSize = dim; else out[key] = dim;
        break;
      }
      case 'recompute':
      case 'dispatcher': {
        const all: readonly string[] = key === 'recompute' ? RECOMPUTE_VALUES : DISPATCHER_VALUES;
        if (value.toLowerCase() === 'auto') { (out[key] as string[]) = [...all]; break; }
        const bad = parts.find((p) => !all.includes(p));
        if (bad !== undefined) throw inputError(source, rawKey, `must be one of ${all.join(', ')}, several joined by '/', or auto (got ${show(bad)})`);
        (out[key] as string[]) = all.filter((x) => parts.includes(x));
        break;
      }
      case 'distributed_optimizer': {
        if (value.toLowerCase() === 'auto') { out.distributedOptimizer = [true, false]; break; }
        const b = parseBool(value);
        if (b === null) throw inputError(source, rawKey, `must be true or false (on/off), or auto (got ${show(value)})`);
        out.distributedOptimizer = [b];
        break;
      }
      case 'sequence_parallel': {
        if (value.toLowerCase() === 'auto') { out.sequenceParallel = [true, false]; break; }
        const vals = parts.map(parseBool);
        if (vals.some((b) => b === null)) throw inputError(source, rawKey, `must be true or false (on/off), several joined by '/', or auto (got ${show(value)})`);
        out.sequenceParallel = [true, false].filter((x) => vals.includes(x));
        break;
      }
      case 'accounted_splits':
      case 'layouts': {
        const b = parseBool(value);
        if (b === null) throw inputError(source, rawKey, `must be on or off (got ${show(value)})`);
        if (key === 'layouts') out.layouts = b; else out.accountedSplits = b;
        break;
      }
      case 'uneven_stages': {
        const b = parseBool(value);
        if (b !== null && value !== '0' && value !== '1') { out.uneven.enabled = b; break; }
        if (/^[0-9]+$/.test(value)) { out.uneven = { enabled: true, maxFirstLastReduction: Number(value) }; break; }
        throw inputError(source, rawKey, `must be on, off, or the largest first/last stage reduction N >= 0 (got ${show(value)})`);
      }
    }
  }
  checkFixBounds(out, source);
  return out;
}
