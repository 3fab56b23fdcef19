/** Command-line overrides: applied after reading, then checked like file values (messages name the flag). */
import { defaultFinetune } from '../../src/job/finetune.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { COST_MODELS_DIR, REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { loadJob, type JobOverrides, type LoadOptions } from '../../src/job/load-job.js';
import { calibrationNames } from '../../src/paths.js';
import { describeJob } from '../../src/job/describe.js';
import { makeCostModelsDir } from './cost-models-dir.js';
import { defaultStack } from '../../src/job/stack.js';

process.chdir(REPO_ROOT);
const costModelsDir = makeCostModelsDir();
const opts = { costModelsDir };
const MIX = 'fixtures/models/mixtral-8x22b.yaml';

const messageOf = (file: string, o: JobOverrides, options: LoadOptions = opts): string => {
  try {
    loadJob(file, o, options);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.message;
  }
  return assert.fail('no error');
};

test('every override replaces the file value', () => {
  const job = loadJob(MIX, { gpus: 64, gpusPerNode: 4, gpu: 'h200', seqLength: 8192, globalBatchSize: 512, precision: 'fp8' }, opts);
  assert.deepEqual(job.cluster, { gpu: 'h200', gpus: 64, gpus_per_node: 4 });
  assert.deepEqual(job.training, { seq_length: 8192, global_batch_size: 512, precision: 'fp8', ...defaultStack(), ...defaultFinetune(), attention_dropout: 0, hidden_dropout: 0 });
  assert.equal(
    describeJob(job),
    'Mixtral-8x22B (141B params, 39B active, 8 experts top-2) · seq 8192 · GBS 512 · fp8 · 64 × h200 (16 nodes × 4)',
  );
});

test('no overrides: the file values stay', () => {
  const job = loadJob(MIX, {}, opts);
  assert.deepEqual(job.cluster, { gpu: 'h100-sxm', gpus: 128, gpus_per_node: 8 });
});

test('an override is checked like a file value, and the message names the flag', () => {
  assert.equal(
    messageOf(MIX, { gpus: 100 }),
    `${MIX}: --gpus: must be a multiple of gpus_per_node (8), or a divisor of it for one partial node (got 100)`,
  );
  assert.equal(
    messageOf(MIX, { gpusPerNode: 3 }),
    `${MIX}: cluster.gpus: must be a multiple of --gpus-per-node (3), or a divisor of it for one partial node (got 128)`,
  );
  assert.equal(messageOf(MIX, { gpus: 0 }), `${MIX}: --gpus: must be an integer >= 1 (got 0)`);
  assert.equal(messageOf(MIX, { seqLength: 1.5 }), `${MIX}: --seq-length: must be an integer from 1 to 16777216 (got 1.5)`);
  assert.equal(messageOf(MIX, { globalBatchSize: Number.NaN }), `${MIX}: --global-batch-size: must be an integer from 1 to 1048576 (got NaN)`);
  // Every override has the field's upper bound (a number past it would reach the enumerator).
  assert.equal(messageOf(MIX, { gpus: 2 ** 31 }), `${MIX}: --gpus: must be an integer from 1 to 1048576 (got 2147483648)`);
  assert.equal(messageOf(MIX, { gpus: 1e308 }), `${MIX}: --gpus: must be an integer from 1 to 1048576 (got 1e+308)`);
  assert.equal(messageOf(MIX, { gpus: 2 ** 53 + 1 }), `${MIX}: --gpus: must be an integer from 1 to 1048576 (got a number of 2^53 or more)`);
  assert.equal(messageOf(MIX, { gpusPerNode: 128 }), `${MIX}: --gpus-per-node: must be an integer from 1 to 72 (got 128)`);
  assert.equal(messageOf(MIX, { seqLength: 1e9 }), `${MIX}: --seq-length: must be an integer from 1 to 16777216 (got 1000000000)`);
  assert.equal(messageOf(MIX, { gpus: -0 }), `${MIX}: --gpus: must be an integer from 1 to 1048576 (got -0)`);
  assert.equal(messageOf(MIX, { precision: 'fp16' }), `${MIX}: --precision: must be one of bf16, fp8 (got "fp16")`);
  assert.equal(messageOf(MIX, { gpu: 'a100' }), `${MIX}: --gpu: unknown GPU "a100" (available: b200, h100-sxm, h200, or the path of a calibration file)`);
  assert.equal(messageOf(MIX, { gpu: 'h100' }), `${MIX}: --gpu: unknown GPU "h100" (did you mean h100-sxm? available: b200, h100-sxm, h200, or the path of a calibration file)`);
  assert.equal(
    messageOf(MIX, { gpu: '../etc/passwd' }),
    `${MIX}: --gpu: calibration file not found: ../etc/passwd`,
  );
  assert.equal(
    messageOf(MIX, { gpu: 'h100 sxm' }),
    `${MIX}: --gpu: must be a calibration name of cost-models/ (letters, digits, ., _ and -) or the path of a calibration .yaml file (got "h100 sxm")`,
  );
  // A longer sequence than the written max_position_embeddings (65536) is refused, naming the flag.
  assert.equal(
    messageOf(MIX, { seqLength: 131072 }),
    `${MIX}: model.max_position_embeddings: must be >= --seq-length (131072) (got 65536)`,
  );
});

test('an override fixes a file value that would be wrong', () => {
  // fixtures/bad/unknown-gpu.yaml names gpu h300; --gpu replaces it before the check.
  assert.equal(loadJob('fixtures/bad/unknown-gpu.yaml', { gpu: 'b200' }, opts).cluster.gpu, 'b200');
  assert.equal(loadJob('fixtures/bad/missing-gpus.yaml', { gpus: 16 }, opts).cluster.gpus, 16);
});

test('one partial node: a divisor of gpus_per_node', () => {
  const job = loadJob(MIX, { gpus: 4 }, opts);
  assert.equal(job.cluster.gpus, 4);
  assert.match(describeJob(job), /· 4 × h100-sxm \(1 node, 4 of 8 GPUs\)$/);
  assert.equal(
    messageOf(MIX, { gpus: 6 }),
    `${MIX}: --gpus: must be a multiple of gpus_per_node (8), or a divisor of it for one partial node (got 6)`,
  );
  assert.equal(
    messageOf(MIX, { gpus: 12 }),
    `${MIX}: --gpus: must be a multiple of gpus_per_node (8), or a divisor of it for one partial node (got 12)`,
  );
});

test('cluster files: flat and under cluster:', () => {
  const base = { model: { num_layers: 2, hidden_size: 64, num_attention_heads: 4, vocab_size: 100 } };
  const dir = makeCostModelsDir([]); // a scratch directory for the job file
  const job = path.join(dir, 'job.yaml');
  fs.writeFileSync(job, `${JSON.stringify({ ...base, cluster: path.join(REPO_ROOT, 'fixtures/clusters/h200-64.yaml') })}\n`);
  // An absolute path works as well as a relative one.
  assert.deepEqual(loadJob(job, {}, { costModelsDir: makeCostModelsDir(['h200-sxm']) }).cluster, { gpu: 'h200-sxm', gpus: 64, gpus_per_node: 8 });
  assert.deepEqual(loadJob('fixtures/models/deepseek-v3.yaml', { gpus: 512 }, opts).cluster, {
    gpu: 'h100-sxm',
    gpus: 512,
    gpus_per_node: 8,
  });
});

test('the list of GPUs is read from the directory at call time', () => {
  const dir = makeCostModelsDir(['h100-sxm']);
  assert.equal(messageOf(MIX, { gpu: 'mi300x' }, { costModelsDir: dir }), `${MIX}: --gpu: unknown GPU "mi300x" (available: h100-sxm, or the path of a calibration file)`);
  fs.copyFileSync(path.join(dir, 'h100-sxm.yaml'), path.join(dir, 'mi300x.yaml')); // added later
  assert.equal(loadJob(MIX, { gpu: 'mi300x' }, { costModelsDir: dir }).cluster.gpu, 'mi300x');
  assert.deepEqual(calibrationNames(dir), ['h100-sxm', 'mi300x']);
  const empty = makeCostModelsDir([]);
  assert.equal(
    messageOf(MIX, {}, { costModelsDir: empty }),
    `${MIX}: cluster.gpu: unknown GPU "h100-sxm" (no cost models found in ${empty})`,
  );
});

test('without options the repository cost-models/ directory is used', () => {
  const known = calibrationNames(COST_MODELS_DIR);
  const list = known.length > 0 ? `available: ${known.join(', ')}, or the path of a calibration file` : `no cost models found in ${COST_MODELS_DIR}`;
  assert.equal(messageOf(MIX, { gpu: 'zz-no-such-gpu' }, {}), `${MIX}: --gpu: unknown GPU "zz-no-such-gpu" (${list})`);
});
