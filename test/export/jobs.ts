/**
 * Job and plan literals for the export tests (self-contained: no fixture files, no /work/shared).
 * Mixtral 8x22B on 128 H100: TP2 PP8 VPP7 EP8 ETP1 (the model-zoo layout). DeepSeek-V3 on 1024 H100: TP1 PP16
 * EP64 ETP1, first/last stage 4/1 layers, flex (DeepEP) dispatcher.
 */
import type { Plan } from '../../src/enumerate/plan.js';
import { modelShape } from '../../src/spec/shape.js';
import type { Job, ModelShape, ModelSpec } from '../../src/spec/types.js';

const BASE_MODEL: ModelSpec = {
  name: 'model',
  num_layers: 1,
  hidden_size: 1024,
  num_attention_heads: 8,
  num_query_groups: 8,
  kv_channels: 128,
  ffn_hidden_size: 4096,
  vocab_size: 32000,
  make_vocab_size_divisible_by: 128,
  max_position_embeddings: 4096,
  swiglu: true,
  untie_embeddings_and_output_weights: true,
  normalization: 'RMSNorm',
  position_embedding_type: 'rope',
  add_qkv_bias: false,
  qk_layernorm: false,
  num_experts: 0,
  moe_router_topk: 2,
  moe_ffn_hidden_size: 4096,
  moe_shared_expert_intermediate_size: 0,
  moe_layer_freq: 1,
  moe_router_score_function: 'softmax',
  moe_router_pre_softmax: false,
  moe_router_num_groups: 0,
  moe_router_group_topk: 0,
  moe_router_topk_scaling_factor: 0,
  moe_router_enable_expert_bias: false,
  moe_router_load_balancing_type: 'aux_loss',
  moe_aux_loss_coeff: 0,
  multi_latent_attention: false,
  q_lora_rank: 0,
  kv_lora_rank: 512,
  qk_head_dim: 128,
  qk_pos_emb_head_dim: 64,
  v_head_dim: 128,
  mtp_num_layers: 0,
};

export function mixtralJob(): Job {
  return {
    source: 'test/mixtral-8x22b.yaml',
    model: {
      ...BASE_MODEL,
      name: 'Mixtral-8x22B',
      num_layers: 56,
      hidden_size: 6144,
      num_attention_heads: 48,
      num_query_groups: 8,
      kv_channels: 128,
      ffn_hidden_size: 16384,
      vocab_size: 32768,
      max_position_embeddings: 65536,
      num_experts: 8,
      moe_router_topk: 2,
      moe_ffn_hidden_size: 16384,
      moe_aux_loss_coeff: 0.01,
    },
    training: { seq_length: 4096, global_batch_size: 256, precision: 'bf16' },
    cluster: { gpu: 'h100-sxm', gpus: 128, gpus_per_node: 8 },
  };
}

export function mixtralPlan(): Plan {
  return {
    tp: 2, cp: 1, dp: 8, pp: 8, vpp: 7, ep: 8, etp: 1, edp: 2,
    firstStageLayers: 7, lastStageLayers: 7,
    microBatchSize: 1, numMicroBatches: 32,
    recompute: 'none', dispatcher: 'alltoall',
    sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
  };
}

export function deepseekJob(): Job {
  return {
    source: 'test/deepseek-v3.yaml',
    model: {
      ...BASE_MODEL,
      name: 'DeepSeek-V3',
      num_layers: 61,
      hidden_size: 7168,
      num_attention_heads: 128,
      num_query_groups: 128,
      kv_channels: 128,
      ffn_hidden_size: 18432,
      vocab_size: 129280,
      max_position_embeddings: 163840,
      qk_layernorm: true,
      multi_latent_attention: true,
      q_lora_rank: 1536,
      kv_lora_rank: 512,
      qk_head_dim: 128,
      qk_pos_emb_head_dim: 64,
      v_head_dim: 128,
      num_experts: 256,
      moe_router_topk: 8,
      moe_ffn_hidden_size: 2048,
      moe_shared_expert_intermediate_size: 2048,
      moe_layer_freq: [0, 0, 0, ...new Array<number>(58).fill(1)],
      moe_router_score_function: 'sigmoid',
      moe_router_enable_expert_bias: true,
      moe_router_num_groups: 8,
      moe_router_group_topk: 4,
      moe_router_topk_scaling_factor: 2.5,
      moe_router_load_balancing_type: 'seq_aux_loss',
      moe_aux_loss_coeff: 0.0001,
      mtp_num_layers: 1,
    },
    training: { seq_length: 4096, global_batch_size: 8192, precision: 'fp8' },
    cluster: { gpu: 'h100-sxm', gpus: 1024, gpus_per_node: 8 },
  };
}

export function deepseekPlan(): Plan {
  return {
    tp: 1, cp: 1, dp: 64, pp: 16, vpp: 1, ep: 64, etp: 1, edp: 1,
    firstStageLayers: 4, lastStageLayers: 1,
    microBatchSize: 1, numMicroBatches: 128,
    recompute: 'selective', dispatcher: 'flex',
    sequenceParallel: false, distributedOptimizer: true, precision: 'fp8',
  };
}

/** A small dense job (Llama-style) for rules that need a dense model: 8 layers, 16 GPUs. */
export function denseJob(): Job {
  return {
    source: 'test/dense.yaml',
    model: { ...BASE_MODEL, name: 'Dense-1B', num_layers: 8, hidden_size: 2048, num_attention_heads: 16, num_query_groups: 4, ffn_hidden_size: 8192 },
    training: { seq_length: 4096, global_batch_size: 64, precision: 'bf16' },
    cluster: { gpu: 'h100-sxm', gpus: 16, gpus_per_node: 8 },
  };
}

export function densePlan(): Plan {
  return {
    tp: 2, cp: 1, dp: 4, pp: 2, vpp: 1, ep: 1, etp: 2, edp: 4,
    firstStageLayers: 4, lastStageLayers: 4,
    microBatchSize: 1, numMicroBatches: 16,
    recompute: 'none', dispatcher: 'alltoall',
    sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
  };
}

export function shapeOf(job: Job): ModelShape {
  return modelShape(job.model);
}

export interface Case {
  name: string;
  job: Job;
  plan: Plan;
}

export const GOLDEN_CASES: readonly Case[] = [
  { name: 'mixtral-8x22b', job: mixtralJob(), plan: mixtralPlan() },
  { name: 'deepseek-v3', job: deepseekJob(), plan: deepseekPlan() },
];
