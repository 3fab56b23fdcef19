/**
 * Job objects for the enumerator's tests and benchmark, built directly (no loader). Architecture values follow
 * the Megatron-MoE-ModelZoo arguments (reference megatron.md §4.3) and the models' published configs; fields the
 * zoo leaves unset take Megatron-LM's defaults.
 */
import type { Job, ModelShape, ModelSpec, Precision } from '../../src/spec/types.js';
import { modelShape } from '../../src/spec/shape.js';

export const MIXTRAL_8X22B: ModelSpec = {
  name: 'mixtral-8x22b',
  num_layers: 56, hidden_size: 6144, num_attention_heads: 48, num_query_groups: 8, kv_channels: 128,
  ffn_hidden_size: 16384, vocab_size: 32000, make_vocab_size_divisible_by: 128, max_position_embeddings: 65536,
  swiglu: true, untie_embeddings_and_output_weights: true, normalization: 'RMSNorm', position_embedding_type: 'rope',
  add_qkv_bias: false, qk_layernorm: false,
  num_experts: 8, moe_router_topk: 2, moe_ffn_hidden_size: 16384, moe_shared_expert_intermediate_size: 0,
  moe_layer_freq: 1, moe_router_score_function: 'softmax', moe_router_pre_softmax: false,
  moe_router_num_groups: 0, moe_router_group_topk: 0, moe_router_topk_scaling_factor: 0,
  moe_router_enable_expert_bias: false, moe_router_load_balancing_type: 'aux_loss', moe_aux_loss_coeff: 0.01,
  multi_latent_attention: false, q_lora_rank: 0, kv_lora_rank: 32, qk_head_dim: 128, qk_pos_emb_head_dim: 64,
  v_head_dim: 128, mtp_num_layers: 0,
};

/** First 3 layers dense, 58 MoE (`--moe-layer-freq "([0]*3+[1]*58)"`). */
export const DEEPSEEK_V3: ModelSpec = {
  name: 'deepseek-v3',
  num_layers: 61, hidden_size: 7168, num_attention_heads: 128, num_query_groups: 128, kv_channels: 56,
  ffn_hidden_size: 18432, vocab_size: 129280, make_vocab_size_divisible_by: 128, max_position_embeddings: 163840,
  swiglu: true, untie_embeddings_and_output_weights: true, normalization: 'RMSNorm', position_embedding_type: 'rope',
  add_qkv_bias: false, qk_layernorm: true,
  num_experts: 256, moe_router_topk: 8, moe_ffn_hidden_size: 2048, moe_shared_expert_intermediate_size: 2048,
  moe_layer_freq: [0, 0, 0, ...new Array<number>(58).fill(1)], moe_router_score_function: 'sigmoid',
  moe_router_pre_softmax: true, moe_router_num_groups: 8, moe_router_group_topk: 4,
  moe_router_topk_scaling_factor: 2.5, moe_router_enable_expert_bias: true,
  moe_router_load_balancing_type: 'seq_aux_loss', moe_aux_loss_coeff: 0.0001,
  multi_latent_attention: true, q_lora_rank: 1536, kv_lora_rank: 512, qk_head_dim: 128, qk_pos_emb_head_dim: 64,
  v_head_dim: 128, mtp_num_layers: 1,
};

export const QWEN3_30B_A3B: ModelSpec = {
  name: 'qwen3-30b-a3b',
  num_layers: 48, hidden_size: 2048, num_attention_heads: 32, num_query_groups: 4, kv_channels: 128,
  ffn_hidden_size: 6144, vocab_size: 151936, make_vocab_size_divisible_by: 128, max_position_embeddings: 40960,
  swiglu: true, untie_embeddings_and_output_weights: true, normalization: 'RMSNorm', position_embedding_type: 'rope',
  add_qkv_bias: false, qk_layernorm: true,
  num_experts: 128, moe_router_topk: 8, moe_ffn_hidden_size: 768, moe_shared_expert_intermediate_size: 0,
  moe_layer_freq: 1, moe_router_score_function: 'softmax', moe_router_pre_softmax: false,
  moe_router_num_groups: 0, moe_router_group_topk: 0, moe_router_topk_scaling_factor: 0,
  moe_router_enable_expert_bias: false, moe_router_load_balancing_type: 'aux_loss', moe_aux_loss_coeff: 0.001,
  multi_latent_attention: false, q_lora_rank: 0, kv_lora_rank: 32, qk_head_dim: 128, qk_pos_emb_head_dim: 64,
  v_head_dim: 128, mtp_num_layers: 0,
};

/** Dense: num_experts 0 (MoE fields keep Megatron's defaults and are unused). */
export const LLAMA3_70B: ModelSpec = {
  name: 'llama3-70b',
  num_layers: 80, hidden_size: 8192, num_attention_heads: 64, num_query_groups: 8, kv_channels: 128,
  ffn_hidden_size: 28672, vocab_size: 128256, make_vocab_size_divisible_by: 128, max_position_embeddings: 8192,
  swiglu: true, untie_embeddings_and_output_weights: true, normalization: 'RMSNorm', position_embedding_type: 'rope',
  add_qkv_bias: false, qk_layernorm: false,
  num_experts: 0, moe_router_topk: 2, moe_ffn_hidden_size: 28672, moe_shared_expert_intermediate_size: 0,
  moe_layer_freq: 1, moe_router_score_function: 'softmax', moe_router_pre_softmax: false,
  moe_router_num_groups: 0, moe_router_group_topk: 0, moe_router_topk_scaling_factor: 0,
  moe_router_enable_expert_bias: false, moe_router_load_balancing_type: 'aux_loss', moe_aux_loss_coeff: 0,
  multi_latent_attention: false, q_lora_rank: 0, kv_lora_rank: 32, qk_head_dim: 128, qk_pos_emb_head_dim: 64,
  v_head_dim: 128, mtp_num_layers: 0,
};

/** A small made-up MoE model for rule edge cases: 8 layers, all MoE, 8 heads, 8 experts. Override fields as needed. */
export const TINY_MOE: ModelSpec = {
  name: 'tiny-moe',
  num_layers: 8, hidden_size: 512, num_attention_heads: 8, num_query_groups: 8, kv_channels: 64,
  ffn_hidden_size: 1024, vocab_size: 1000, make_vocab_size_divisible_by: 128, max_position_embeddings: 4096,
  swiglu: true, untie_embeddings_and_output_weights: true, normalization: 'RMSNorm', position_embedding_type: 'rope',
  add_qkv_bias: false, qk_layernorm: false,
  num_experts: 8, moe_router_topk: 2, moe_ffn_hidden_size: 1024, moe_shared_expert_intermediate_size: 0,
  moe_layer_freq: 1, moe_router_score_function: 'softmax', moe_router_pre_softmax: false,
  moe_router_num_groups: 0, moe_router_group_topk: 0, moe_router_topk_scaling_factor: 0,
  moe_router_enable_expert_bias: false, moe_router_load_balancing_type: 'aux_loss', moe_aux_loss_coeff: 0.01,
  multi_latent_attention: false, q_lora_rank: 0, kv_lora_rank: 32, qk_head_dim: 128, qk_pos_emb_head_dim: 64,
  v_head_dim: 128, mtp_num_layers: 0,
};

/** A small made-up dense model: 6 layers, 12 heads in 4 query groups. */
export const TINY_DENSE: ModelSpec = {
  ...TINY_MOE,
  name: 'tiny-dense', num_layers: 6, hidden_size: 768, num_attention_heads: 12, num_query_groups: 4,
  ffn_hidden_size: 3072, num_experts: 0, moe_ffn_hidden_size: 3072,
};

export interface JobOptions {
  gpus: number;
  globalBatchSize: number;
  seqLength?: number;
  precision?: Precision;
  gpusPerNode?: number;
}

export function makeJob(model: ModelSpec, o: JobOptions): Job {
  return {
    source: `test:${model.name}`,
    model,
    training: { seq_length: o.seqLength ?? 4096, global_batch_size: o.globalBatchSize, precision: o.precision ?? 'bf16' },
    cluster: { gpu: 'h100-sxm', gpus: o.gpus, gpus_per_node: o.gpusPerNode ?? 8 },
  };
}

export function shapeOf(job: Job): ModelShape {
  return modelShape(job.model);
}

/** The published model-zoo runs (megatron.md §4.3). */
export const mixtralZooJob = () => makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 256 });
export const deepseekZooJob = () => makeJob(DEEPSEEK_V3, { gpus: 1024, globalBatchSize: 8192 });
export const qwen3ZooJob = () => makeJob(QWEN3_30B_A3B, { gpus: 32, globalBatchSize: 256 });
export const llamaJob = () => makeJob(LLAMA3_70B, { gpus: 64, globalBatchSize: 512 });
