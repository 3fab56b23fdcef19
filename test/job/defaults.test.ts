/** Defaults the loader fills in, and the model rules that tie fields together. */
import { defaultFinetune } from '../../src/job/finetune.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobFromObject } from '../../src/job/load-job.js';
import { BASE_MODEL, loadModelJob, messageOf } from './load-model.js';
import { makeCostModelsDir } from './cost-models-dir.js';
import { defaultStack } from '../../src/job/stack.js';

const base = BASE_MODEL;
const load = loadModelJob;
const opts = { costModelsDir: makeCostModelsDir() };

test('dense defaults', () => {
  const j = load(base);
  const m = j.model;
  assert.equal(m.name, 'job');
  assert.equal(m.num_query_groups, 8);
  assert.equal(m.kv_channels, 128);
  assert.equal(m.ffn_hidden_size, 2688); // Megatron with swiglu: int(4·1024·2/3/64)·64
  assert.equal(m.swiglu, true);
  assert.equal(m.untie_embeddings_and_output_weights, true);
  assert.equal(m.normalization, 'RMSNorm');
  assert.equal(m.position_embedding_type, 'rope');
  assert.equal(m.make_vocab_size_divisible_by, 128);
  assert.equal(m.max_position_embeddings, 4096); // max(seq 4096, 4096)
  assert.equal(m.num_experts, 0);
  assert.equal(m.moe_aux_loss_coeff, 0);
  assert.equal(m.multi_latent_attention, false);
  assert.deepEqual(j.training, { seq_length: 4096, global_batch_size: 1024, precision: 'bf16', ...defaultStack(), ...defaultFinetune() });
  assert.deepEqual(j.cluster, { gpu: 'h100-sxm', gpus: 8, gpus_per_node: 8 });
});

test('ffn default without swiglu is 4·hidden; max_position_embeddings follows a longer seq_length', () => {
  const m = load({ ...base, swiglu: false }, { seq_length: 16384 }).model;
  assert.equal(m.ffn_hidden_size, 4096);
  assert.equal(m.max_position_embeddings, 16384);
});

test('MoE defaults', () => {
  const m = load({ ...base, ffn_hidden_size: 3000, num_experts: 16 }).model;
  assert.equal(m.moe_router_topk, 2);
  assert.equal(m.moe_ffn_hidden_size, 3000);
  assert.equal(m.moe_shared_expert_intermediate_size, 0);
  assert.equal(m.moe_layer_freq, 1);
  assert.equal(m.moe_router_score_function, 'softmax');
  assert.equal(m.moe_router_pre_softmax, false);
  assert.equal(m.moe_router_num_groups, 0);
  assert.equal(m.moe_router_group_topk, 0);
  assert.equal(m.moe_router_topk_scaling_factor, 0);
  assert.equal(m.moe_router_enable_expert_bias, false);
  assert.equal(m.moe_router_load_balancing_type, 'aux_loss');
  assert.equal(m.moe_aux_loss_coeff, 0.01);
});

test('MLA defaults', () => {
  const m = load({ ...base, multi_latent_attention: true }).model;
  assert.deepEqual([m.q_lora_rank, m.kv_lora_rank, m.qk_head_dim, m.qk_pos_emb_head_dim, m.v_head_dim], [0, 512, 128, 64, 128]);
});

test('moe_layer_freq: an int, a list, or Megatron\'s expression', () => {
  assert.equal(load({ ...base, num_experts: 8, moe_layer_freq: 2 }).model.moe_layer_freq, 2);
  assert.deepEqual(load({ ...base, num_experts: 8, moe_layer_freq: '([0]*1+[1]*3)' }).model.moe_layer_freq, [0, 1, 1, 1]);
  assert.deepEqual(load({ ...base, num_experts: 8, moe_layer_freq: [1, 0, 1, 0] }).model.moe_layer_freq, [1, 0, 1, 0]);
  assert.equal(
    messageOf(() => load({ ...base, num_experts: 8, moe_layer_freq: 0 })),
    'job.yaml: model.moe_layer_freq: must be an integer >= 1 (layer i is MoE iff i % N == 0) (got 0)',
  );
  assert.equal(
    messageOf(() => load({ ...base, num_experts: 8, moe_layer_freq: [0, 0, 0, 0] })),
    'job.yaml: model.moe_layer_freq: list marks no layer as MoE (1); use num_experts: 0 for a dense model',
  );
});

test('a field left empty (null) counts as absent', () => {
  const m = load({ ...base, num_experts: null, kv_channels: null }).model;
  assert.equal(m.num_experts, 0);
  assert.equal(m.kv_channels, 128);
});

test('MLA fields at their defaults are accepted without MLA (a resolved job read back)', () => {
  const m = load({ ...base, q_lora_rank: 0, kv_lora_rank: 512 }).model;
  assert.equal(m.multi_latent_attention, false);
});

test('model rules', () => {
  assert.equal(
    messageOf(() => load({ ...base, multi_latent_attention: true, num_query_groups: 2 })),
    'job.yaml: model.num_query_groups: must equal num_attention_heads (8) with multi_latent_attention, which has no query groups (got 2)',
  );
  assert.equal(
    messageOf(() => load({ ...base, num_experts: 8, moe_router_topk: 1 })),
    'job.yaml: model.moe_router_topk: is 1 with softmax scoring: Megatron then requires moe_router_pre_softmax: true',
  );
  assert.equal(load({ ...base, num_experts: 8, moe_router_topk: 1, moe_router_pre_softmax: true }).model.moe_router_topk, 1);
  assert.equal(
    messageOf(() => load({ ...base, num_experts: 12, moe_router_score_function: 'sigmoid', moe_router_num_groups: 8, moe_router_group_topk: 2 })),
    'job.yaml: model.moe_router_num_groups: must divide num_experts (12) (got 8)',
  );
  assert.equal(
    messageOf(() => load({ ...base, num_experts: 16, moe_router_group_topk: 2 })),
    'job.yaml: model.moe_router_num_groups: must be set (> 0) when moe_router_group_topk is set',
  );
  assert.equal(
    messageOf(() => load({ ...base, normalization: 'rmsnorm' })),
    'job.yaml: model.normalization: must be one of RMSNorm, LayerNorm (got "rmsnorm")',
  );
  assert.equal(messageOf(() => load({ ...base, swiglu: 'yes' })), 'job.yaml: model.swiglu: must be true or false (got "yes")');
  assert.equal(
    messageOf(() => load({ ...base, moe_aux_loss_coeff: -1 })),
    'job.yaml: model.moe_aux_loss_coeff: must be a number >= 0 (got -1)',
  );
});

test('did-you-mean for misspelt and foreign field names', () => {
  assert.equal(messageOf(() => load({ ...base, 'num-experts': 8 })), 'job.yaml: model.num-experts: unknown field (did you mean num_experts?)');
  assert.equal(
    messageOf(() => load({ ...base, num_local_experts: 8 })),
    'job.yaml: model.num_local_experts: unknown field (did you mean num_experts?)',
  );
  assert.equal(messageOf(() => load({ ...base, hidden: 8 })), 'job.yaml: model.hidden: unknown field (did you mean hidden_size?)');
  assert.equal(
    messageOf(() => load({ ...base, flux_capacitor: 1 })),
    'job.yaml: model.flux_capacitor: unknown field (model fields are Megatron-LM argument names such as num_layers, hidden_size, num_experts)',
  );
  assert.equal(
    messageOf(() => load(base, { seq_len: 8192 })),
    'job.yaml: training.seq_len: unknown field (did you mean seq_length?)',
  );
  assert.equal(
    messageOf(() => jobFromObject({ model: base, trainig: {} }, 'job.yaml', {}, opts)),
    'job.yaml: trainig: unknown top-level field (did you mean training?)',
  );
});
