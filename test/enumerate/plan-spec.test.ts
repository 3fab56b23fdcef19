import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/job/errors.js';
import { parsePlanSpec } from '../../src/enumerate/plan-spec.js';
import { checkPlan } from '../../src/enumerate/rules.js';
import { deepseekZooJob, llamaJob, makeJob, mixtralZooJob, MIXTRAL_8X22B, shapeOf } from './jobs.js';

test('--plan with every field given', () => {
  const job = mixtralZooJob();
  const p = parsePlanSpec('tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1,recompute=selective,dispatcher=flex,distopt=off', job, shapeOf(job));
  assert.deepEqual(p, {
    tp: 2, cp: 1, dp: 8, pp: 8, vpp: 7, ep: 8, etp: 1, edp: 2, firstStageLayers: 7, lastStageLayers: 7,
    microBatchSize: 1, numMicroBatches: 32, recompute: 'selective', dispatcher: 'flex', sequenceParallel: true,
    distributedOptimizer: false, precision: 'bf16',
  });
});

test('--plan defaults: etp = tp, cp/pp/vpp/ep/mbs 1, recompute none, alltoall, distributed optimizer on, even split', () => {
  const job = makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 256, precision: 'fp8' });
  const p = parsePlanSpec('tp=4', job, shapeOf(job));
  assert.deepEqual(p, {
    tp: 4, cp: 1, dp: 32, pp: 1, vpp: 1, ep: 1, etp: 4, edp: 32, firstStageLayers: 56, lastStageLayers: 56,
    microBatchSize: 1, numMicroBatches: 8, recompute: 'none', dispatcher: 'alltoall', sequenceParallel: true,
    distributedOptimizer: true, precision: 'fp8',
  });
  const q = parsePlanSpec('micro_batch_size=2,distributed_optimizer=false', job, shapeOf(job));
  assert.deepEqual([q.tp, q.etp, q.sequenceParallel, q.microBatchSize, q.numMicroBatches, q.distributedOptimizer], [1, 1, false, 2, 1, false]);
  const dense = llamaJob();
  const d = parsePlanSpec('tp=8,cp=2', dense, shapeOf(dense));
  assert.deepEqual([d.ep, d.etp, d.dp, d.edp], [1, 8, 4, 8]);
});

test('--plan first/last: both given, one given (the other is the middle-stage size), none with an uneven layer count', () => {
  const job = deepseekZooJob();
  const both = parsePlanSpec('pp=16,ep=64,first=4,last=1', job, shapeOf(job));
  assert.deepEqual([both.firstStageLayers, both.lastStageLayers], [4, 1]);
  const lastOnly = parsePlanSpec('pp=16,ep=64,last=1', job, shapeOf(job)); // (61 − 1)/15 = 4
  assert.deepEqual([lastOnly.firstStageLayers, lastOnly.lastStageLayers], [4, 1]);
  assert.deepEqual(checkPlan(job, shapeOf(job), lastOnly), []);
  const even = parsePlanSpec('pp=16,ep=64', job, shapeOf(job)); // 61 % 16 != 0: even split asked for
  assert.deepEqual([even.firstStageLayers, even.lastStageLayers], [0, 0]);
  assert.deepEqual(checkPlan(job, shapeOf(job), even).map((v) => v.rule), ['pp-layer-split']);
});

test('--plan derived sizes are left fractional when they do not divide, and checkPlan says why', () => {
  const job = mixtralZooJob();
  const p = parsePlanSpec('tp=3', job, shapeOf(job));
  assert.equal(p.dp, 128 / 3);
  // TP3 (ETP follows) also breaks the query groups (8), the SP split of 4096 tokens and the expert FFN 16384
  assert.deepEqual(checkPlan(job, shapeOf(job), p).map((v) => v.rule),
    ['attn-world-divisible', 'query-groups-vs-tp', 'cp-tp-seq-divisible', 'moe-ffn-divisible-by-etp', 'expert-world-divisible']);
});

test('--plan rejects bad keys and values with one-line messages', () => {
  const job = mixtralZooJob();
  const keys = 'tp, cp, pp, vpp, ep, etp, mbs, recompute, dispatcher, first, last, distopt';
  const cases: [string, string][] = [
    ['tp=2,foo=1', `--plan: foo: unknown field (allowed: ${keys})`],
    ['tp=0', '--plan: tp: must be an integer >= 1 (got "0")'],
    ['pp=2.5', '--plan: pp: must be an integer >= 1 (got "2.5")'],
    ['first=-1', '--plan: first: must be an integer >= 1 (got "-1")'],
    ['recompute=some', '--plan: recompute: must be one of none, selective, full (got "some")'],
    ['dispatcher=deepep', '--plan: dispatcher: must be one of alltoall, allgather, flex (got "deepep")'],
    ['distopt=perhaps', '--plan: distopt: must be true or false (on/off) (got "perhaps")'],
    ['tp=2,tp=4', '--plan: tp: given more than once'],
    ['mbs=1,micro_batch_size=1', '--plan: micro_batch_size: given more than once'],
    ['tp', `--plan: tp: expected key=value (keys: ${keys})`],
    ['', `--plan: expected key=value pairs separated by commas (keys: ${keys})`],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parsePlanSpec(spec, job, shapeOf(job)), (e: unknown) => e instanceof InputError && e.message === message,
      `${spec} → ${message}`);
  }
});
