/**
 * The rotary, norm, initialisation and shared-gate model fields (src/job/rope.ts, resolve-model.ts): defaults,
 * the rules that tie them to the model, and their Hugging Face import (values hand-checked against the
 * config.json files in fixtures/hf/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { REPO_ROOT } from '../../src/paths.js';
import { jobFromObject, loadJob } from '../../src/job/load-job.js';
import { countParams } from '../../src/job/params.js';
import { BASE_MODEL, loadModelJob, messageOf } from './load-model.js';
import { makeCostModelsDir } from './cost-models-dir.js';

process.chdir(REPO_ROOT);
const opts = { costModelsDir: makeCostModelsDir() };
const hf = (dir: string) => loadJob(`fixtures/hf/${dir}/config.json`, { gpus: 8 }, opts);
const MOE = { ...BASE_MODEL, num_experts: 8, moe_router_topk: 2 };
const DEEPSEEK_YARN = { type: 'yarn', factor: 40, original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 1 };

test('defaults: Megatron-LM\'s rotary base 10000, percent 1, no scaling, epsilon 1e-5, init std 0.02, no gate', () => {
  const m = loadModelJob(BASE_MODEL).model;
  assert.deepEqual(
    [m.rotary_base, m.rotary_percent, m.rope_scaling, m.norm_epsilon, m.init_method_std, m.moe_shared_expert_gate],
    [10000, 1, null, 1e-5, 0.02, false],
  );
});

test('rope_scaling: llama3 takes Megatron\'s fixed factors, yarn fills Megatron\'s defaults', () => {
  assert.deepEqual(loadModelJob({ ...BASE_MODEL, rope_scaling: { type: 'llama3', factor: 8 } }).model.rope_scaling,
    { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
  assert.deepEqual(loadModelJob({ ...BASE_MODEL, rope_scaling: { type: 'yarn', factor: 4 } }).model.rope_scaling,
    { type: 'yarn', factor: 4, original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 0 });
});

test('bad rotary fields are one line naming the field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ rotary_base: 10000.5 }, 'job.yaml: model.rotary_base: must be an integer from 1 to 1000000000000 (got 10000.5)'],
    [{ rotary_percent: 0 }, 'job.yaml: model.rotary_percent: must be a number > 0 and <= 1 (got 0)'],
    [{ norm_epsilon: 0 }, 'job.yaml: model.norm_epsilon: must be a number > 0 and <= 1 (got 0)'],
    [{ rope_scaling: { type: 'dynamic', factor: 2 } }, 'job.yaml: model.rope_scaling.type: must be llama3 or yarn (got "dynamic")'],
    [{ rope_scaling: { type: 'llama3', factor: 8, high_freq_factor: 2 } },
      "job.yaml: model.rope_scaling.high_freq_factor: must be 4: Megatron-LM's Llama 3 rope scaling fixes it (rotary_pos_embedding.py _apply_scaling) (got 2)"],
    [{ rope_scaling: { type: 'yarn', factor: 4, low_freq_factor: 1 } },
      'job.yaml: model.rope_scaling.low_freq_factor: unknown field for type yarn (allowed: type, factor, original_max_position_embeddings, beta_fast, beta_slow, mscale, mscale_all_dim)'],
    [{ rope_scaling: { type: 'yarn' } }, 'job.yaml: model.rope_scaling.factor: must be a number > 0 and <= 1000 (got nothing)'],
    [{ rope_scaling: 'yarn' }, 'job.yaml: model.rope_scaling: must be a mapping {type: llama3, factor} or {type: yarn, factor, original_max_position_embeddings, beta_fast, beta_slow, mscale, mscale_all_dim}, or null (got "yarn")'],
    [{ position_embedding_type: 'learned_absolute', rotary_base: 500000 }, 'job.yaml: model.rotary_base: only valid with position_embedding_type: rope (got learned_absolute)'],
  ];
  for (const [fields, msg] of cases) assert.equal(messageOf(() => loadModelJob({ ...BASE_MODEL, ...fields })), msg);
});

test('MLA: only YaRN, with the original context and betas MLATransformerConfig fixes', () => {
  const mla = { ...BASE_MODEL, multi_latent_attention: true };
  assert.deepEqual(loadModelJob({ ...mla, rope_scaling: DEEPSEEK_YARN }).model.rope_scaling, DEEPSEEK_YARN);
  assert.equal(messageOf(() => loadModelJob({ ...mla, rope_scaling: { ...DEEPSEEK_YARN, beta_fast: 16 } })),
    "job.yaml: model.rope_scaling.beta_fast: must be 32 with multi_latent_attention: Megatron-LM's MLA takes it from MLATransformerConfig, no flag sets it (got 16)");
  assert.equal(messageOf(() => loadModelJob({ ...mla, rope_scaling: { type: 'llama3', factor: 8 } })),
    "job.yaml: model.rope_scaling.type: must be yarn with multi_latent_attention (Megatron-LM's MLA has rope and yarn only)");
  assert.equal(messageOf(() => loadModelJob({ ...mla, rotary_percent: 0.5 })),
    'job.yaml: model.rotary_percent: must be 1 with multi_latent_attention (its YaRN rotates every qk_pos_emb_head_dim dimension)');
  assert.equal(messageOf(() => loadModelJob({ ...BASE_MODEL, mtp_num_layers: 1, rope_scaling: { type: 'yarn', factor: 4 } })),
    'job.yaml: model.rope_scaling: yarn without multi_latent_attention is --position-embedding-type yarn, which Megatron-LM refuses with mtp_num_layers > 0');
});

test('moe_shared_expert_gate needs a shared expert, and adds hidden_size parameters per MoE layer', () => {
  assert.equal(messageOf(() => loadModelJob({ ...MOE, moe_shared_expert_gate: true })),
    'job.yaml: model.moe_shared_expert_gate: needs a shared expert (moe_shared_expert_intermediate_size > 0 on an MoE model)');
  const shared = { ...MOE, moe_shared_expert_intermediate_size: 2048 };
  const without = countParams(loadModelJob(shared).model);
  const withGate = countParams(loadModelJob({ ...shared, moe_shared_expert_gate: true }).model);
  // 4 MoE layers x one (1, 1024) gate weight
  assert.equal(withGate.total - without.total, 4 * 1024);
  assert.equal(withGate.active - without.active, 4 * 1024);
});

test('HF Qwen3-235B-A22B: rope_theta 1e6, rms_norm_eps 1e-6, initializer_range 0.02, router_aux_loss_coef 0.001, no dropout', () => {
  const job = hf('Qwen3-235B-A22B');
  const m = job.model;
  assert.deepEqual([m.rotary_base, m.rope_scaling, m.norm_epsilon, m.init_method_std, m.moe_aux_loss_coeff], [1_000_000, null, 1e-6, 0.02, 0.001]);
  assert.deepEqual([job.training.attention_dropout, job.training.hidden_dropout], [0, 0]);
});

test('HF DeepSeek-V3: YaRN rope_scaling, epsilon 1e-6, aux_loss_alpha per sequence (seq_aux)', () => {
  const m = hf('DeepSeek-V3').model;
  assert.deepEqual(m.rope_scaling, DEEPSEEK_YARN);
  assert.deepEqual([m.rotary_base, m.norm_epsilon, m.moe_aux_loss_coeff, m.moe_router_load_balancing_type], [10000, 1e-6, 0.001, 'seq_aux_loss']);
});

test('HF Qwen2-57B-A14B: the shared expert\'s gate; GLM-4.5 and MiniMax-M2: partial rotary as rotary_percent', () => {
  const q = hf('Qwen2-57B-A14B').model;
  assert.deepEqual([q.moe_shared_expert_gate, q.rotary_base, q.norm_epsilon], [true, 1_000_000, 1e-6]);
  assert.equal(hf('GLM-4.5').model.rotary_percent, 0.5); // partial_rotary_factor 0.5
  assert.equal(hf('MiniMax-M2').model.rotary_percent, 0.5); // rotary_dim 64 / head_dim 128
  assert.equal(hf('MiniMax-M2').model.rotary_base, 5_000_000);
  assert.equal(hf('Mixtral-8x7B').model.moe_aux_loss_coeff, 0.02);
});

/** fixtures/hf/Llama3-70B's config.json (rope_theta 500000, no rope_scaling), as an object the tests vary. */
const LLAMA = JSON.parse(fs.readFileSync('fixtures/hf/Llama3-70B/config.json', 'utf8')) as Record<string, unknown>;
const HF_DSV3 = JSON.parse(fs.readFileSync('fixtures/hf/DeepSeek-V3/config.json', 'utf8')) as Record<string, unknown>;

test('HF rope_scaling: llama3 with Megatron\'s factors imports, other forms are refused in one line', () => {
  const load = (extra: Record<string, unknown>) => jobFromObject({ ...LLAMA, ...extra }, 'config.json', { gpus: 8 }, opts);
  const llama31 = { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 };
  const m = load({ rope_theta: 500000.0, rope_scaling: llama31 }).model;
  assert.equal(m.rotary_base, 500000);
  assert.deepEqual(m.rope_scaling, { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
  assert.equal(load({ rope_scaling: { rope_type: 'default' } }).model.rope_scaling, null);
  const refused: [Record<string, unknown>, string][] = [
    [{ rope_theta: 10000.5 }, "config.json: rope_theta: must be an integer from 1 to 1000000000000 (Megatron-LM's --rotary-base is type=int) (got 10000.5)"],
    [{ rope_scaling: { ...llama31, high_freq_factor: 2.0 } }, "config.json: rope_scaling.high_freq_factor: must be 4: Megatron-LM's Llama 3 rope scaling fixes it (got 2)"],
    [{ rope_scaling: { ...llama31, original_max_position_embeddings: 4096 } }, "config.json: rope_scaling.original_max_position_embeddings: must be 8192: Megatron-LM's Llama 3 rope scaling fixes it (got 4096)"],
    [{ rope_scaling: { type: 'dynamic', factor: 2.0 } }, `config.json: rope_scaling.type: rope scaling "dynamic" cannot be expressed with Megatron-LM's flags (it has llama3 and yarn)`],
    [{ rope_scaling: { rope_type: 'longrope', short_factor: [1], long_factor: [2] } }, `config.json: rope_scaling.rope_type: rope scaling "longrope" cannot be expressed with Megatron-LM's flags (it has llama3 and yarn)`],
    [{ rope_scaling: { rope_type: 'yarn', factor: 4.0, attention_factor: 1.2 } }, "config.json: rope_scaling.attention_factor: an explicit YaRN attention factor cannot be expressed with Megatron-LM's flags"],
  ];
  for (const [extra, msg] of refused) assert.equal(messageOf(() => load(extra)), msg);
});

test('HF yarn on standard attention: original context from max_position_embeddings; mscale only with mscale_all_dim', () => {
  const load = (extra: Record<string, unknown>) => jobFromObject({ ...LLAMA, ...extra }, 'config.json', { gpus: 8 }, opts);
  const m = load({ max_position_embeddings: 32768, rope_scaling: { rope_type: 'yarn', factor: 4.0, mscale: 0.7 } }).model;
  assert.deepEqual(m.rope_scaling, { type: 'yarn', factor: 4, original_max_position_embeddings: 32768, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 0 });
});

test('the HF import\'s dropout is a training default: the job\'s training: and the flags override it', () => {
  const base = loadJob('fixtures/hf/Llama3-70B/config.json', { gpus: 8 }, opts).training;
  assert.deepEqual([base.attention_dropout, base.hidden_dropout], [0, 0]);
  const job = jobFromObject({ model: 'fixtures/hf/Llama3-70B/config.json', training: { hidden_dropout: 0.1 }, cluster: { gpus: 8 } }, 'job.yaml', {}, opts);
  assert.deepEqual([job.training.attention_dropout, job.training.hidden_dropout], [0, 0.1]);
  const flagged = loadJob('fixtures/hf/Llama3-70B/config.json', { gpus: 8, stack: { attention_dropout: 0.05 } }, opts);
  assert.equal(flagged.training.attention_dropout, 0.05);
});

test('HF transformers v5 rope_parameters: rope_theta and the scaling read from it; both forms at once must agree', () => {
  const load = (extra: Record<string, unknown>) => jobFromObject({ ...LLAMA, ...extra }, 'config.json', { gpus: 8 }, opts);
  const { rope_theta: _theta, ...v5 } = LLAMA;
  const llama31 = { rope_type: 'llama3', rope_theta: 500000.0, factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 };
  const m = jobFromObject({ ...v5, rope_parameters: llama31 }, 'config.json', { gpus: 8 }, opts).model;
  assert.equal(m.rotary_base, 500000); // not Megatron's 10000
  assert.deepEqual(m.rope_scaling, { type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 });
  const plain = jobFromObject({ ...v5, rope_parameters: { rope_type: 'default', rope_theta: 1000000 } }, 'config.json', { gpus: 8 }, opts).model;
  assert.equal(plain.rotary_base, 1000000);
  assert.equal(plain.rope_scaling, null);
  assert.equal(messageOf(() => load({ rope_parameters: { rope_type: 'default', rope_theta: 10000 } })),
    'config.json: rope_theta: must equal rope_parameters.rope_theta (got 500000 and 10000)');
  assert.equal(messageOf(() => load({ rope_theta: undefined, rope_parameters: { rope_type: 'dynamic', rope_theta: 10000, factor: 2 } })),
    `config.json: rope_parameters.rope_type: rope scaling "dynamic" cannot be expressed with Megatron-LM's flags (it has llama3 and yarn)`);
});

test('HF MLA YaRN: mscale_all_dim without mscale is refused (HF scales the softmax by it alone; Megatron cannot)', () => {
  const rs = HF_DSV3.rope_scaling as Record<string, unknown>;
  const { mscale: _ms, ...noMscale } = rs;
  assert.equal(messageOf(() => jobFromObject({ ...HF_DSV3, rope_scaling: noMscale }, 'config.json', { gpus: 8 }, opts)),
    "config.json: rope_scaling.mscale: must be set beside mscale_all_dim 1 for multi-latent attention: Megatron-LM's --mscale/--mscale-all-dim cannot reproduce HF's softmax scale without it (got nothing)");
  // with both (the published config) it imports
  assert.deepEqual(jobFromObject(HF_DSV3, 'config.json', { gpus: 8 }, opts).model.rope_scaling, DEEPSEEK_YARN);
});
