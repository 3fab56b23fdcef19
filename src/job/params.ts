/**
 * Parameter counts as Megatron-LM counts them (training/theoretical_memory_usage.py; restated in
 * shared/reference/megatron.md §3.1), for reports and sanity checks:
 *   attention  A = 2·h²·(1 + g/a)·(d·a/h)   (MLA: q term + kv_lora·(h + a·(qk + v) + n) + h·qk_pos + a·v·h,
 *              q term = h·a·(qk + qk_pos) without q-LoRA, q_lora·(h + a·(qk + qk_pos) + n) with it)
 *   dense layer  2·h·(F·m + n) + A           m = 1.5 with swiglu else 1; n = 1 RMSNorm, 2 LayerNorm
 *   MoE layer    2·h·(F_e·E·m + F_s·m + n) + A + h·E (+ E with expert bias)   (router)
 *   embedding    h·V, twice when untied (V = vocab padded to make_vocab_size_divisible_by, TP = 1); final norm n·h
 *   MTP layers   like the last decoder layer (MoE iff the last moe_layer_freq entry is MoE).
 * "Active" replaces E by top-k in the routed-expert term. Like Megatron's count, it leaves out the q/k layernorms
 * and learned position embeddings (each well under 0.1 % for the fixtures). Unlike it, it counts the linear-layer
 * biases (add_bias_linear: QKV (a + 2g)·d + h per attention, F·m·… see linearBiasParams; add_qkv_bias: QKV only) and
 * learnable softmax sinks (a per layer), which Megatron's formula leaves out.
 */
import { modelShape } from './shape.js';
import type { ModelSpec } from './types.js';

export interface ParamCounts {
  /** All parameters Megatron holds for the model: embeddings, output layer (if untied), MTP layers. */
  total: number;
  /** Parameters one token passes through (top-k routed experts). */
  active: number;
  /** Of total: input embedding plus untied output layer. */
  embedding: number;
  /** Of total / active: the multi-token-prediction layers (0 without MTP). */
  mtpTotal: number;
  mtpActive: number;
}

/** Vocabulary padded as Megatron pads it: a multiple of make_vocab_size_divisible_by × TP (TP = 1 for counts). */
export function paddedVocabSize(model: ModelSpec, tp = 1): number {
  const multiple = model.make_vocab_size_divisible_by * tp;
  return Math.ceil(model.vocab_size / multiple) * multiple;
}

/** Parameters of one attention block (Megatron's formula). */
export function attentionParams(model: ModelSpec): number {
  const h = model.hidden_size;
  const a = model.num_attention_heads;
  const n = model.normalization === 'RMSNorm' ? 1 : 2;
  if (model.multi_latent_attention) {
    const qk = model.qk_head_dim;
    const qkPos = model.qk_pos_emb_head_dim;
    const v = model.v_head_dim;
    const qTerm = model.q_lora_rank === 0 ? h * a * (qk + qkPos) : model.q_lora_rank * (h + a * (qk + qkPos) + n);
    return qTerm + model.kv_lora_rank * (h + a * (qk + v) + n) + h * qkPos + a * v * h;
  }
  const d = model.kv_channels;
  const g = model.num_query_groups;
  return 2 * h * d * a + 2 * h * d * g; // = 2·h²·(1 + g/a)·(d·a/h)
}

/** Bias and sink parameters of one attention block (0 for a bias-free vanilla-softmax model). */
export function attentionExtraParams(model: ModelSpec): number {
  if (model.multi_latent_attention) return model.softmax_type === 'learnable' ? model.num_attention_heads : 0;
  const d = model.kv_channels;
  const qkv = (model.num_attention_heads + 2 * model.num_query_groups) * d;
  return (model.add_bias_linear || model.add_qkv_bias ? qkv : 0) + (model.add_bias_linear ? model.hidden_size : 0) +
    (model.softmax_type === 'learnable' ? model.num_attention_heads : 0);
}

/** Bias parameters of one MLP of width `ffn` (FC1: glu·F, FC2: h) under add_bias_linear. */
export function mlpBiasParams(model: ModelSpec, ffn: number): number {
  return model.add_bias_linear && ffn > 0 ? (model.swiglu ? 2 : 1) * ffn + model.hidden_size : 0;
}

/**
 * The shared expert's gate of one MoE layer: a (1, hidden_size) weight, replicated across TP (Megatron-Core
 * moe/shared_experts.py L137–143 at d98e8a6; theoretical_memory_usage.py L133–137 counts it the same way), only
 * with a shared expert.
 */
export function sharedExpertGateParams(model: ModelSpec): number {
  return model.moe_shared_expert_gate && model.moe_shared_expert_intermediate_size > 0 ? model.hidden_size : 0;
}

export function countParams(model: ModelSpec): ParamCounts {
  const h = model.hidden_size;
  const n = model.normalization === 'RMSNorm' ? 1 : 2;
  const m = model.swiglu ? 1.5 : 1;
  const attn = attentionParams(model) + attentionExtraParams(model);
  const shape = modelShape(model);
  const E = model.num_experts;

  const dense = 2 * h * (model.ffn_hidden_size * m + n) + attn + mlpBiasParams(model, model.ffn_hidden_size);
  const router = E > 0 ? h * E + (model.moe_router_enable_expert_bias ? E : 0) + sharedExpertGateParams(model) : 0;
  const moeFixed = 2 * h * (model.moe_shared_expert_intermediate_size * m + n) + attn + router;
  const expert = 2 * h * model.moe_ffn_hidden_size * m + mlpBiasParams(model, model.moe_ffn_hidden_size);
  const moeTotal = moeFixed + expert * E;
  const moeActive = moeFixed + expert * Math.min(model.moe_router_topk, E);

  const vocab = paddedVocabSize(model);
  const embedding = h * vocab * (model.untie_embeddings_and_output_weights ? 2 : 1);
  const finalNorm = n * h;

  const lastIsMoe = shape.isMoe && shape.moeLayerMask[model.num_layers - 1] === 1;
  const mtpTotal = model.mtp_num_layers * (lastIsMoe ? moeTotal : dense);
  const mtpActive = model.mtp_num_layers * (lastIsMoe ? moeActive : dense);

  const base = dense * shape.numDenseLayers + finalNorm + embedding;
  return {
    total: base + moeTotal * shape.numMoeLayers + mtpTotal,
    active: base + moeActive * shape.numMoeLayers + mtpActive,
    embedding,
    mtpTotal,
    mtpActive,
  };
}
