/**
 * Drift guard for the Megatron-LM export: data/upstream/megatron-lm-d98e8a6.args.json is Megatron-LM's own
 * argument parser at d98e8a6 (scripts/megatron-args-snapshot.py builds it from megatron/training/arguments.py).
 * Every flag of MEGATRON_FLAGS must exist there with a compatible kind, type and choices, and every flag the
 * export writes for the top plans of each fixture must be in MEGATRON_FLAGS with a value Megatron's type accepts.
 * Flags other changes add to MEGATRON_FLAGS are picked up as they are; no Python or Megatron at test time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { MEGATRON_FLAGS, megatronLaunch, type FlagSpec } from '../../src/export/index.js';
import { parseLayerFreqExpression } from '../../src/job/layer-freq.js';
import { InputError } from '../../src/job/errors.js';
import { fixturePlans } from './fixture-plans.js';

interface SnapshotOption {
  option_strings: string[];
  dest: string;
  action: string;
  type: string | null;
  nargs: string | number | null;
  choices: (string | number)[] | null;
  default: unknown;
}

const SNAPSHOT_FILE = 'data/upstream/megatron-lm-d98e8a6.args.json';
const snapshot = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, SNAPSHOT_FILE), 'utf8')) as { commit: string; options: SnapshotOption[] };
const byFlag = new Map<string, SnapshotOption>();
for (const o of snapshot.options) for (const s of o.option_strings) byFlag.set(s, o);

/** argparse actions that take no value (BooleanOptionalAction: --x / --no-x). */
const SWITCH_ACTIONS = new Set(['store_true', 'store_false', 'BooleanOptionalAction']);

/**
 * Megatron's conversion functions that read free text (megatron/training/arguments.py and argument_utils.py at
 * d98e8a6), where moefold writes a `str` value: tuple_type ("L,R" or "(L,R)" of integers: --window-size),
 * enum_type_handler (an enum member's name; the snapshot lists them as choices), _parse_cuda_graph_modules_arg (a
 * CudaGraphModule name or full / full_iteration / full_iteration_inference).
 */
const TEXT_CONVERTERS = new Set(['tuple_type', 'enum_type_handler', '_parse_cuda_graph_modules_arg']);

/** moefold's value type as Megatron's parser reads it; '' when compatible. */
function typeProblem(spec: FlagSpec, o: SnapshotOption): string {
  const t = o.type;
  switch (spec.type) {
    case 'int': return t === 'int' ? '' : `moefold int, Megatron ${t}`;
    case 'float': return t === 'float' ? '' : `moefold float, Megatron ${t}`;
    case 'moe_freq': return t === 'moe_freq_type' ? '' : `moefold moe_freq, Megatron ${t}`;
    case 'str':
    case undefined:
      return t === 'str' || t === null || TEXT_CONVERTERS.has(t) ? '' : `moefold str, Megatron ${t}`;
  }
}

/** Why `value` is not what Megatron's type for `o` accepts; '' when it is. */
function valueProblem(value: string, o: SnapshotOption): string {
  if (o.choices && !o.choices.map(String).includes(value)) return `${JSON.stringify(value)} is not one of ${o.choices.join(', ')}`;
  switch (o.type) {
    case 'int': return /^-?\d+$/.test(value) ? '' : `${JSON.stringify(value)} is not integer text`;
    case 'float': return value.trim() !== '' && Number.isFinite(Number(value)) ? '' : `${JSON.stringify(value)} is not number text`;
    case 'moe_freq_type':
      return /^\d+$/.test(value) || parseLayerFreqExpression(value) !== undefined ? '' : `${JSON.stringify(value)} is no layer-frequency expression`;
    case 'tuple_type':
      return value.replace(/^\(+|\)+$/g, '').split(',').every((x) => /^\s*-?\d+\s*$/.test(x)) ? '' : `${JSON.stringify(value)} is no tuple of integers`;
    default: return '';
  }
}

test('megatron snapshot: it is the whole parser of the named commit', () => {
  assert.equal(snapshot.commit, 'd98e8a64ddf34856e74b24714e3bedb2f5a39553');
  assert.ok(snapshot.options.length > 500, `${snapshot.options.length} options`);
  // spot checks against the source (megatron/training/arguments.py at d98e8a6)
  assert.deepEqual(byFlag.get('--tensor-model-parallel-size'), {
    option_strings: ['--tensor-model-parallel-size'], dest: 'tensor_model_parallel_size', action: 'store', type: 'int',
    nargs: null, choices: null, default: 1,
  });
  assert.equal(byFlag.get('--moe-layer-freq')?.type, 'moe_freq_type');
  assert.equal(byFlag.get('--sequence-parallel')?.action, 'store_true');
});

test('megatron snapshot: every flag of MEGATRON_FLAGS exists in Megatron\'s parser with a compatible kind, type and choices', () => {
  const problems: string[] = [];
  for (const [flag, spec] of Object.entries(MEGATRON_FLAGS)) {
    const o = byFlag.get(flag);
    if (!o) {
      problems.push(`${flag}: not in Megatron-LM's parser at ${snapshot.commit.slice(0, 7)}`);
      continue;
    }
    if (spec.kind === 'switch') {
      if (!SWITCH_ACTIONS.has(o.action)) problems.push(`${flag}: moefold switch, Megatron action ${o.action}`);
      continue;
    }
    if (o.action !== 'store') problems.push(`${flag}: moefold ${spec.kind}, Megatron action ${o.action}`);
    const list = o.nargs === '+' || o.nargs === '*';
    if (spec.kind === 'list' && !list) problems.push(`${flag}: moefold list, Megatron nargs ${String(o.nargs)}`);
    if (spec.kind === 'value' && o.nargs !== null) problems.push(`${flag}: moefold one value, Megatron nargs ${String(o.nargs)}`);
    const t = typeProblem(spec, o);
    if (t) problems.push(`${flag}: ${t}`);
    if (spec.choices && o.choices) {
      const theirs = new Set(o.choices.map(String));
      const extra = spec.choices.filter((c) => !theirs.has(c));
      if (extra.length > 0) problems.push(`${flag}: choices ${extra.join(', ')} are not Megatron's (${[...theirs].join(', ')})`);
    }
  }
  assert.deepEqual(problems, []);
});

test('megatron snapshot: the checks catch what they should', () => {
  const tp = byFlag.get('--tensor-model-parallel-size')!;
  assert.equal(typeProblem({ kind: 'value', type: 'float' }, tp), 'moefold float, Megatron int');
  assert.equal(valueProblem('2.5', tp), '"2.5" is not integer text');
  assert.equal(valueProblem('8', tp), '');
  const recipe = byFlag.get('--fp8-recipe')!;
  assert.match(valueProblem('e5m2', recipe), /^"e5m2" is not one of tensorwise, delayed/);
  const freq = byFlag.get('--moe-layer-freq')!;
  assert.equal(valueProblem('([0]*3+[1]*58)', freq), '');
  assert.notEqual(valueProblem('[0,', freq), '');
  assert.equal(valueProblem('(128,0)', byFlag.get('--window-size')!), '');
  assert.notEqual(valueProblem('nope', byFlag.get('--moe-aux-loss-coeff')!), '');
});

test('megatron snapshot: every flag the export writes for the top plans of each fixture parses as Megatron\'s type', async () => {
  const problems: string[] = [];
  let lists = 0;
  for (const f of await fixturePlans(5)) {
    for (const [i, plan] of f.plans.entries()) for (const mockData of [false, true]) {
      let args: string[];
      try {
        args = megatronLaunch(f.job, f.shape, plan, { mockData }).args;
      } catch (e) {
        if (e instanceof InputError) continue; // refused with its reason: nothing written
        throw e;
      }
      lists++;
      let k = 0;
      while (k < args.length) {
        const flag = args[k];
        const where = `${f.file} plan ${i + 1} ${flag}`;
        const values: string[] = [];
        let j = k + 1;
        while (j < args.length && !(args[j].startsWith('--') && byFlag.has(args[j]))) values.push(args[j++]);
        k = j;
        const o = byFlag.get(flag);
        if (!(flag in MEGATRON_FLAGS)) problems.push(`${where}: not in MEGATRON_FLAGS`);
        if (!o) {
          problems.push(`${where}: not in Megatron-LM's parser`);
          continue;
        }
        const list = o.nargs === '+' || o.nargs === '*';
        if (SWITCH_ACTIONS.has(o.action)) {
          if (values.length > 0) problems.push(`${where}: a switch with values ${values.join(' ')}`);
          continue;
        }
        if (list ? values.length === 0 && o.nargs === '+' : values.length !== 1) problems.push(`${where}: ${values.length} values`);
        for (const v of values) {
          const p = valueProblem(v, o);
          if (p) problems.push(`${where}: ${p}`);
        }
      }
    }
  }
  assert.ok(lists >= 40, `${lists} argument lists checked`);
  assert.deepEqual(problems, []);
});
