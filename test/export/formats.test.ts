/** The torchtitan export (keys per plan feature, stage layouts, refusals) and the refusals both it and Megatron-Bridge share. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPlan, virtualStageLayers } from '../../src/export/index.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { deepseekJob, deepseekPlan, denseJob, densePlan, mixtralJob, mixtralPlan, shapeOf } from './jobs.js';

function titan(job: Job, plan: Plan): string {
  return exportPlan('torchtitan', job, shapeOf(job), plan);
}

function plan(base: Plan, change: Partial<Plan>): Plan {
  return { ...base, ...change };
}

/** DeepSeek-V3 cut to 60 layers, bf16 and no MTP, so torchtitan can take it: PP16 VPP2, 2/2 first/last. */
function deepseek60(): { job: Job; plan: Plan } {
  const job = deepseekJob();
  job.model.num_layers = 60;
  job.model.moe_layer_freq = [0, 0, 0, ...new Array<number>(57).fill(1)];
  job.model.mtp_num_layers = 0;
  job.training.precision = 'bf16';
  return { job, plan: plan(deepseekPlan(), { vpp: 2, firstStageLayers: 2, lastStageLayers: 2, recompute: 'full', precision: 'bf16' }) };
}

test('virtualStageLayers: Megatron\'s layer counts per virtual stage', () => {
  assert.deepEqual(virtualStageLayers(mixtralPlan(), 56), new Array<number>(56).fill(1));
  assert.deepEqual(virtualStageLayers(deepseekPlan(), 61), [4, ...new Array<number>(14).fill(4), 1]);
  const chunk = [1, ...new Array<number>(14).fill(2), 1];
  assert.deepEqual(virtualStageLayers(deepseek60().plan, 60), [...chunk, ...chunk]);
  assert.deepEqual(virtualStageLayers(plan(densePlan(), { pp: 1, vpp: 1 }), 8), [8]);
  assert.deepEqual(virtualStageLayers(plan(densePlan(), { pp: 2, vpp: 2 }), 8), [2, 2, 2, 2]);
});

// the Megatron-Bridge keys per plan feature: test/export/bridge-overrides.test.ts

test('bridge and torchtitan refuse what Megatron refuses', () => {
  const bad = plan(mixtralPlan(), { vpp: 2 }); // 7 layers per stage do not split over 2 virtual stages
  for (const f of ['megatron-bridge', 'torchtitan', 'megatron', 'torchrun', 'slurm'] as const) {
    assert.throws(() => exportPlan(f, mixtralJob(), shapeOf(mixtralJob()), bad),
      /export: Megatron-LM would refuse this plan: 7 layers per pipeline stage are not divisible by the virtual stages 2/, f);
  }
});

test('torchtitan: Mixtral sections and batch', () => {
  const text = titan(mixtralJob(), mixtralPlan());
  for (const want of [
    '[parallelism]', 'data_parallel_replicate_degree = 1', 'data_parallel_shard_degree = 8', 'tensor_parallel_degree = 2',
    'context_parallel_degree = 1', 'pipeline_parallel_degree = 8', 'pipeline_parallel_schedule = "Interleaved1F1B"',
    'pipeline_parallel_microbatch_size = 1', 'expert_parallel_degree = 8', 'expert_tensor_parallel_degree = 1',
    'expert_parallel_comm_backend = "standard"', 'local_batch_size = 32', 'global_batch_size = 256', 'seq_len = 4096',
    '[activation_checkpoint]', 'mode = "none"',
  ]) assert.ok(text.split('\n').includes(want), want);
});

test('torchtitan: uneven stages with VPP become explicit module lists in Megatron\'s order', () => {
  const { job, plan: p } = deepseek60();
  const text = titan(job, p);
  const parts = text.split('\n').filter((l) => l.startsWith('  [')).map((l) => JSON.parse(l.trim().replace(/,$/, '')) as string[]);
  assert.equal(parts.length, 32);
  assert.deepEqual(parts[0], ['tok_embeddings', 'layers.0']);
  assert.deepEqual(parts[1], ['layers.1', 'layers.2']);
  assert.deepEqual(parts[15], ['layers.29']);
  assert.deepEqual(parts[16], ['layers.30']);
  assert.deepEqual(parts[31], ['layers.59', 'norm', 'output']);
  assert.ok(text.includes('\nexpert_parallel_comm_backend = "deepep"\n'));
  assert.ok(text.includes('\nmode = "full"\n'));
  assert.ok(text.includes('\nlocal_batch_size = 128\n'));
});

test('torchtitan: without PP the local batch is one micro-batch and no stage list is written', () => {
  const job = denseJob();
  const text = titan(job, plan(densePlan(), { pp: 1, dp: 8, numMicroBatches: 8, firstStageLayers: 8, lastStageLayers: 8 }));
  assert.ok(text.includes('\nlocal_batch_size = 1\nglobal_batch_size = 64\n'));
  assert.equal(text.includes('module_fqns_per_model_part'), false);
  assert.equal(text.includes('pipeline_parallel_schedule'), false);
  assert.equal(text.includes('expert_parallel_degree'), false);
});

test('torchtitan: each refusal names what cannot be expressed', () => {
  const cases: [Job, Plan, RegExp][] = [
    [deepseekJob(), deepseekPlan(), /torchtitan cannot express fp8 training as planned/],
    [deepseekJob(), plan(deepseekPlan(), { precision: 'bf16' }), /torchtitan cannot express multi-token prediction \(mtp_num_layers 1\): torchtitan's models have no MTP layers$/],
    [mixtralJob(), plan(mixtralPlan(), { recompute: 'selective' }), /torchtitan cannot express Megatron's selective recompute of core attention/],
    [mixtralJob(), plan(mixtralPlan(), { distributedOptimizer: false }), /torchtitan cannot express replicated optimizer state with TP\/CP\/PP\/EP/],
    [mixtralJob(), plan(mixtralPlan(), { dispatcher: 'allgather' }), /torchtitan cannot express the allgather token dispatcher/],
    [mixtralJob(), plan(mixtralPlan(), { ep: 2, etp: 4, edp: 2 }), /torchtitan cannot express expert TP 4 with TP 2 \(torchtitan supports ETP = 1 or ETP = TP\)$/],
    [mixtralJob(), plan(mixtralPlan(), { ep: 1, etp: 1, edp: 16 }), /torchtitan cannot express expert TP 1 != TP 2 without EP/],
    [mixtralJob(), plan(mixtralPlan(), { ep: 4, etp: 2, edp: 2, dispatcher: 'flex' }), /torchtitan cannot express the DeepEP dispatcher with EP 4 and ETP 2/],
  ];
  for (const [job, p, re] of cases) {
    assert.throws(() => titan(job, p), (e: Error) => e.name === 'InputError' && re.test(e.message) && e.message.startsWith(`${job.source}: export: `), String(re));
  }
  // Megatron accepts 4098 tokens with TP2 (4098 / 2 is whole); torchtitan needs a multiple of TP x 2 x CP = 4
  const job = denseJob();
  job.training.seq_length = 4098;
  job.model.max_position_embeddings = 8192;
  assert.throws(() => titan(job, densePlan()), /torchtitan cannot express seq_length 4098 with TP 2 and CP 1 \(torchtitan needs seq_len divisible by TP x 2 x CP = 4\)$/);
  // a pure data-parallel plan without the distributed optimizer is DDP
  const ddp = titan(denseJob(), plan(densePlan(), { tp: 1, etp: 1, sequenceParallel: false, pp: 1, dp: 16, numMicroBatches: 4, firstStageLayers: 8, lastStageLayers: 8, distributedOptimizer: false }));
  assert.ok(ddp.includes('\ndata_parallel_replicate_degree = 16\ndata_parallel_shard_degree = 1\n'));
});
