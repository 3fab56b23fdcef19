/**
 * Review fixes: object-method names as keys, Hugging Face numbers beyond their bounds, duplicate keys in
 * plans.json, integers beyond 2^53.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { loadJob } from '../../src/job/load-job.js';
import { parseJson } from '../../src/job/read-file.js';
import { readPlansFile } from '../../src/plans/plans-file.js';
import fs from 'node:fs';
import { makeCostModelsDir } from './cost-models-dir.js';
import { tempWriter } from './temp-files.js';

process.chdir(REPO_ROOT);
const costModelsDir = makeCostModelsDir();
const { write } = tempWriter('moefold-review-');

function errorOf(file: string): InputError {
  try {
    loadJob(file, { gpus: 8 }, { costModelsDir });
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e;
  }
  assert.fail(`${file} loaded without an error`);
}

const MODEL = 'model:\n  num_layers: 4\n  hidden_size: 1024\n  num_attention_heads: 8\n  vocab_size: 32000\n';

test('object-method names under model: are unknown fields, not "a training field"', () => {
  const f = write('tostring.yaml', MODEL + '  toString: 1\n');
  const m = errorOf(f).message;
  assert.match(m, /model\.toString: unknown field/);
  assert.doesNotMatch(m, /training field|cluster field/);
});

test('object-method names at top level are unknown top-level fields, not "model fields go under model:"', () => {
  for (const key of ['valueOf', 'hasOwnProperty', 'toString']) {
    const f = write(`top-${key}.yaml`, MODEL + `${key}: 3\n`);
    const m = errorOf(f).message;
    assert.match(m, new RegExp(`${key}: unknown top-level field`));
    assert.doesNotMatch(m, /model fields go under model:|training field|cluster field/);
  }
});

function jsonError(text: string): string {
  try {
    parseJson(text, 'p.json');
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('parsed without an error');
}

test('plans.json: a key given twice in one object is refused, naming the key and the line', () => {
  assert.equal(jsonError('{\n  "a": 1,\n  "b": {"gpus": 8,\n  "gpus": 16}\n}'), 'p.json: gpus: given more than once (again at line 4; JSON keys must be unique)');
  assert.match(jsonError('{"a": 1, "\\u0061": 2}'), /^p\.json: a: given more than once/);
  // The same key in different objects, keys equal to string values, and escaped quotes are fine.
  assert.deepEqual(parseJson('{"a": "a", "b": [{"a": 1}, {"a": "x\\"a"}], "c": {"a": ["a", "a"]}}', 'p.json'),
    { a: 'a', b: [{ a: 1 }, { a: 'x"a' }], c: { a: ['a', 'a'] } });
});

test('plans.json: a baseline with two gpus values is refused (not the last one silently)', () => {
  const text = fs.readFileSync('fixtures/ci/llama3-70b-64.baseline.json', 'utf8');
  const twice = text.replace(/"gpus": (\d+)/, '"gpus": $1,\n    "gpus": 128');
  assert.notEqual(twice, text);
  const f = write('twice.baseline.json', twice);
  assert.throws(() => readPlansFile(f), (e: unknown) => e instanceof InputError && /: gpus: given more than once \(again at line \d+/.test(e.message));
  readPlansFile('fixtures/ci/llama3-70b-64.baseline.json');
});

test('an integer beyond 2^53 is reported as such, not as the rounded number the user never wrote', () => {
  const f = write('beyond.yaml', MODEL.replace('hidden_size: 1024', 'hidden_size: 9007199254740993'));
  assert.equal(errorOf(f).message, `${f}: model.hidden_size: must be an integer from 1 to 131072 (got a number of 2^53 or more)`);
  const neg = write('beyond-neg.yaml', MODEL.replace('vocab_size: 32000', 'vocab_size: -9007199254740993'));
  assert.match(errorOf(neg).message, /model\.vocab_size: .*\(got a number of -2\^53 or less\)$/);
  const hf = write('hf-beyond/config.json', JSON.stringify({
    model_type: 'llama', num_hidden_layers: 2, hidden_size: 1024, num_attention_heads: 8, vocab_size: 1000, intermediate_size: 4096,
  }).replace('"vocab_size":1000', '"vocab_size":9007199254740993'));
  const m = errorOf(hf).message;
  assert.match(m, /vocab_size: .*\(got a number of 2\^53 or more\)$/);
  assert.doesNotMatch(m, /9007199254740992/);
});
