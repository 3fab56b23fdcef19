/** megatronLaunch: the argument list and environment it emits, rule by rule, on real plans. */
import { test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COST_MODELS_DIR } from '../../src/paths.js';
import assert from 'node:assert/strict';
import { checkMegatronArgs, gpuArchMajor, megatronLaunch, MEGATRON_FLAGS } from '../../src/export/index.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { loadJob } from '../../src/job/load-job.js';
import { REPO_ROOT } from '../../src/paths.js';
import { readMegatronArgs } from '../../src/calibrate/plan-from-args.js';
import { deepseekJob, deepseekPlan, denseJob, densePlan, mixtralJob, mixtralPlan, shapeOf } from './jobs.js';

function launch(job: Job, plan: Plan, mockData = false): { args: string[]; env: Record<string, string> } {
  return megatronLaunch(job, shapeOf(job), plan, { mockData });
}

/** The values after `flag`, undefined when the flag is absent. */
function valuesOf(args: string[], flag: string): string[] | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const out: string[] = [];
  for (let j = i + 1; j < args.length && !args[j].startsWith('--'); j++) out.push(args[j]);
  return out;
}

function withPlan(base: Plan, change: Partial<Plan>): Plan {
  return { ...base, ...change };
}

test('launch: the Mixtral reference plan, flag by flag', () => {
  const { args, env } = launch(mixtralJob(), mixtralPlan());
  assert.deepEqual(valuesOf(args, '--tensor-model-parallel-size'), ['2']);
  assert.deepEqual(valuesOf(args, '--pipeline-model-parallel-size'), ['8']);
  assert.deepEqual(valuesOf(args, '--context-parallel-size'), ['1']);
  assert.deepEqual(valuesOf(args, '--num-virtual-stages-per-pipeline-rank'), ['7']);
  assert.deepEqual(valuesOf(args, '--expert-model-parallel-size'), ['8']);
  assert.deepEqual(valuesOf(args, '--expert-tensor-parallel-size'), ['1']);
  assert.deepEqual(valuesOf(args, '--group-query-attention'), []);
  assert.deepEqual(valuesOf(args, '--num-query-groups'), ['8']);
  assert.deepEqual(valuesOf(args, '--moe-token-dispatcher-type'), ['alltoall']);
  assert.deepEqual(valuesOf(args, '--micro-batch-size'), ['1']);
  assert.deepEqual(valuesOf(args, '--global-batch-size'), ['256']);
  assert.equal(valuesOf(args, '--moe-flex-dispatcher-backend'), undefined);
  // an even split needs no first/last flags; the VPP flag is the one that works with uneven stages too
  assert.equal(valuesOf(args, '--decoder-first-pipeline-num-layers'), undefined);
  assert.equal(valuesOf(args, '--num-layers-per-virtual-pipeline-stage'), undefined);
  assert.deepEqual(env, { CUDA_DEVICE_MAX_CONNECTIONS: '1', PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:True', NCCL_NVLS_ENABLE: '0' });
  for (const a of args) if (a.startsWith('--')) assert.ok(MEGATRON_FLAGS[a], `${a} is in the flag table`);
});

test('launch: every list logs what calibrate reads: an iteration line every 10 iterations with TFLOP/s, once each', () => {
  const cases: [Job, Plan][] = [[mixtralJob(), mixtralPlan()], [deepseekJob(), deepseekPlan()], [denseJob(), densePlan()]];
  for (const [job, plan] of cases) {
    for (const mockData of [false, true]) {
      const { args } = launch(job, plan, mockData);
      assert.deepEqual(valuesOf(args, '--log-interval'), ['10'], job.model.name);
      assert.deepEqual(valuesOf(args, '--log-throughput'), [], job.model.name);
      assert.equal(args.filter((a) => a === '--log-interval').length, 1);
      assert.equal(args.filter((a) => a === '--log-throughput').length, 1);
      // Megatron-Core 0.16+ only: not emitted, so the list runs on the 0.13-0.15 releases as well
      assert.equal(valuesOf(args, '--log-memory-interval'), undefined);
    }
  }
});

test('launch: the DeepSeek-V3 reference plan: uneven stages, flex, MLA, MTP, router, layer pattern', () => {
  const { args, env } = launch(deepseekJob(), deepseekPlan());
  assert.deepEqual(valuesOf(args, '--decoder-first-pipeline-num-layers'), ['4']);
  assert.deepEqual(valuesOf(args, '--decoder-last-pipeline-num-layers'), ['1']);
  assert.equal(valuesOf(args, '--num-virtual-stages-per-pipeline-rank'), undefined);
  assert.deepEqual(valuesOf(args, '--moe-token-dispatcher-type'), ['flex']);
  assert.deepEqual(valuesOf(args, '--moe-flex-dispatcher-backend'), ['deepep']);
  assert.deepEqual(valuesOf(args, '--moe-layer-freq'), ['([0]*3+[1]*58)']);
  assert.deepEqual(valuesOf(args, '--multi-latent-attention'), []);
  assert.deepEqual(valuesOf(args, '--q-lora-rank'), ['1536']);
  assert.deepEqual(valuesOf(args, '--kv-lora-rank'), ['512']);
  assert.deepEqual(valuesOf(args, '--qk-pos-emb-head-dim'), ['64']);
  assert.deepEqual(valuesOf(args, '--mtp-num-layers'), ['1']);
  assert.deepEqual(valuesOf(args, '--moe-router-score-function'), ['sigmoid']);
  assert.deepEqual(valuesOf(args, '--moe-router-enable-expert-bias'), []);
  assert.deepEqual(valuesOf(args, '--moe-router-num-groups'), ['8']);
  assert.deepEqual(valuesOf(args, '--moe-router-group-topk'), ['4']);
  assert.deepEqual(valuesOf(args, '--moe-router-topk-scaling-factor'), ['2.5']);
  assert.deepEqual(valuesOf(args, '--moe-aux-loss-coeff'), ['0.0001']);
  assert.deepEqual(valuesOf(args, '--moe-shared-expert-intermediate-size'), ['2048']);
  // MLA: no GQA flags even though the spec could hold groups
  assert.equal(valuesOf(args, '--group-query-attention'), undefined);
  // TP1 CP1: CUDA_DEVICE_MAX_CONNECTIONS is not required and not set
  assert.equal(env.CUDA_DEVICE_MAX_CONNECTIONS, undefined);
});

test('launch: --sequence-parallel exactly when TP > 1', () => {
  const job = mixtralJob();
  for (const tp of [1, 2, 4, 8]) {
    const plan = withPlan(mixtralPlan(), { tp, dp: 128 / (tp * 8), edp: 2, numMicroBatches: 256 / (128 / (tp * 8)), sequenceParallel: tp > 1 });
    const { args } = launch(job, plan);
    assert.equal(args.includes('--sequence-parallel'), tp > 1, `TP ${tp}`);
    assert.deepEqual(valuesOf(args, '--tensor-model-parallel-size'), [String(tp)]);
  }
});

test('launch: a dense TP plan without sequence parallel is exported without it, and Megatron\'s rules accept it', () => {
  // The bug: the export emitted --sequence-parallel for every TP > 1 plan while the scorer honoured the plan's flag.
  const plan = withPlan(densePlan(), { sequenceParallel: false }); // TP 2
  const { args } = launch(denseJob(), plan);
  assert.equal(args.includes('--sequence-parallel'), false);
  assert.deepEqual(checkMegatronArgs(args, launch(denseJob(), plan).env, denseJob().cluster.gpus), []);
  const withSp = launch(denseJob(), withPlan(plan, { sequenceParallel: true })).args;
  assert.equal(withSp.includes('--sequence-parallel'), true);
});

test('launch: --disable-bias-linear for MoE (and for the bias-free dense models too)', () => {
  assert.ok(launch(mixtralJob(), mixtralPlan()).args.includes('--disable-bias-linear'));
  assert.ok(launch(deepseekJob(), deepseekPlan()).args.includes('--disable-bias-linear'));
  const dense = launch(denseJob(), densePlan()).args;
  assert.ok(dense.includes('--disable-bias-linear'));
  // a dense model gets no MoE or expert flag at all
  assert.deepEqual(dense.filter((a) => a.startsWith('--moe') || a.startsWith('--expert') || a === '--num-experts'), []);
});

test('launch: overlap flags go with the distributed optimizer', () => {
  const on = launch(mixtralJob(), mixtralPlan()).args;
  assert.ok(on.includes('--use-distributed-optimizer') && on.includes('--overlap-grad-reduce') && on.includes('--overlap-param-gather'));
  const off = launch(mixtralJob(), withPlan(mixtralPlan(), { distributedOptimizer: false })).args;
  assert.ok(!off.includes('--use-distributed-optimizer'));
  assert.ok(!off.includes('--overlap-param-gather'), '--overlap-param-gather needs the distributed optimizer');
  assert.ok(off.includes('--overlap-grad-reduce'), 'gradient all-reduce still overlaps with backward');
});

test('launch: recompute flags per mode', () => {
  const job = mixtralJob();
  const none = launch(job, withPlan(mixtralPlan(), { recompute: 'none' })).args;
  assert.equal(none.some((a) => a.startsWith('--recompute')), false);
  const sel = launch(job, withPlan(mixtralPlan(), { recompute: 'selective' })).args;
  assert.deepEqual(valuesOf(sel, '--recompute-granularity'), ['selective']);
  assert.equal(valuesOf(sel, '--recompute-method'), undefined);
  assert.equal(valuesOf(sel, '--recompute-num-layers'), undefined);
  assert.deepEqual(valuesOf(sel, '--recompute-modules'), ['core_attn', 'layernorm', 'moe_act'],
    'selective names the modules the cost model prices (MoE, no MLA)');
  const full = launch(job, withPlan(mixtralPlan(), { recompute: 'full' })).args;
  assert.deepEqual(valuesOf(full, '--recompute-granularity'), ['full']);
  assert.deepEqual(valuesOf(full, '--recompute-method'), ['uniform']);
  assert.deepEqual(valuesOf(full, '--recompute-num-layers'), ['1']);
});

test('launch: VPP with uneven stages uses --num-virtual-stages-per-pipeline-rank and first/last', () => {
  // 61 layers on PP16 as 2 + 14 x 4 + 3: the last stage's 3 layers do not split over 2 virtual stages
  const bad = withPlan(deepseekPlan(), { vpp: 2, firstStageLayers: 2, lastStageLayers: 3 });
  assert.throws(() => launch(deepseekJob(), bad), /first\/last pipeline stage layers 2\/3 of --num-layers 61 on PP 16: last stage's 3 layers are not divisible by VPP 2$/);
  // 60 layers as 2 + 14 x 4 + 2 do
  const job60 = deepseekJob();
  job60.model.num_layers = 60;
  job60.model.moe_layer_freq = [0, 0, 0, ...new Array<number>(57).fill(1)];
  const plan = withPlan(deepseekPlan(), { vpp: 2, firstStageLayers: 2, lastStageLayers: 2 });
  const { args } = launch(job60, plan);
  assert.deepEqual(valuesOf(args, '--num-virtual-stages-per-pipeline-rank'), ['2']);
  assert.deepEqual(valuesOf(args, '--decoder-first-pipeline-num-layers'), ['2']);
  assert.deepEqual(valuesOf(args, '--decoder-last-pipeline-num-layers'), ['2']);
  assert.equal(args.includes('--num-layers-per-virtual-pipeline-stage'), false);
});

test('launch: fp8 flags (there is no --fp8): blockwise on Hopper, MXFP8 on Blackwell', () => {
  const h100 = launch(deepseekJob(), deepseekPlan()).args;
  assert.deepEqual(valuesOf(h100, '--fp8-format'), ['e4m3']);
  assert.deepEqual(valuesOf(h100, '--fp8-recipe'), ['blockwise']);
  assert.ok(h100.includes('--bf16'));
  assert.equal(h100.includes('--fp8'), false);
  const b200 = deepseekJob();
  b200.cluster.gpu = 'b200';
  assert.deepEqual(valuesOf(launch(b200, deepseekPlan()).args, '--fp8-recipe'), ['mxfp8']);
  const bf16 = launch(mixtralJob(), mixtralPlan()).args;
  assert.equal(bf16.some((a) => a.startsWith('--fp8')), false);
  // An Ampere calibration (the H100 file with compute capability 8): fp8 is refused.
  const a100File = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-a100-')), 'a100-test.yaml');
  fs.writeFileSync(a100File, fs.readFileSync(path.join(COST_MODELS_DIR, 'h100-sxm.yaml'), 'utf8')
    .replace(/(cuda_compute_capability_major:\n\s+value:) 9/, '$1 8'));
  const a100 = deepseekJob();
  a100.cluster.gpu = a100File;
  assert.equal(gpuArchMajor(a100File), 8);
  assert.throws(() => launch(a100, deepseekPlan()), /fixtures\/models\/deepseek-v3\.yaml: export: fp8 training needs Hopper or newer GPUs \(cluster gpu .*a100-test\.yaml\)/);
});

test('launch: CUDA_DEVICE_MAX_CONNECTIONS=1 iff TP > 1 or CP > 1 before Blackwell', () => {
  const dense = denseJob();
  assert.equal(launch(dense, densePlan()).env.CUDA_DEVICE_MAX_CONNECTIONS, '1'); // TP2
  const cp2 = withPlan(densePlan(), { tp: 1, cp: 2, sequenceParallel: false });
  assert.equal(launch(dense, cp2).env.CUDA_DEVICE_MAX_CONNECTIONS, '1'); // CP2
  const flat = withPlan(densePlan(), { tp: 1, cp: 1, dp: 8, numMicroBatches: 8, sequenceParallel: false });
  assert.equal(launch(dense, flat).env.CUDA_DEVICE_MAX_CONNECTIONS, undefined);
  const b200 = denseJob();
  b200.cluster.gpu = 'b200';
  assert.equal(launch(b200, densePlan()).env.CUDA_DEVICE_MAX_CONNECTIONS, undefined);
  // The architecture is the calibration's fact, not a guess from its name.
  assert.equal(gpuArchMajor('h100-sxm'), 9);
  assert.equal(gpuArchMajor('h200-sxm'), 9);
  assert.equal(gpuArchMajor('b200'), 10);
  assert.equal(gpuArchMajor('gb200-nvl72'), 10);
  assert.equal(gpuArchMajor('gb300-nvl72'), 10);
  assert.throws(() => gpuArchMajor('vr200-nvl144'), /cost-models\/vr200-nvl144\.yaml: no such calibration file/);
});

test('launch: mockData makes the list complete: mock data, NullTokenizer, lr, iterations', () => {
  const { args, env } = launch(mixtralJob(), mixtralPlan(), true);
  assert.deepEqual(args.slice(-9), ['--mock-data', '--tokenizer-type', 'NullTokenizer', '--vocab-size', '32768', '--lr', '1.0e-4', '--train-iters', '10']);
  assert.deepEqual(checkMegatronArgs(args, env, 128), []);
  const plain = launch(mixtralJob(), mixtralPlan()).args;
  assert.equal(plain.includes('--mock-data') || plain.includes('--tokenizer-type'), false);
});

test('launch: refuses a plan whose sizes do not multiply out, and a plan Megatron would refuse', () => {
  assert.throws(() => launch(mixtralJob(), withPlan(mixtralPlan(), { dp: 4 })),
    /^InputError: fixtures\/models\/mixtral-8x22b\.yaml: export: plan is inconsistent: DP 4 is not world\/\(TP·CP·PP\) = 8$/);
  assert.throws(() => launch(mixtralJob(), withPlan(mixtralPlan(), { edp: 4 })),
    /^InputError: fixtures\/models\/mixtral-8x22b\.yaml: export: plan is inconsistent: EDP 4 is not world\/\(ETP·EP·PP\) = 2$/);
  assert.throws(() => launch(mixtralJob(), withPlan(mixtralPlan(), { numMicroBatches: 16 })),
    /^InputError: fixtures\/models\/mixtral-8x22b\.yaml: export: plan is inconsistent: numMicroBatches 16 is not GBS\/\(micro-batch·DP\) = 32$/);
  assert.throws(() => launch(mixtralJob(), withPlan(mixtralPlan(), { dp: 7.5 })),
    /^InputError: fixtures\/models\/mixtral-8x22b\.yaml: export: plan is inconsistent: dp must be an integer >= 1 \(got 7\.5\)$/);
  // 32 microbatches with VPP are fine; 12 with Megatron's default group of PP 8 leave a last group of 4 < PP
  // (GBS 96 = 1 x 12 x 8)
  const job = mixtralJob();
  job.training.global_batch_size = 96;
  assert.throws(() => launch(job, withPlan(mixtralPlan(), { numMicroBatches: 12 })),
    /export: Megatron-LM would refuse this plan: the interleaved schedule with --microbatch-group-size-per-virtual-pipeline-stage 8: 12 micro-batches leave a last group of 4 \(group 8\), fewer than PP 8 \(\[RT\] schedules.py L1160\)$/);
  // EP 16 does not divide 8 experts
  assert.throws(() => launch(mixtralJob(), withPlan(mixtralPlan(), { ep: 16, edp: 1 })),
    /--num-experts 8 is not divisible by EP 16/);
});

// ---- model hyper-parameters: rotary, norm, init, shared-expert gate (src/job/rope.ts, resolve-model.ts) ----

/** Fixture `file` (fixtures/models/) on `gpus` GPUs with a PP1 plan: TP1, EP `ep`, micro-batch 1. */
function pp1Case(file: string, gpus: number, ep: number): { job: Job; plan: Plan } {
  const job = { ...loadJob(path.join(REPO_ROOT, 'fixtures/models', file), { gpus }), source: `fixtures/models/${file}` };
  const L = job.model.num_layers;
  const plan: Plan = {
    ...mixtralPlan(), tp: 1, cp: 1, pp: 1, vpp: 1, dp: gpus, ep, etp: 1, edp: gpus / ep, firstStageLayers: L, lastStageLayers: L,
    mbGroup: 1, numMicroBatches: job.training.global_batch_size / gpus, sequenceParallel: false, recompute: 'full',
  };
  return { job, plan };
}

test('model: Qwen3-235B-A22B writes --rotary-base 1000000 and --norm-epsilon 1e-6, dropout 0, nothing at the defaults', () => {
  const { job, plan } = pp1Case('qwen3-235b-a22b.yaml', 256, 8);
  const { args } = launch(job, plan);
  assert.deepEqual(valuesOf(args, '--rotary-base'), ['1000000']);
  assert.equal(Number(valuesOf(args, '--norm-epsilon')?.[0]), 1e-6);
  assert.deepEqual(valuesOf(args, '--position-embedding-type'), ['rope']);
  assert.deepEqual(valuesOf(args, '--attention-dropout'), ['0']);
  assert.deepEqual(valuesOf(args, '--hidden-dropout'), ['0']);
  for (const f of ['--init-method-std', '--rotary-percent', '--use-rope-scaling', '--rotary-scaling-factor', '--moe-shared-expert-gate']) {
    assert.equal(valuesOf(args, f), undefined, f);
  }
});

test('model: Mixtral keeps Megatron\'s norm epsilon (1e-5): no --norm-epsilon', () => {
  const { args } = launch(mixtralJob(), mixtralPlan());
  assert.equal(valuesOf(args, '--norm-epsilon'), undefined);
  assert.deepEqual(valuesOf(args, '--rotary-base'), ['1000000']);
});

test('model: DeepSeek-V3 carries its YaRN settings through MLA (factor 40, mscale_all_dim 1; original 4096 and betas are MLA\'s own)', () => {
  const { args } = launch(deepseekJob(), deepseekPlan());
  assert.deepEqual(valuesOf(args, '--position-embedding-type'), ['rope']);
  assert.deepEqual(valuesOf(args, '--rotary-scaling-factor'), ['40']);
  assert.deepEqual(valuesOf(args, '--mscale-all-dim'), ['1']);
  assert.equal(Number(valuesOf(args, '--norm-epsilon')?.[0]), 1e-6);
  for (const f of ['--mscale', '--rotary-base', '--yarn-original-max-position-embeddings', '--yarn-beta-fast', '--yarn-beta-slow', '--rope-type']) {
    assert.equal(valuesOf(args, f), undefined, f);
  }
});

test('model: Llama 3.1 405B writes --use-rope-scaling (factor 8 is Megatron\'s default); Qwen2-57B its shared-expert gate', () => {
  const llama = pp1Case('llama3.1-405b.yaml', 1024, 1);
  const a = launch(llama.job, { ...llama.plan, tp: 8, dp: 128, etp: 8, edp: 128, numMicroBatches: 4, sequenceParallel: true }).args;
  assert.deepEqual(valuesOf(a, '--use-rope-scaling'), []);
  assert.equal(valuesOf(a, '--rope-scaling-factor'), undefined);
  assert.deepEqual(valuesOf(a, '--rotary-base'), ['500000']);
  const factor16 = { ...llama.job, model: { ...llama.job.model, rope_scaling: { ...llama.job.model.rope_scaling!, factor: 16 } } };
  const b = launch(factor16, { ...llama.plan, tp: 8, dp: 128, etp: 8, edp: 128, numMicroBatches: 4, sequenceParallel: true }).args;
  assert.deepEqual(valuesOf(b, '--rope-scaling-factor'), ['16']);
  const qwen2 = pp1Case('qwen2-57b-a14b.yaml', 64, 8);
  assert.deepEqual(valuesOf(launch(qwen2.job, qwen2.plan).args, '--moe-shared-expert-gate'), []);
});

test('model: YaRN on standard attention is --position-embedding-type yarn with the --yarn-* settings that differ', () => {
  const { job, plan } = pp1Case('qwen3-30b-a3b.yaml', 16, 8);
  const yarn = { type: 'yarn' as const, factor: 4, original_max_position_embeddings: 32768, beta_fast: 32, beta_slow: 2, mscale: 1, mscale_all_dim: 0 };
  const { args } = launch({ ...job, model: { ...job.model, rope_scaling: yarn, rotary_percent: 0.5 } }, { ...plan, precision: 'bf16' });
  assert.deepEqual(valuesOf(args, '--position-embedding-type'), ['yarn']);
  assert.deepEqual(valuesOf(args, '--rotary-scaling-factor'), ['4']);
  assert.deepEqual(valuesOf(args, '--yarn-original-max-position-embeddings'), ['32768']);
  assert.deepEqual(valuesOf(args, '--yarn-beta-slow'), ['2']);
  assert.deepEqual(valuesOf(args, '--rotary-percent'), ['0.5']);
  assert.equal(valuesOf(args, '--yarn-beta-fast'), undefined);
  assert.equal(valuesOf(args, '--mscale'), undefined);
});

test('checkMegatronArgs: rotary flags that act only together', () => {
  const base = launch(mixtralJob(), mixtralPlan());
  const check = (extra: string[], drop: string[] = []): string[] => {
    const args = [...base.args];
    for (const f of drop) { const i = args.indexOf(f); args.splice(i, 2); }
    return checkMegatronArgs([...args, ...extra], base.env, 128);
  };
  assert.deepEqual(check(['--rope-scaling-factor', '16']), ['--rope-scaling-factor has no effect without --use-rope-scaling']);
  assert.deepEqual(check(['--mscale', '0.7']), ['--mscale has no effect without --position-embedding-type yarn or --multi-latent-attention']);
  assert.deepEqual(check(['--yarn-beta-fast', '16']), ['--yarn-beta-fast has no effect without --position-embedding-type yarn, nor with --multi-latent-attention']);
  assert.deepEqual(check(['--rope-type', 'yarn']), ['--rope-type yarn needs --multi-latent-attention (standard attention takes rope)']);
  assert.deepEqual(check(['--moe-shared-expert-gate']), ['--moe-shared-expert-gate has no effect without --moe-shared-expert-intermediate-size (transformer_config.py L713)']);
  assert.deepEqual(check(['--position-embedding-type', 'learned_absolute', '--use-rope-scaling'], ['--position-embedding-type']),
    ['--use-rope-scaling needs --position-embedding-type rope without --multi-latent-attention (got learned_absolute)',
      '--rotary-base has no effect with --position-embedding-type learned_absolute']);
  const ds = launch(deepseekJob(), deepseekPlan());
  const dsArgs = ds.args.map((a, i, all) => (all[i - 1] === '--position-embedding-type' ? 'yarn' : a));
  assert.deepEqual(checkMegatronArgs(dsArgs, ds.env, 1024).filter((p) => p.includes('yarn')),
    ['--position-embedding-type yarn cannot be combined with --multi-latent-attention (MLA takes YaRN from its own config)',
      '--mtp-num-layers needs --position-embedding-type rope, mrope, learned_absolute or none (got yarn)']);
});

test('calibrate reads lists with the model flags back (readMegatronArgs knows every flag of the table)', () => {
  for (const [job, plan] of [[deepseekJob(), deepseekPlan()], [mixtralJob(), mixtralPlan()]] as const) {
    const { args } = launch(job, plan);
    assert.ok(args.includes('--norm-epsilon') || args.includes('--rotary-base'));
    const r = readMegatronArgs(args, job.cluster.gpus, 'launch.sh', 'args');
    assert.equal(r.plan.tp, plan.tp);
    assert.equal(r.plan.ep, plan.ep);
  }
});
