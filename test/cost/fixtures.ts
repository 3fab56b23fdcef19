/** Fixture models, jobs and plans for the cost-model tests (built directly; no job files, no /work/shared). */
import type { Job, ModelSpec, Precision, Dispatcher, Recompute } from '../../src/spec/types.js';
import type { Plan } from '../../src/enumerate/plan.js';

export function baseModel(over: Partial<ModelSpec>): ModelSpec {
  const m: ModelSpec = {
    name: 'model', num_layers: 2, hidden_size: 1024, num_attention_heads: 8, num_query_groups: 8, kv_channels: 128,
    ffn_hidden_size: 4096, vocab_size: 32000, make_vocab_size_divisible_by: 128, max_position_embeddings: 4096,
    swiglu: true, untie_embeddings_and_output_weights: true, normalization: 'RMSNorm', position_embedding_type: 'rope',
    add_qkv_bias: false, qk_layernorm: false, num_experts: 0, moe_router_topk: 0, moe_ffn_hidden_size: 0,
    moe_shared_expert_intermediate_size: 0, moe_layer_freq: 1, moe_router_score_function: 'softmax',
    moe_router_pre_softmax: false, moe_router_num_groups: 0, moe_router_group_topk: 0,
    moe_router_topk_scaling_factor: 0, moe_router_enable_expert_bias: false, moe_router_load_balancing_type: 'aux_loss',
    moe_aux_loss_coeff: 0, multi_latent_attention: false, q_lora_rank: 0, kv_lora_rank: 0, qk_head_dim: 0,
    qk_pos_emb_head_dim: 0, v_head_dim: 0, mtp_num_layers: 0,
  };
  return { ...m, ...over };
}

export const MIXTRAL_8X22B = baseModel({
  name: 'mixtral-8x22b', num_layers: 56, hidden_size: 6144, num_attention_heads: 48, num_query_groups: 8,
  kv_channels: 128, ffn_hidden_size: 16384, vocab_size: 32768, num_experts: 8, moe_router_topk: 2,
  moe_ffn_hidden_size: 16384, moe_layer_freq: 1, moe_aux_loss_coeff: 0.001,
});

export const DEEPSEEK_V3 = baseModel({
  name: 'deepseek-v3', num_layers: 61, hidden_size: 7168, num_attention_heads: 128, num_query_groups: 128,
  kv_channels: 128, ffn_hidden_size: 18432, vocab_size: 129280, num_experts: 256, moe_router_topk: 8,
  moe_ffn_hidden_size: 2048, moe_shared_expert_intermediate_size: 2048,
  moe_layer_freq: [0, 0, 0, ...new Array(58).fill(1)], moe_router_score_function: 'sigmoid',
  moe_router_num_groups: 8, moe_router_group_topk: 4, moe_router_topk_scaling_factor: 2.5,
  moe_router_enable_expert_bias: true, moe_router_load_balancing_type: 'seq_aux_loss', moe_aux_loss_coeff: 0.0001,
  multi_latent_attention: true, q_lora_rank: 1536, kv_lora_rank: 512, qk_head_dim: 128, qk_pos_emb_head_dim: 64,
  v_head_dim: 128, mtp_num_layers: 1,
});

export const LLAMA3_70B = baseModel({
  name: 'llama3-70b', num_layers: 80, hidden_size: 8192, num_attention_heads: 64, num_query_groups: 8,
  kv_channels: 128, ffn_hidden_size: 28672, vocab_size: 128256,
});

export function job(model: ModelSpec, gpus: number, seq: number, gbs: number, precision: Precision = 'bf16'): Job {
  return {
    source: 'test', model,
    training: { seq_length: seq, global_batch_size: gbs, precision },
    cluster: { gpu: 'h100-sxm', gpus, gpus_per_node: 8 },
  };
}

export interface PlanArgs {
  tp: number; cp?: number; pp: number; vpp?: number; ep?: number; etp?: number; mbs?: number;
  first?: number; last?: number; recompute?: Recompute; dispatcher?: Dispatcher; precision?: Precision;
  distributedOptimizer?: boolean; sequenceParallel?: boolean;
}

/** A plan for `gpus` GPUs and `layers` layers, deriving dp / edp / micro-batches. */
export function plan(a: PlanArgs, gpus: number, layers: number, gbs: number): Plan {
  const cp = a.cp ?? 1;
  const ep = a.ep ?? 1;
  const etp = a.etp ?? 1;
  const mbs = a.mbs ?? 1;
  const dp = gpus / (a.tp * cp * a.pp);
  const even = layers / a.pp;
  return {
    tp: a.tp, cp, dp, pp: a.pp, vpp: a.vpp ?? 1, ep, etp, edp: gpus / (etp * ep * a.pp),
    firstStageLayers: a.first ?? even, lastStageLayers: a.last ?? even,
    microBatchSize: mbs, numMicroBatches: gbs / (mbs * dp),
    recompute: a.recompute ?? 'none', dispatcher: a.dispatcher ?? 'alltoall',
    sequenceParallel: a.sequenceParallel ?? a.tp > 1, distributedOptimizer: a.distributedOptimizer ?? true,
    precision: a.precision ?? 'bf16',
  };
}
