/**
 * The software-stack fields as Megatron-LM flags (and Megatron-Bridge keys): each field is read back from the
 * emitted argument list, written only where Megatron runs it for the plan, and the list passes the flag checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { checkMegatronArgs, megatronLaunch, parseMegatronArgs } from '../../src/export/index.js';
import { bridgeOverrides } from '../../src/export/bridge-overrides.js';
import { loadJob } from '../../src/job/load-job.js';
import { modelShape } from '../../src/job/shape.js';
import type { Job, StackSpec } from '../../src/job/types.js';
import type { Plan } from '../../src/enumerate/plan.js';
import { plan, type PlanArgs } from '../cost/fixtures.js';

const MIXTRAL_PLAN: PlanArgs = { tp: 2, pp: 8, vpp: 7, ep: 8, etp: 1 };

function job(stack: Partial<StackSpec> = {}, file = 'fixtures/models/mixtral-8x22b.yaml', gpus = 128, precision = 'bf16'): Job {
  // the fixture trains without dropout; null restores Megatron's 0.1, so "not written at the defaults" holds
  return loadJob(path.join(REPO_ROOT, file), { gpus, precision, stack: { attention_dropout: null, hidden_dropout: null, ...stack } });
}

function planOf(j: Job, over: Partial<PlanArgs> = {}): Plan {
  return plan({ ...MIXTRAL_PLAN, precision: j.training.precision, ...over }, j.cluster.gpus, j.model.num_layers, j.training.global_batch_size);
}

/** The parsed argv of the launch (flag → values), after checking it passes moefold's Megatron rule set. */
function argv(j: Job, over: Partial<PlanArgs> = {}): Map<string, string[]> {
  const l = megatronLaunch(j, modelShape(j.model), planOf(j, over));
  assert.deepEqual(checkMegatronArgs(l.args, l.env, j.cluster.gpus), []);
  return parseMegatronArgs(l.args);
}

test('defaults: the performance flags NVIDIA\'s recipes run; Megatron defaults are not written', () => {
  const a = argv(job());
  for (const f of ['--tp-comm-overlap', '--moe-permute-fusion', '--moe-router-fusion', '--cross-entropy-loss-fusion', '--manual-gc']) {
    assert.ok(a.has(f), f);
  }
  assert.deepEqual(a.get('--manual-gc-interval'), ['100']);
  for (const f of ['--moe-router-force-load-balancing', '--moe-expert-capacity-factor', '--grad-reduce-in-bf16',
    '--overlap-moe-expert-parallel-comm', '--delay-wgrad-compute', '--cross-entropy-fusion-impl',
    '--cuda-graph-impl', '--fp8-param-gather', '--moe-router-padding-for-fp8', '--attention-dropout', '--hidden-dropout',
    '--use-precision-aware-optimizer', '--main-params-dtype', '--exp-avg-dtype', '--exp-avg-sq-dtype']) {
    assert.ok(!a.has(f), f);
  }
  // a dense model gets the fusions and the collector, no MoE flag
  const dense = loadJob(path.join(REPO_ROOT, 'fixtures/models/llama3-70b.yaml'), { gpus: 64 });
  const d = argv(dense, { tp: 4, pp: 8, vpp: 5, ep: 1, etp: 4 });
  assert.ok(d.has('--cross-entropy-loss-fusion') && d.has('--manual-gc') && d.has('--tp-comm-overlap'));
  assert.ok(!d.has('--moe-router-fusion') && !d.has('--moe-router-padding-for-fp8'));
  assert.ok(!argv(job(), { tp: 1, ep: 8, etp: 1 }).has('--tp-comm-overlap'));
  assert.ok(!argv(job({ tp_comm_overlap: false })).has('--tp-comm-overlap'));
});

test('each stack field is written as its flag with its value', () => {
  const cases: [Partial<StackSpec>, string, string[]][] = [
    [{ moe_router_force_load_balancing: true }, '--moe-router-force-load-balancing', []],
    [{ moe_expert_capacity_factor: 1.25 }, '--moe-expert-capacity-factor', ['1.25']],
    [{ grad_reduce_in_bf16: true }, '--grad-reduce-in-bf16', []],
    [{ overlap_moe_expert_parallel_comm: true }, '--overlap-moe-expert-parallel-comm', []],
    [{ overlap_moe_expert_parallel_comm: true, delay_wgrad_compute: true }, '--delay-wgrad-compute', []],
    [{ cross_entropy_loss_fusion: true }, '--cross-entropy-loss-fusion', []],
    [{ cross_entropy_loss_fusion: false, cross_entropy_fusion_impl: 'te' }, '--cross-entropy-fusion-impl', ['te']],
    [{ manual_gc_interval: 10 }, '--manual-gc-interval', ['10']],
    [{ cuda_graph_impl: 'transformer_engine', cuda_graph_modules: ['attn', 'moe_router'] }, '--cuda-graph-modules', ['attn', 'moe_router']],
    [{ cuda_graph_impl: 'local' }, '--cuda-graph-impl', ['local']],
    [{ moe_router_fusion: true }, '--moe-router-fusion', []],
    [{ attention_dropout: 0 }, '--attention-dropout', ['0']],
    [{ hidden_dropout: 0.05 }, '--hidden-dropout', ['0.05']],
    [{ use_precision_aware_optimizer: true }, '--use-precision-aware-optimizer', []],
    [{ use_precision_aware_optimizer: true, main_params_dtype: 'fp16' }, '--main-params-dtype', ['fp16']],
    [{ use_precision_aware_optimizer: true, exp_avg_dtype: 'bf16' }, '--exp-avg-dtype', ['bf16']],
    [{ use_precision_aware_optimizer: true, exp_avg_sq_dtype: 'fp8' }, '--exp-avg-sq-dtype', ['fp8']],
  ];
  for (const [stack, flag, values] of cases) assert.deepEqual(argv(job(stack)).get(flag), values, flag);
  assert.deepEqual(argv(job({ recompute_modules: ['core_attn', 'moe'] }), { recompute: 'selective' }).get('--recompute-modules'), ['core_attn', 'moe']);
  assert.deepEqual(argv(job({ moe_flex_dispatcher_backend: 'hybridep' }), { dispatcher: 'flex' }).get('--moe-flex-dispatcher-backend'), ['hybridep']);
  assert.ok(!argv(job({ moe_permute_fusion: false })).has('--moe-permute-fusion'));
  for (const [stack, flag] of [[{ moe_router_fusion: false }, '--moe-router-fusion'], [{ cross_entropy_loss_fusion: false }, '--cross-entropy-loss-fusion'],
    [{ manual_gc: false }, '--manual-gc'], [{ manual_gc: false }, '--manual-gc-interval'], [{ manual_gc_interval: 0 }, '--manual-gc-interval']] as const) {
    assert.ok(!argv(job(stack)).has(flag), `${JSON.stringify(stack)} ${flag}`);
  }
});

test('router padding: on fp8 MoE plans with the alltoall or flex dispatcher only (TransformerConfig refuses the others)', () => {
  const fp8 = job({}, undefined, 128, 'fp8');
  assert.ok(argv(fp8).has('--moe-router-padding-for-fp8'));
  assert.ok(argv(fp8, { dispatcher: 'flex' }).has('--moe-router-padding-for-fp8'));
  assert.ok(!argv(fp8, { dispatcher: 'allgather' }).has('--moe-router-padding-for-fp8'));
  assert.ok(!argv(job()).has('--moe-router-padding-for-fp8')); // bf16
  assert.ok(!argv(job({ moe_router_padding_for_fp8: false }, undefined, 128, 'fp8')).has('--moe-router-padding-for-fp8'));
  const graphs = job({ cuda_graph_impl: 'transformer_engine', cuda_graph_modules: ['attn', 'moe_preprocess'] }, undefined, 128, 'fp8');
  assert.ok(!argv(graphs).has('--moe-router-padding-for-fp8'));
  assert.ok(argv(graphs, { dispatcher: 'flex' }).has('--moe-router-padding-for-fp8'));
});

test('CUDA graphs set NCCL_GRAPH_REGISTER=0 (Megatron refuses them with expandable segments otherwise)', () => {
  const j = job({ cuda_graph_impl: 'local' });
  assert.equal(megatronLaunch(j, modelShape(j.model), planOf(j)).env.NCCL_GRAPH_REGISTER, '0');
  assert.ok(checkMegatronArgs([...megatronLaunch(j, modelShape(j.model), planOf(j)).args], { PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:True' }, 128)
    .some((x) => x.includes('NCCL_GRAPH_REGISTER')));
});

test('the EP overlap is written only where Megatron runs it: EP > 1, alltoall/flex, no full recompute, VPP with PP > 1', () => {
  const j = job({ overlap_moe_expert_parallel_comm: true, delay_wgrad_compute: true });
  assert.ok(argv(j).has('--overlap-moe-expert-parallel-comm'));
  for (const over of [{ vpp: 1 }, { recompute: 'full' as const }, { dispatcher: 'allgather' as const }]) {
    const a = argv(j, over);
    assert.ok(!a.has('--overlap-moe-expert-parallel-comm') && !a.has('--delay-wgrad-compute'), JSON.stringify(over));
  }
});

test('fp8: --fp8-recipe from the job, else blockwise on Hopper; --fp8-param-gather on fp8 plans with the distributed optimizer', () => {
  assert.deepEqual(argv(job({}, undefined, 128, 'fp8')).get('--fp8-recipe'), ['blockwise']);
  assert.deepEqual(argv(job({ fp8_recipe: 'tensorwise' }, undefined, 128, 'fp8')).get('--fp8-recipe'), ['tensorwise']);
  assert.ok(!argv(job({}, undefined, 128, 'fp8')).has('--fp8-param-gather')); // off by default
  const pg = job({ fp8_param_gather: true }, undefined, 128, 'fp8');
  assert.ok(argv(pg).has('--fp8-param-gather'));
  assert.ok(!argv(pg, { distributedOptimizer: false }).has('--fp8-param-gather'));
  assert.ok(!argv(job()).has('--fp8-param-gather'));
  assert.ok(!argv(job({ fp8_param_gather: false }, undefined, 128, 'fp8')).has('--fp8-param-gather'));
  const mx = job({ fp8_recipe: 'mxfp8' }, undefined, 128, 'fp8');
  assert.throws(() => megatronLaunch(mx, modelShape(mx.model), planOf(mx)), /training\.fp8_recipe: mxfp8 needs Blackwell/);
});

test('the flag checks refuse stack flags Megatron would refuse', () => {
  const l = megatronLaunch(job(), modelShape(job().model), planOf(job()));
  const bad = (extra: string[], drop: string[] = []): string[] => {
    const args = l.args.filter((x) => !drop.includes(x));
    return checkMegatronArgs([...args, ...extra], l.env, 128);
  };
  assert.ok(bad([], ['--sequence-parallel']).some((x) => x.includes('--tp-comm-overlap needs --sequence-parallel')));
  assert.ok(bad(['--delay-wgrad-compute']).some((x) => x.includes('--delay-wgrad-compute needs')));
  assert.ok(bad(['--cross-entropy-loss-fusion', '--cross-entropy-fusion-impl', 'te']).some((x) => x.includes('refused by Megatron-LM')));
  assert.ok(bad(['--exp-avg-dtype', 'bf16']).some((x) => x.includes('needs --use-precision-aware-optimizer')));
  assert.ok(bad(['--moe-router-padding-for-fp8']).some((x) => x === '--moe-router-padding-for-fp8 needs fp8 (--fp8-format)'));
  assert.ok(bad(['--manual-gc-interval', '5'], ['--manual-gc']).some((x) => x === '--manual-gc-interval has no effect without --manual-gc'));
  const ag = megatronLaunch(job({}, undefined, 128, 'fp8'), modelShape(job().model), planOf(job({}, undefined, 128, 'fp8'), { dispatcher: 'allgather' }));
  assert.ok(checkMegatronArgs([...ag.args, '--moe-router-padding-for-fp8'], ag.env, 128)
    .includes('--moe-router-padding-for-fp8 does not work with the allgather dispatcher'));
});

test('Megatron-Bridge: the stack as model.* keys and comm_overlap.* overlap switches', () => {
  // Bridge has no Mixtral recipe: Qwen3-235B-A22B on 256 GPUs, TP2 EP8 (the EP overlap needs no VPP at PP1)
  const q = (stack: Partial<StackSpec>, precision = 'bf16'): Job => job(stack, 'fixtures/models/qwen3-235b-a22b.yaml', 256, precision);
  const over: Partial<PlanArgs> = { tp: 2, pp: 1, vpp: 1, ep: 8, etp: 1 };
  const j = q({ moe_router_force_load_balancing: true, overlap_moe_expert_parallel_comm: true, cross_entropy_loss_fusion: true,
    grad_reduce_in_bf16: true });
  const text = bridgeOverrides(j, modelShape(j.model), planOf(j, over), 1);
  for (const line of ['model.moe_router_force_load_balancing=true', 'comm_overlap.overlap_moe_expert_parallel_comm=true',
    'model.cross_entropy_loss_fusion=true', 'comm_overlap.tp_comm_overlap=true', 'model.moe_expert_capacity_factor=null',
    'model.attention_dropout=0.1', 'mixed_precision.grad_reduce_in_fp32=false', 'ddp.grad_reduce_in_fp32=false']) {
    assert.ok(text.split('\n').includes(line), line);
  }
  const tensorwise = q({ fp8_recipe: 'tensorwise' }, 'fp8');
  assert.match(bridgeOverrides(tensorwise, modelShape(tensorwise.model), planOf(tensorwise, over), 1), /^mixed_precision\.fp8_recipe=tensorwise$/m);
});
