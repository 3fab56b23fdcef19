import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { VALIDATOR_GROUPS, compiledValidator, generatedFile, type GeneratedValidators, type ValidatorGroup } from '../src/validate/compiled.js';
import { VALIDATED_SCHEMAS } from '../src/validate/schemas.js';
import { moefold } from './cli/run-cli.js';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv') as typeof import('ajv');

test('startup: the build wrote a validator for every schema, from the schema the code asks for now', () => {
  for (const [group, schemas] of Object.entries(VALIDATED_SCHEMAS()) as [ValidatorGroup, Record<string, object>][]) {
    const gen = require(generatedFile(group)) as GeneratedValidators;
    assert.equal(gen.options, JSON.stringify(VALIDATOR_GROUPS[group]), group);
    for (const [name, schema] of Object.entries(schemas)) {
      assert.equal(gen.schemas[name], JSON.stringify(schema), `${group}/${name}: stale (run npm run build)`);
      assert.equal(compiledValidator(group, name, schema), gen.validators[name], `${group}/${name}: not the generated one`);
    }
  }
});

test('startup: a schema that differs from the generated one is compiled at run time, not answered by the stale code', () => {
  const schema = { type: 'object', properties: { only_here: { type: 'integer' } }, additionalProperties: false };
  const v = compiledValidator('job', 'model', schema);
  assert.equal(v({ only_here: 1 }), true);
  assert.equal(v({ num_layers: 1 }), false);
});

/** Bad documents of each group, and what ajv compiled at run time says of them: the generated code says the same. */
test('startup: generated validators give the errors ajv gives when compiling at run time', () => {
  const docs: Record<ValidatorGroup, unknown[]> = {
    job: [{}, { num_layers: 0 }, { num_layers: 'x', hidden_size: 1.5 }, { name: 'a\nb' }, { recompute_modules: ['x', 'x'] },
      { window_attn_skip_freq: {} }, { nonsense: true }, { gpu: '' }, { seq_length: -1, precision: 'fp4' }],
    searchSpace: [{}, { tp: 'auto' }, { tp: [0], cp: 'x' }, { tp: { max: -1 } }, { recompute: ['nope'] }],
    calibration: [{}, { name: 'x', description: 'y' }, { name: '', overlay_of: 'h100-sxm' },
      { name: 'o', overlay_of: 'h100-sxm', compute: { dense_bf16_peak_flops: { value: 'x', source: 'somewhere long' } } },
      { name: 'o', overlay_of: 'h100-sxm', compute: { dense_bf16_peak_flops: { value: 1, source: 'short' } } }],
  };
  for (const [group, schemas] of Object.entries(VALIDATED_SCHEMAS()) as [ValidatorGroup, Record<string, object>][]) {
    for (const [name, schema] of Object.entries(schemas)) {
      const generated = compiledValidator(group, name, schema);
      const runtime: ValidateFunction = new Ajv({ ...VALIDATOR_GROUPS[group] }).compile(schema);
      for (const doc of docs[group]) {
        assert.equal(generated(doc), runtime(doc), `${group}/${name} ${JSON.stringify(doc)}`);
        assert.deepEqual(generated.errors ?? null, runtime.errors ?? null, `${group}/${name} ${JSON.stringify(doc)}`);
      }
    }
  }
});

/** The modules a compiled module loads before it runs (static imports, followed through the project's files). */
function staticClosure(file: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const walk = (f: string) => {
    if (files.has(f)) return;
    files.add(f);
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/^(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      if (/^(?:import|export)\s+type\s/.test(m[0])) continue;
      if (m[1].startsWith('.')) walk(path.resolve(path.dirname(f), m[1]));
      else packages.add(m[1]);
    }
  };
  walk(file);
  return { files, packages };
}

test('startup: moefold --version loads neither yargs nor a command, ajv, piscina, js-yaml or cli-table3', () => {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const { files, packages } = staticClosure(main);
  const dist = path.dirname(path.dirname(main));
  const rel = [...files].map((f) => path.relative(dist, f)).sort();
  assert.deepEqual(rel.filter((f) => /-command\.js$|^(export|render|check|report|search|cost|enumerate)\//.test(f)), [], rel.join(' '));
  assert.deepEqual([...packages].filter((p) => !p.startsWith('node:')), []);
  const r = moefold('--version');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${(JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version}\n`);
});

test('startup: --help still lists every command, and a mistyped command is still recognised', () => {
  const help = moefold('--help');
  assert.equal(help.status, 0);
  for (const c of ['tune <job>', 'score <job>', 'export <plans>', 'check <target>', 'calibrate <runs>', 'sweep <job>', 'report <job>']) {
    assert.match(help.stdout, new RegExp(`moefold ${c}`), c);
  }
  const typo = moefold('tun', 'x.yaml');
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /Did you mean tune\?/);
  const sub = moefold('sweep', '--help');
  assert.equal(sub.status, 0);
  assert.match(sub.stdout, /--tokens/);
});
