/**
 * The torchtitan export (v0.2.2 job files): the model flavour, sections and batch, stage lists, and every refusal.
 * Files are parsed back with smol-toml. Jobs are fixtures: Qwen3-30B-A3B on 16 H100 (fixtures/ci), Llama 3 70B on
 * 64 H100 (fixtures/ci), DeepSeek-V3 (fixtures/models, made bf16 without MTP where torchtitan must take it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as TOML from 'smol-toml';
import { exportPlan } from '../../src/export/index.js';
import { TORCHTITAN_FLAVOURS, matchFlavour } from '../../src/export/torchtitan-models.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { deepseekJob, deepseekPlan, fixtureJob, mixtralJob, mixtralPlan, planFor, shapeOf } from './jobs.js';
import { deepseekBf16, llamaJob, llamaPlan, qwenJob, qwenPlan } from './torchtitan-jobs.js';

type Doc = Record<string, Record<string, unknown>>;

function titan(job: Job, plan: Plan): string {
  return exportPlan('torchtitan', job, shapeOf(job), plan);
}
function parsed(job: Job, plan: Plan): Doc {
  return JSON.parse(JSON.stringify(TOML.parse(titan(job, plan)))) as Doc; // plain objects for deepEqual
}
function plan(base: Plan, change: Partial<Plan>): Plan {
  return { ...base, ...change };
}


test('torchtitan flavours: llama3 FFN sizes follow torchtitan\'s rounding (hand-computed)', () => {
  const ffn = (model: string, flavor: string): number => TORCHTITAN_FLAVOURS.find((f) => f.model === model && f.flavor === flavor)!.ffn;
  // 8B: int(1.3 * int(2 * 16384 / 3)) = int(1.3 * 10922) = 14198 -> next multiple of 1024 = 14336
  assert.equal(ffn('llama3', '8B'), 14336);
  assert.equal(ffn('llama3', '70B'), 28672); // int(1.3 * 21845) = 28398 -> 7 x 4096
  assert.equal(ffn('llama3', '405B'), 53248); // int(1.2 * 43690) = 52428 -> 13 x 4096
  // llama4 experts: int(int(1.2 * 13653) / (top-1 + 1 shared)) = int(16383 / 2) = 8191 -> 4 x 2048
  assert.equal(TORCHTITAN_FLAVOURS.find((f) => f.flavor === '17bx16e')!.moe!.ffn, 8192);
});

test('torchtitan flavours: the fixtures torchtitan ships are matched, the others are not', () => {
  const name = (file: string): string => {
    const job = fixtureJob(file);
    const r = matchFlavour(job.model, shapeOf(job));
    return 'ok' in r ? `${r.ok.model} ${r.ok.flavor}` : 'none';
  };
  assert.equal(name('fixtures/ci/qwen3-30b-a3b-16.yaml'), 'qwen3 30B-A3B');
  assert.equal(name('fixtures/ci/llama3-70b-64.yaml'), 'llama3 70B');
  assert.equal(name('fixtures/ci/deepseek-v3-1024.yaml'), 'deepseek_v3 671B');
  assert.equal(name('fixtures/ci/mixtral-8x22b-128.yaml'), 'none');
});

test('torchtitan: Qwen3-30B-A3B sections, model and batch', () => {
  const doc = parsed(qwenJob(), qwenPlan());
  assert.deepEqual(doc.model, { name: 'qwen3', flavor: '30B-A3B' });
  assert.deepEqual(doc.training, { local_batch_size: 2, global_batch_size: 512, seq_len: 4096, mixed_precision_param: 'bfloat16' });
  assert.deepEqual(doc.parallelism, {
    data_parallel_replicate_degree: 1, data_parallel_shard_degree: 8, tensor_parallel_degree: 2,
    context_parallel_degree: 1, pipeline_parallel_degree: 1, expert_parallel_degree: 8,
    expert_tensor_parallel_degree: 1, expert_parallel_comm_backend: 'standard',
  });
  assert.deepEqual(doc.activation_checkpoint, { mode: 'full' });
  assert.equal(doc.job.description, 'moefold plan 1 for Qwen3-30B-A3B');
  assert.match(titan(qwenJob(), qwenPlan()), /^# torchtitan job file for torchtitan v0\.2\.2, pinned/m);
});

test('torchtitan: uneven stages with VPP become explicit module lists in Megatron\'s order', () => {
  const doc = parsed(llamaJob(), llamaPlan());
  assert.deepEqual(doc.model, { name: 'llama3', flavor: '70B' });
  const p = doc.parallelism;
  assert.equal(p.pipeline_parallel_schedule, 'Interleaved1F1B');
  assert.equal(p.pipeline_parallel_microbatch_size, 1);
  assert.equal(doc.training.local_batch_size, 32); // 32 micro-batches of 1
  const parts = p.module_fqns_per_model_part as string[][];
  // per virtual stage: 9, 11, 11, 9 (first chunk of each rank), then 9, 11, 11, 9
  assert.deepEqual(parts.map((x) => x.filter((n) => n.startsWith('layers.')).length), [9, 11, 11, 9, 9, 11, 11, 9]);
  assert.deepEqual(parts[0].slice(0, 2), ['tok_embeddings', 'layers.0']);
  assert.deepEqual(parts[1][0], 'layers.9');
  assert.deepEqual(parts[4][0], 'layers.40');
  assert.deepEqual(parts[7].slice(-3), ['layers.79', 'norm', 'output']);
  assert.equal('expert_parallel_degree' in p, false);
});

test('torchtitan: an accounted embedding/loss split and a layout keep Megatron\'s decoder layers per stage', () => {
  // PP2 with the embedding and the loss each counted as a layer: (80 + 2) / 2 = 41 slots, 40 decoder layers each
  const accounted = parsed(llamaJob(), planFor(llamaJob(), {
    tp: 4, cp: 1, pp: 2, vpp: 1, ep: 1, etp: 4, firstStageLayers: 40, lastStageLayers: 40, microBatchSize: 1,
    accountEmbedding: true, accountLoss: true,
    recompute: 'full', dispatcher: 'alltoall', sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
  }));
  const parts = accounted.parallelism.module_fqns_per_model_part as string[][];
  assert.deepEqual(parts.map((x) => x.length), [41, 42]);
  assert.deepEqual([parts[0][0], parts[0][40], parts[1][0], parts[1][41]], ['tok_embeddings', 'layers.39', 'layers.40', 'output']);
  // a layout whose first stage holds only the embedding (PP2 VPP2: rank 0 runs stages 0 and 2, rank 1 stages 1, 3)
  const layout = parsed(llamaJob(), planFor(llamaJob(), {
    tp: 4, cp: 1, pp: 2, vpp: 2, ep: 1, etp: 4, firstStageLayers: 27, lastStageLayers: 53, microBatchSize: 1,
    layout: 'E|t*26|t*27|t*27L',
    recompute: 'full', dispatcher: 'alltoall', sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
  }));
  const lp = layout.parallelism.module_fqns_per_model_part as string[][];
  assert.deepEqual(lp.map((x) => x.length), [1, 26, 27, 29]);
  assert.deepEqual([lp[0], lp[1][0], lp[3][26], lp[3][28]], [['tok_embeddings'], 'layers.0', 'layers.79', 'output']);
});

test('torchtitan: DeepSeek-V3 bf16 without MTP is deepseek_v3 671B with DeepEP and stage lists', () => {
  const { job, plan: p } = deepseekBf16();
  const doc = parsed(job, p);
  assert.deepEqual(doc.model, { name: 'deepseek_v3', flavor: '671B' });
  assert.equal(doc.parallelism.expert_parallel_comm_backend, 'deepep');
  assert.equal(doc.parallelism.pipeline_parallel_schedule, '1F1B');
  const parts = doc.parallelism.module_fqns_per_model_part as string[][];
  assert.equal(parts.length, 16);
  assert.deepEqual(parts[0], ['tok_embeddings', 'layers.0', 'layers.1', 'layers.2', 'layers.3']);
  assert.deepEqual(parts[15], ['layers.60', 'norm', 'output']);
  assert.equal(doc.training.local_batch_size, 128);
});

test('torchtitan: without PP the local batch is one micro-batch and no stage list is written', () => {
  const text = titan(llamaJob(), plan(llamaPlan(), { tp: 8, etp: 8, pp: 1, vpp: 1, dp: 8, numMicroBatches: 16, firstStageLayers: 80, lastStageLayers: 80 }));
  assert.ok(text.includes('\nlocal_batch_size = 1\nglobal_batch_size = 128\n'));
  assert.equal(text.includes('module_fqns_per_model_part'), false);
  assert.equal(text.includes('pipeline_parallel_schedule'), false);
});

test('torchtitan: each refusal names what cannot be expressed', () => {
  const q = qwenJob();
  const qp = qwenPlan();
  const renamed = qwenJob();
  renamed.model.num_layers = 40;
  renamed.model.moe_layer_freq = 1;
  const { job: ds, plan: dsp } = deepseekBf16();
  const cases: [Job, Plan, RegExp][] = [
    [deepseekJob(), deepseekPlan(), /torchtitan cannot express fp8 training as planned/],
    [deepseekJob(), plan(deepseekPlan(), { precision: 'bf16' }), /torchtitan cannot express multi-token prediction \(mtp_num_layers 1\): torchtitan's models have no MTP layers$/],
    [mixtralJob(), mixtralPlan(), /torchtitan v0\.2\.2 has no model for Mixtral-8x22B: the nearest flavour, llama3 "8B", differs in MoE true vs false, layers 56 vs 32/],
    [renamed, plan(qp, { firstStageLayers: 40, lastStageLayers: 40 }), /torchtitan v0\.2\.2 has no qwen3 flavour with Qwen3-30B-A3B's sizes: the nearest, "30B-A3B", differs in layers 40 vs 48 \(job vs torchtitan\)$/],
    [q, plan(qp, { recompute: 'selective' }), /torchtitan cannot express Megatron's selective recompute of core attention/],
    [q, plan(qp, { distributedOptimizer: false }), /torchtitan cannot express replicated optimizer state with TP\/CP\/PP\/EP/],
    [q, plan(qp, { dispatcher: 'allgather' }), /torchtitan cannot express the allgather token dispatcher/],
    [q, plan(qp, { ep: 2, etp: 4, edp: 2 }), /torchtitan cannot express expert TP 4 with TP 2 \(torchtitan supports ETP = 1 or ETP = TP\)$/],
    [q, plan(qp, { ep: 1, etp: 1, edp: 16 }), /torchtitan cannot express expert TP 1 != TP 2 without EP/],
    [q, plan(qp, { ep: 4, etp: 2, edp: 2, dispatcher: 'flex' }), /torchtitan cannot express the DeepEP dispatcher with EP 4 and ETP 2/],
    [q, planFor(q, { ...qp, tp: 1, pp: 2, firstStageLayers: 24, lastStageLayers: 24, sequenceParallel: false }),
      /torchtitan cannot express PP 2 with torchtitan's qwen3 model \(v0\.2\.2 registers no pipelining function for it\)$/],
    [ds, plan(dsp, { cp: 2, dp: 32, numMicroBatches: 256 }), /torchtitan cannot express CP 2 with torchtitan's deepseek_v3 "671B" \(its attention is not SDPA, which CP needs\)$/],
  ];
  for (const [job, p, re] of cases) {
    assert.throws(() => titan(job, p), (e: Error) => e.name === 'InputError' && re.test(e.message) && e.message.startsWith(`${job.source}: export: `), String(re));
  }
  // Megatron accepts 8194 tokens with TP2 (8194 / 2 is whole); torchtitan needs a multiple of TP x 2 x CP = 4
  const job = llamaJob();
  job.training.seq_length = 8194;
  job.model.max_position_embeddings = 16384;
  assert.throws(() => titan(job, plan(llamaPlan(), { tp: 2, etp: 2, dp: 8, numMicroBatches: 16 })),
    /torchtitan cannot express seq_length 8194 with TP 2 and CP 1 \(torchtitan needs seq_len divisible by TP x 2 x CP = 4\)$/);
  // a pure data-parallel plan without the distributed optimizer is DDP
  const ddp = parsed(llamaJob(), plan(llamaPlan(), {
    tp: 1, etp: 1, sequenceParallel: false, pp: 1, vpp: 1, dp: 64, numMicroBatches: 2, firstStageLayers: 80, lastStageLayers: 80, distributedOptimizer: false,
  }));
  assert.equal(ddp.parallelism.data_parallel_replicate_degree, 64);
  assert.equal(ddp.parallelism.data_parallel_shard_degree, 1);
});

test('torchtitan: a hostile model name stays inside the description', () => {
  const job = qwenJob();
  job.model.name = 'x"\n[model]\nname = "llama3';
  const doc = parsed(job, qwenPlan());
  assert.equal(doc.job.description, `moefold plan 1 for ${job.model.name}`);
  assert.deepEqual(doc.model, { name: 'qwen3', flavor: '30B-A3B' });
});

test('torchtitan: hyper-parameters a flavour fixes in code are compared, and a difference is stated in the header', () => {
  // Llama 3 70B (3.0: no rope scaling) vs torchtitan's llama3 "70B" (always Llama 3.1 scaling x8): a warning
  const llama = titan(llamaJob(), llamaPlan());
  assert.match(llama, /# WARNING: torchtitan's llama3 "70B" fixes in code .*\n# torchtitan\): rope scaling none vs llama3 x8\. No job-file key/);
  // the same model with Llama 3.1's scaling and rope base: no warning
  const j31 = llamaJob();
  j31.model.rope_scaling = { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
  assert.doesNotMatch(titan(j31, llamaPlan()), /WARNING/);
  // Qwen3-30B-A3B: rope base 1e6, eps 1e-6, as torchtitan's qwen3 "30B-A3B"
  assert.doesNotMatch(titan(qwenJob(), qwenPlan()), /WARNING/);
  // DeepSeek-V3: YaRN x40 over 4096 and base 10000 as torchtitan's, but RMSNorm eps 1e-6 vs torchtitan's 1e-5
  const ds = deepseekBf16();
  assert.match(titan(ds.job, ds.plan), /torchtitan\): norm epsilon 0\.000001 vs 0\.00001\./);
  const f = TORCHTITAN_FLAVOURS.find((x) => x.flavor === '235B-A22B')!;
  assert.equal(f.hyper.rotaryBase, 5000000); // v0.2.2's qwen3 235B-A22B flavour (the HF model uses 1e6)
});
