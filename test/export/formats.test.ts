/** The Megatron-Bridge export: keys per plan feature, stage layouts, and every refusal (torchtitan: torchtitan.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPlan, virtualStageLayers } from '../../src/export/index.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { deepseekJob, deepseekPlan, denseJob, densePlan, mixtralJob, mixtralPlan, shapeOf } from './jobs.js';

function bridge(job: Job, plan: Plan): string[] {
  return exportPlan('megatron-bridge', job, shapeOf(job), plan).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

function plan(base: Plan, change: Partial<Plan>): Plan {
  return { ...base, ...change };
}

/** DeepSeek-V3 cut to 60 layers, bf16 and no MTP: PP16 VPP2, 2/2 first/last. */
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

test('bridge: Mixtral keys', () => {
  const lines = bridge(mixtralJob(), mixtralPlan());
  for (const l of lines) assert.match(l, /^(\+\+)?[a-z_]+(\.[A-Za-z_]+)*=\S+$/, l);
  for (const want of [
    'model.tensor_model_parallel_size=2', 'model.pipeline_model_parallel_size=8', 'model.virtual_pipeline_model_parallel_size=7',
    'model.pipeline_model_parallel_layout=null', 'model.num_layers_in_first_pipeline_stage=null',
    'model.expert_model_parallel_size=8', 'model.expert_tensor_parallel_size=1', 'model.sequence_parallel=true',
    'model.moe_token_dispatcher_type=alltoall', 'model.recompute_granularity=null', 'train.micro_batch_size=1',
    'train.global_batch_size=256', 'dataset.seq_length=4096', 'ddp.use_distributed_optimizer=true',
    'ddp.overlap_param_gather=true', 'mixed_precision=bf16_mixed', '++env_vars.CUDA_DEVICE_MAX_CONNECTIONS=1',
    '++env_vars.PYTORCH_CUDA_ALLOC_CONF="expandable_segments:True"', '++env_vars.NCCL_NVLS_ENABLE=0',
    'logger.log_interval=10', 'logger.log_throughput=true',
  ]) assert.ok(lines.includes(want), want);
  assert.equal(lines.some((l) => l.startsWith('model.moe_flex_dispatcher_backend')), false);
});

test('bridge: uneven stages, flex, selective recompute and blockwise fp8', () => {
  const lines = bridge(deepseekJob(), deepseekPlan());
  for (const want of [
    'model.num_layers_in_first_pipeline_stage=4', 'model.num_layers_in_last_pipeline_stage=1',
    'model.virtual_pipeline_model_parallel_size=null', 'model.sequence_parallel=false',
    'model.moe_token_dispatcher_type=flex', 'model.moe_flex_dispatcher_backend=deepep',
    'model.recompute_granularity=selective', 'model.recompute_modules=[core_attn,layernorm,moe_act,mla_up_proj]', 'model.recompute_method=null',
    'mixed_precision=bf16_with_fp8_subchannel_scaling_mixed',
  ]) assert.ok(lines.includes(want), want);
  assert.equal(lines.some((l) => l.includes('CUDA_DEVICE_MAX_CONNECTIONS')), false);
});

test('bridge: allgather, full recompute, no distributed optimizer, dense model, Blackwell fp8', () => {
  const ag = bridge(mixtralJob(), plan(mixtralPlan(), { dispatcher: 'allgather', recompute: 'full', distributedOptimizer: false }));
  for (const want of [
    'model.moe_token_dispatcher_type=allgather', 'model.moe_shared_expert_overlap=false',
    'model.recompute_granularity=full', 'model.recompute_method=uniform', 'model.recompute_num_layers=1',
    'ddp.use_distributed_optimizer=false', 'optimizer.use_distributed_optimizer=false', 'ddp.overlap_grad_reduce=true',
    'ddp.overlap_param_gather=false', 'optimizer.overlap_param_gather=false',
  ]) assert.ok(ag.includes(want), want);
  const dense = bridge(denseJob(), densePlan());
  assert.equal(dense.some((l) => l.startsWith('model.expert') || l.startsWith('model.moe')), false);
  const b200 = deepseekJob();
  b200.cluster.gpu = 'b200';
  assert.ok(bridge(b200, deepseekPlan()).includes('mixed_precision=bf16_with_mxfp8_mixed'));
  assert.throws(() => bridge(b200, plan(deepseekPlan(), { distributedOptimizer: false })),
    /^InputError: fixtures\/models\/deepseek-v3\.yaml: export: megatron-bridge cannot express fp8 on Blackwell without the distributed optimizer/);
});

test('bridge and torchtitan refuse what Megatron refuses', () => {
  const bad = plan(mixtralPlan(), { vpp: 2 }); // 7 layers per stage do not split over 2 virtual stages
  for (const f of ['megatron-bridge', 'torchtitan', 'megatron', 'torchrun', 'slurm'] as const) {
    assert.throws(() => exportPlan(f, mixtralJob(), shapeOf(mixtralJob()), bad),
      /export: Megatron-LM would refuse this plan: 7 layers per pipeline stage are not divisible by the virtual stages 2/, f);
  }
});

