/** The Megatron-Bridge export: the recipe match, the keys per plan feature and recipe nesting, and its refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { exportPlan } from '../../src/export/index.js';
import { BRIDGE_RECIPES, matchBridgeRecipe } from '../../src/export/bridge-recipes.js';
import { loadJob } from '../../src/job/load-job.js';
import { planAtRank, readPlansFile } from '../../src/plans/plans-file.js';
import { REPO_ROOT } from '../../src/paths.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { deepseekJob, deepseekPlan, mixtralJob, mixtralPlan, shapeOf } from './jobs.js';

function text(job: Job, plan: Plan): string {
  return exportPlan('megatron-bridge', job, shapeOf(job), plan);
}
function lines(job: Job, plan: Plan): string[] {
  return text(job, plan).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}
function fixture(file: string): Job {
  return { ...loadJob(path.join(REPO_ROOT, file)), source: file };
}
/** Llama 3 70B on 64 H100 and its baseline's plan 1 (fixtures/ci). */
function llama(): { job: Job; plan: Plan } {
  const pf = readPlansFile(path.join(REPO_ROOT, 'fixtures/ci/llama3-70b-64.baseline.json'));
  return { job: { ...pf.job, source: 'fixtures/ci/llama3-70b-64.yaml' }, plan: planAtRank(pf, 1).plan };
}

test('recipes: every fixture model Bridge has matches its recipe by architecture; the others are refused', () => {
  const want: Record<string, string> = {
    'deepseek-v3': 'deepseek_v3_pretrain_1024gpu_h100_bf16_config', 'gpt3-175b': 'gpt3_175b_pretrain_32gpu_h100_bf16_config',
    'llama3-70b': 'llama3_70b_pretrain_32gpu_h100_bf16_config', 'llama3.1-405b': 'llama31_405b_pretrain_256gpu_h100_bf16_config',
    'qwen3-235b-a22b': 'qwen3_235b_a22b_pretrain_256gpu_h100_bf16_config', 'qwen3-30b-a3b': 'qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config',
  };
  for (const [f, recipe] of Object.entries(want)) {
    const m = matchBridgeRecipe(fixture(`fixtures/models/${f}.yaml`).model);
    assert.ok('recipe' in m && m.recipe.recipe === recipe, f);
  }
  assert.equal(new Set(BRIDGE_RECIPES.map((r) => r.recipe)).size, BRIDGE_RECIPES.length);
  // by architecture, not by name: a renamed Llama 3 70B still matches; a Llama3-70B with 40 layers does not
  const renamed = fixture('fixtures/models/llama3-70b.yaml');
  renamed.model.name = 'my-model';
  assert.ok('recipe' in matchBridgeRecipe(renamed.model));
  const cut = fixture('fixtures/models/llama3-70b.yaml');
  cut.model.num_layers = 40;
  assert.deepEqual(matchBridgeRecipe(cut.model), { why: 'Llama3-70B: its architecture differs from that recipe\'s (num_layers 40≠80), recipe llama3_70b_pretrain_32gpu_h100_bf16_config' });
  for (const f of ['mixtral-8x22b', 'mixtral-8x7b']) {
    const m = matchBridgeRecipe(fixture(`fixtures/models/${f}.yaml`).model);
    assert.ok('why' in m, f);
  }
  assert.throws(() => text(mixtralJob(), mixtralPlan()),
    /^InputError: fixtures\/models\/mixtral-8x22b\.yaml: export: megatron-bridge has no recipe for Mixtral-8x22B \(56 layers, hidden 6144, 8 experts\); it has recipes for Llama3-70B, /);
});

test('Llama 3: TransformerConfig fields under model.transformer, GPTModelConfig fields under model', () => {
  const { job, plan } = llama();
  const l = lines(job, plan);
  for (const want of [
    `model.transformer.tensor_model_parallel_size=${plan.tp}`, `model.transformer.pipeline_model_parallel_size=${plan.pp}`,
    `model.transformer.sequence_parallel=${String(plan.sequenceParallel)}`, 'model.transformer.recompute_granularity=null',
    'model.seq_length=8192', 'dataset.seq_length=8192', 'train.global_batch_size=128',
    // the model's own hyper-parameters: rope fields on GPTModelConfig, norm and init on its TransformerConfig
    'model.rotary_base=500000', 'model.rotary_percent=1', 'model.rope_scaling=false',
    'model.transformer.layernorm_epsilon=0.00001', 'model.transformer.init_method_std=0.02',
  ]) assert.ok(l.includes(want), want);
  assert.equal(l.some((x) => /^model\.(?!transformer\.|seq_length=|rotary_base=|rotary_percent=|rope_scaling=|rope_scaling_factor=)/.test(x)), false, 'no other model.* key');
  assert.equal(l.some((x) => x.startsWith('model.transformer.expert') || x.startsWith('model.transformer.moe')), false, 'dense');
});

test('the launch line starts every rank with torchrun on every node, naming the recipe', () => {
  const { job, plan } = llama();
  const t = text(job, plan);
  assert.match(t, /^# {3}torchrun --nnodes 8 --nproc-per-node 8 --node-rank "\$NODE_RANK" /m);
  assert.match(t, /scripts\/training\/run_recipe\.py --recipe llama3_70b_pretrain_32gpu_h100_bf16_config --mode pretrain "\$\{OVERRIDES\[@\]\}"$/m);
});

test('provider recipes: uneven stages, flex, selective recompute, the comm_overlap keys and blockwise fp8 field by field', () => {
  const l = lines(deepseekJob(), deepseekPlan());
  for (const want of [
    'model.num_layers_in_first_pipeline_stage=4', 'model.num_layers_in_last_pipeline_stage=1',
    'model.virtual_pipeline_model_parallel_size=null', 'model.sequence_parallel=false',
    'model.moe_token_dispatcher_type=flex', 'model.moe_flex_dispatcher_backend=deepep',
    'model.recompute_granularity=selective', 'model.recompute_modules=[core_attn,layernorm,moe_act,mla_up_proj]', 'model.recompute_method=null',
    'comm_overlap.overlap_grad_reduce=true', 'comm_overlap.overlap_param_gather=true', 'comm_overlap.tp_comm_overlap=false',
    'comm_overlap.overlap_moe_expert_parallel_comm=false', 'comm_overlap.delay_wgrad_compute=false',
    'mixed_precision.fp8=e4m3', 'mixed_precision.fp8_recipe=blockwise', 'mixed_precision.bf16=true',
  ]) assert.ok(l.includes(want), want);
  assert.equal(l.some((x) => /^mixed_precision=/.test(x) || x.startsWith('model.overlap_moe') || x.startsWith('model.delay_wgrad')), false);
  assert.equal(l.some((x) => x.includes('CUDA_DEVICE_MAX_CONNECTIONS')), false);
});

test('allgather turns the EP overlap off on comm_overlap; no distributed optimizer; bf16; Blackwell mxfp8', () => {
  const base = deepseekPlan();
  const ag = lines(deepseekJob(), { ...base, dispatcher: 'allgather', recompute: 'full', distributedOptimizer: false, precision: 'bf16' });
  for (const want of [
    'model.moe_token_dispatcher_type=allgather', 'model.moe_shared_expert_overlap=false', 'comm_overlap.overlap_moe_expert_parallel_comm=false',
    'model.recompute_granularity=full', 'model.recompute_method=uniform', 'model.recompute_num_layers=1',
    'ddp.use_distributed_optimizer=false', 'optimizer.use_distributed_optimizer=false', 'ddp.overlap_grad_reduce=true',
    'ddp.overlap_param_gather=false', 'comm_overlap.overlap_param_gather=false', 'optimizer.overlap_param_gather=false',
    'mixed_precision.fp8=null', 'mixed_precision.fp8_param_gather=false',
  ]) assert.ok(ag.includes(want), want);
  assert.equal(ag.some((x) => x.startsWith('model.moe_flex_dispatcher_backend')), false);
  const b200 = deepseekJob();
  b200.cluster.gpu = 'b200';
  const mx = lines(b200, base);
  for (const want of ['mixed_precision.fp8=e4m3', 'mixed_precision.fp8_recipe=mxfp8']) assert.ok(mx.includes(want), want);
  const gather = mx.find((x) => x.startsWith('mixed_precision.fp8_param_gather='));
  assert.ok(mx.includes(`mixed_precision.reuse_grad_buf_for_mxfp8_param_ag=${gather?.split('=')[1] ?? ''}`), 'reuse follows the gather');
});
