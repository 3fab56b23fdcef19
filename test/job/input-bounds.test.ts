/**
 * The bounds behind the hostile-input rules, unit by unit: bounded excerpts, the bounded file reader, the
 * prototype-key walk, lazy moe_layer_freq expressions, plans-file path confinement, space-file bounds and the
 * command-line value helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { LIMITS, excerpt, gotText, keyText } from '../../src/job/fields.js';
import { checkLayerFreq, evalLayerFreqExpression, parseLayerFreqExpression } from '../../src/job/layer-freq.js';
import { jobFromObject, loadJob } from '../../src/job/load-job.js';
import { MAX_INPUT_BYTES, checkKeys, readInputText } from '../../src/job/read-file.js';
import { loadSearchSpace, applyFixes } from '../../src/enumerate/search-space.js';
import { readPlansFile } from '../../src/plans/plans-file.js';
import { numberOption, overridesFrom, requireValue } from '../../src/cli/job-options.js';
import { tempWriter } from './temp-files.js';

process.chdir(REPO_ROOT);
const { dir: tmp, write } = tempWriter('moefold-bounds-');
const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  return assert.fail('no error');
};

test('excerpt: short, escaped, with the length when cut', () => {
  assert.equal(excerpt('fp16'), '"fp16"');
  assert.equal(excerpt('a\u202eb\x1b[31m\n'), '"a\\u202eb\\u001b[31m\\n"');
  const long = excerpt('x'.repeat(1_000_000));
  assert.ok(long.length < 80, long);
  assert.match(long, /… \(1000000 characters\)$/);
  assert.equal(keyText('num_layers'), 'num_layers');
  assert.ok(keyText('k'.repeat(10_000)).length < 60);
});

test('gotText is bounded in length and work, even for an alias-shared structure', () => {
  assert.equal(gotText(-0), '-0');
  assert.equal(gotText(Number.NaN), 'NaN');
  assert.equal(gotText([1, 2]), '[1, 2]');
  assert.equal(gotText(new Array(9).fill(0)), 'a list of 9');
  let level: unknown[] = [1, 1, 1, 1, 1, 1, 1, 1];
  for (let i = 0; i < 60; i++) level = new Array(8).fill(level); // 8^60 leaves if walked
  const t0 = Date.now();
  const s = gotText(level);
  assert.ok(Date.now() - t0 < 100);
  assert.ok(s.length < 200, s);
});

test('readInputText: regular files only, a size limit, UTF-8, BOM dropped, /proc read with a bound', () => {
  assert.equal(readInputText(write('bom.yaml', '\uFEFFa: 1\n')), 'a: 1\n');
  assert.match(messageOf(() => readInputText('/dev/zero')), /^\/dev\/zero: is a character device, not a job file \(only regular files are read\)$/);
  assert.match(messageOf(() => readInputText(tmp)), /: is a directory, not a job file$/);
  assert.match(messageOf(() => readInputText(path.join(tmp, 'absent.yaml'))), /absent\.yaml: file not found$/);
  const big = path.join(tmp, 'big.yaml');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, MAX_INPUT_BYTES + 1);
  assert.match(messageOf(() => readInputText(big)), /big\.yaml: is larger than 16 MiB, the most moefold reads from one input file$/);
  fs.truncateSync(big, MAX_INPUT_BYTES); // exactly the limit is read
  assert.equal(readInputText(big).length, MAX_INPUT_BYTES);
  assert.match(messageOf(() => readInputText(write('latin1.yaml', Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a])))), /latin1\.yaml: is not UTF-8 text/);
  if (fs.existsSync('/proc/self/status')) {
    assert.equal(fs.statSync('/proc/self/status').size, 0); // stat says 0: the reader reads to the end anyway
    assert.match(readInputText('/proc/self/status'), /^Name:/);
  }
});

test('js-yaml keeps __proto__ as an own key (no pollution) — and moefold refuses it anywhere', () => {
  const doc = yaml.load('a: {b: [{__proto__: {x: 1}}]}') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.match(messageOf(() => checkKeys(doc, 'f.yaml')), /^f\.yaml: a\.b\[0\]\.__proto__: key not allowed/);
  assert.match(messageOf(() => checkKeys(JSON.parse('{"plans": [{"constructor": 1}]}'), 'p.json')), /^p\.json: plans\[0\]\.constructor: key not allowed/);
  assert.match(messageOf(() => checkKeys({ m: { prototype: {} } }, 'o')), /^o: m\.prototype: key not allowed/);
  // A shared subtree is visited once: 8^60 paths, few nodes.
  let level: unknown = { a: 1 };
  for (let i = 0; i < 60; i++) level = { a: level, b: level, c: level, d: level };
  checkKeys(level, 'x');
  // jobFromObject refuses it too (an object that did not come through the reader).
  const dense = { num_layers: 2, hidden_size: 64, num_attention_heads: 4, vocab_size: 100 };
  const obj = JSON.parse(`{"model": ${JSON.stringify(dense).replace('{', '{"__proto__": {"num_experts": 8},')}, "cluster": {"gpus": 8}}`) as unknown;
  assert.match(messageOf(() => jobFromObject(obj, 'plans.json')), /^plans\.json: model\.__proto__: key not allowed/);
});

test('moe_layer_freq expressions: the length is known before the list is built', () => {
  const t0 = Date.now();
  assert.equal(parseLayerFreqExpression('([1]*1000000000)'), undefined);
  assert.equal(parseLayerFreqExpression('[1]*99999999999999999999999999999999999999'), undefined);
  assert.deepEqual(parseLayerFreqExpression('[]*99999999999999999999999999'), []);
  assert.deepEqual(parseLayerFreqExpression('[1]*0'), []);
  assert.ok(Date.now() - t0 < 100);
  assert.deepEqual(evalLayerFreqExpression('[0]*2+[1]*2', 4), [0, 0, 1, 1]);
  assert.throws(() => evalLayerFreqExpression('[0]*2+[1]*3', 4));
  assert.deepEqual(checkLayerFreq('([0]*3+[1]*1000000000)', 61), {
    problem: 'list must have one entry per layer: 61 for num_layers 61 (the expression gives 1000000003)',
  });
  assert.deepEqual(checkLayerFreq(`(${'('.repeat(50_000)}1${')'.repeat(50_000)})`, 4).hasOwnProperty('problem'), true);
  assert.deepEqual(checkLayerFreq(1e308, 4), {
    problem: `must be an integer from 1 to ${LIMITS.layers} (layer i is MoE iff i % N == 0) (got 1e+308)`,
  });
});

test('a plans file names files only inside its own folder', () => {
  const baseline = JSON.parse(fs.readFileSync('fixtures/ci/qwen3-30b-a3b-16.baseline.json', 'utf8')) as Record<string, unknown>;
  write('plans/cluster.yaml', 'gpus: 16\n');
  write('outside.yaml', 'gpus: 16\n');
  const inside = write('plans/inside.json', JSON.stringify({ ...baseline, cluster: 'cluster.yaml' }));
  assert.equal(readPlansFile(inside).job.cluster.gpus, 16);
  const up = write('plans/up.json', JSON.stringify({ ...baseline, cluster: '../outside.yaml' }));
  assert.match(messageOf(() => readPlansFile(up)), /up\.json: cluster: a path in a plans file must be relative and stay inside its folder \(got "\.\.\/outside\.yaml"\)$/);
  const abs = write('plans/abs.json', JSON.stringify({ ...baseline, model: '/etc/passwd' }));
  assert.match(messageOf(() => readPlansFile(abs)), /abs\.json: model: a path in a plans file must be relative and stay inside its folder \(got "\/etc\/passwd"\)$/);
  fs.symlinkSync(path.join(tmp, 'outside.yaml'), path.join(tmp, 'plans/link.yaml'));
  const link = write('plans/link.json', JSON.stringify({ ...baseline, cluster: 'link.yaml' }));
  assert.match(messageOf(() => readPlansFile(link)), /link\.json: cluster: a path in a plans file must be relative and stay inside its folder/);
  // A job file (written by the user, not a plans file) may still name any file.
  const job = write('jobs/job.yaml', `model: ${path.join(REPO_ROOT, 'fixtures/models/mixtral-8x7b.yaml')}\ncluster: ../outside.yaml\n`);
  assert.equal(loadJob(job).cluster.gpus, 16);
});

test('space files: values, list lengths, their product and the uneven reduction are bounded', () => {
  const ok = fs.readFileSync('search-spaces/default.yaml', 'utf8');
  const space = (name: string, re: RegExp, line: string): string => write(name, ok.replace(re, line));
  const range = (n: number): string => `[${Array.from({ length: n }, (_, i) => i + 1).join(', ')}]`;
  const f1 = space('s1.yaml', /^vpp: .*$/m, `vpp: ${range(65)}`);
  assert.equal(messageOf(() => loadSearchSpace(f1)), `${f1}: vpp: a list of at most 64 values (got a list of 65)`);
  const f2 = space('s2.yaml', /^tp: .*$/m, 'tp: [1, 2097152]');
  assert.equal(messageOf(() => loadSearchSpace(f2)), `${f2}: tp: values must be at most 1048576 (got 2097152)`);
  const f3 = space('s3.yaml', /^vpp: .*$/m, 'vpp: {auto: true, max: 1000000000}');
  assert.equal(messageOf(() => loadSearchSpace(f3)), `${f3}: vpp: values must be at most 1024 (got 1000000000)`);
  const f4 = space('s4.yaml', /^uneven_stages: .*$/m, 'uneven_stages: {enabled: true, max_first_last_reduction: 33}');
  assert.equal(messageOf(() => loadSearchSpace(f4)), `${f4}: uneven_stages: max_first_last_reduction must be at most 32 (got 33)`);
  const f5 = write('s5.yaml', ok.replace(/^vpp: .*$/m, `vpp: ${range(64)}`).replace(/^micro_batch_size: .*$/m, `micro_batch_size: ${range(64)}`)
    .replace(/^tp: .*$/m, 'tp: [1, 2, 4, 8, 16]').replace(/^cp: .*$/m, 'cp: [1, 2, 4, 8]'));
  assert.equal(messageOf(() => loadSearchSpace(f5)),
    `${f5}: vpp: the lists are too long together: tp 5 × cp 4 × vpp 64 × micro_batch_size 64 = 81920 combinations, more than 65536 (shorten vpp or use auto)`);
});

test('--fix is bounded like a space file', () => {
  const base = loadSearchSpace();
  assert.equal(messageOf(() => applyFixes(base, 'vpp=2000')), '--fix: vpp: values must be at most 1024 (got 2000)');
  assert.equal(messageOf(() => applyFixes(base, 'uneven=1000000')), '--fix: uneven: the largest first/last reduction is 32 (got 1000000)');
});

test('command-line values: a flag given without a value is an error', () => {
  assert.equal(messageOf(() => overridesFrom({ gpus: '' })), '--gpus: needs a value (an integer from 1 to 1048576)');
  assert.equal(messageOf(() => overridesFrom({ gpus: ['8', '16'] })), '--gpus: given more than once; give it once (an integer from 1 to 1048576)');
  assert.equal(messageOf(() => overridesFrom({ seqLength: '4k', job: 'j.yaml' })), 'j.yaml: --seq-length: must be an integer from 1 to 16777216 (got "4k")');
  assert.equal(messageOf(() => overridesFrom({ gpusPerNode: '100', job: 'j.yaml' })), 'j.yaml: --gpus-per-node: must be an integer from 1 to 72 (got 100)');
  assert.equal(messageOf(() => overridesFrom({ gpu: '' })), '--gpu: needs a value (a calibration name such as h100-sxm, or the path of a calibration file)');
  assert.equal(messageOf(() => overridesFrom({ precision: '  ' })), '--precision: needs a value (bf16 or fp8)');
  assert.deepEqual(overridesFrom({ gpus: '64', gpusPerNode: '8', seqLength: '8192', globalBatchSize: '512', gpu: 'h200-sxm', precision: 'fp8' }),
    { gpus: 64, gpusPerNode: 8, seqLength: 8192, globalBatchSize: 512, gpu: 'h200-sxm', precision: 'fp8' });
  assert.deepEqual(overridesFrom({}), {});
  assert.equal(requireValue('--top', undefined), undefined);
  assert.equal(requireValue('--top', '5'), '5');
  assert.equal(messageOf(() => requireValue('--top', Number.NaN, 'an integer from 1 to 1000')), '--top: needs a value (an integer from 1 to 1000)');
  assert.equal(numberOption('--top', undefined, { min: 1, max: 1000, dflt: 10 }), 10);
  assert.equal(numberOption('--top', '7', { min: 1, max: 1000 }), 7);
  assert.equal(numberOption('--tolerance', '0.05', { min: 0, max: 0.999, integer: false }), 0.05);
  assert.equal(messageOf(() => numberOption('--top', '', { min: 1, max: 1000 })), '--top: needs a value (an integer from 1 to 1000)');
  assert.equal(messageOf(() => numberOption('--top', '1e9', { min: 1, max: 1000 })), '--top: must be an integer from 1 to 1000 (got "1e9")');
});
