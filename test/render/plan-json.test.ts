import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPlan } from '../../src/enumerate/plan.js';
import { newEstimate } from '../../src/cost/estimate.js';
import { estimateToJson, planToJson } from '../../src/render/plan-json.js';
import { mainCostShares } from '../../src/render/cost-shares.js';
import { sig, snakeWithoutUnit } from '../../src/render/numbers.js';

test('snakeWithoutUnit turns field names into JSON keys', () => {
  assert.equal(snakeWithoutUnit('tpCommS', 'S'), 'tp_comm');
  assert.equal(snakeWithoutUnit('optimizerStatesBytes', 'Bytes'), 'optimizer_states');
  assert.equal(snakeWithoutUnit('bubbleS', 'S'), 'bubble');
});

test('sig keeps 6 significant digits', () => {
  assert.equal(sig(1234.56789), 1234.57);
  assert.equal(sig(0.000123456789), 0.000123457);
  assert.equal(sig(0), 0);
});

test('estimateToJson converts bytes to GiB and names every breakdown term', () => {
  const e = newEstimate();
  e.stepTimeS = 2; e.tokensPerSPerGpu = 1500; e.peakMemBytes = 60 * 2 ** 30; e.usableMemBytes = 78 * 2 ** 30; e.fits = true;
  e.allocatedPeakBytes = 57 * 2 ** 30;
  e.mem.weightsBytes = 3 * 2 ** 29; // 1.5 GiB
  e.time.epCommS = 0.25;
  const j = estimateToJson(e, 989e12);
  assert.equal(j.peak_memory_gib, 60);
  assert.equal(j.allocated_peak_gib, 57);
  assert.equal(j.memory_breakdown_gib.weights, 1.5);
  assert.equal(j.time_breakdown_s.ep_comm, 0.25);
  assert.deepEqual(Object.keys(j.time_breakdown_s), ['attention', 'dense_mlp', 'experts', 'other_compute', 'recompute',
    'tp_comm', 'cp_comm', 'ep_comm', 'dp_comm', 'pp_comm', 'bubble', 'optimizer', 'adapters', 'base_decode']);
  assert.deepEqual(Object.keys(j.memory_breakdown_gib), ['weights', 'fp8_weight_copies', 'gradients', 'optimizer_states',
    'activations', 'logits', 'dispatch_buffers', 'workspaces', 'cuda_context', 'nccl_buffers', 'user_buffers',
    'allocator_reserve']);
  // which side of the two figures each term is on
  assert.deepEqual(j.memory_sides.device, ['cuda_context', 'nccl_buffers', 'user_buffers', 'allocator_reserve']);
  assert.deepEqual([...j.memory_sides.allocator, ...j.memory_sides.device].sort(), Object.keys(j.memory_breakdown_gib).sort());
});

test('planToJson uses the contract names', () => {
  const p = newPlan();
  p.tp = 2; p.pp = 8; p.vpp = 7; p.ep = 8; p.etp = 1; p.dp = 8; p.edp = 2; p.firstStageLayers = 7; p.lastStageLayers = 7;
  p.numMicroBatches = 32; p.sequenceParallel = true; p.mbGroup = 8;
  const j = planToJson(3, p, newEstimate(), { megatron_args: ['--bf16'], env: {} }, 989e12);
  assert.deepEqual(j.mapping, {
    tp: 2, cp: 1, dp: 8, pp: 8, vpp: 7, ep: 8, etp: 1, edp: 2, first_stage_layers: 7, last_stage_layers: 7,
    account_for_embedding: false, account_for_loss: false, layout: null, microbatch_group: 8,
  });
  assert.equal(j.rank, 3);
  assert.equal(j.num_micro_batches, 32);
  assert.equal(j.sequence_parallel, true);
});

test('mainCostShares lists the largest terms as shares of the step', () => {
  const e = newEstimate();
  e.time.expertsS = 2; e.time.epCommS = 1; e.time.bubbleS = 0.5; e.time.attentionS = 0.4;
  assert.equal(mainCostShares(e.time, 4), 'experts 50% · EP a2a 25% · PP bubble 13%');
});
