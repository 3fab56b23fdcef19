/**
 * The job: what to plan for. Model fields carry Megatron-LM's own argument names (snake_case) so users can
 * copy them from launch scripts; every default is resolved by the loader, so downstream code never sees
 * `undefined` here.
 */
import type { RopeScaling } from './rope.js';
import type { FinetuneSpec } from './finetune.js';

export type { RopeScaling } from './rope.js';
export type Precision = 'bf16' | 'fp8';
export type Recompute = 'none' | 'selective' | 'full';
export type Dispatcher = 'alltoall' | 'allgather' | 'flex';

export interface ModelSpec {
  name: string;
  num_layers: number;
  hidden_size: number;
  num_attention_heads: number;
  /** = num_attention_heads when the model has no GQA. */
  num_query_groups: number;
  /** Head dimension; default hidden_size / num_attention_heads. */
  kv_channels: number;
  ffn_hidden_size: number;
  vocab_size: number;
  /** Megatron pads the vocabulary to a multiple of this × TP (default 128). */
  make_vocab_size_divisible_by: number;
  /** Default max(seq_length, 4096) is resolved by the loader against training.seq_length. */
  max_position_embeddings: number;
  swiglu: boolean;
  untie_embeddings_and_output_weights: boolean;
  normalization: 'RMSNorm' | 'LayerNorm';
  position_embedding_type: 'rope' | 'learned_absolute' | 'none';
  add_qkv_bias: boolean;
  /** Biases in every linear layer (QKV, output projection, MLP and expert FC1/FC2); Megatron's default is true
   * (--disable-bias-linear turns it off), moefold's false (the models it plans are bias-free). */
  add_bias_linear: boolean;
  qk_layernorm: boolean;
  /** Attention softmax: vanilla, off-by-one (fixed sink) or learnable (one learned sink logit per head, GPT-OSS). */
  softmax_type: 'vanilla' | 'off-by-one' | 'learnable';
  /** Sliding-window attention: the left window in tokens (right window 0); 0 = full causal attention. */
  window_size: number;
  /** Which layers the window applies to (window-attention.ts): int N (1-based layer n windowed iff n % N != 0),
   * a 0/1 list (1 = windowed), or 0 = every layer. */
  window_attn_skip_freq: number | number[];
  /** 0 = dense model. */
  num_experts: number;
  moe_router_topk: number;
  moe_ffn_hidden_size: number;
  /** 0 = no shared expert. */
  moe_shared_expert_intermediate_size: number;
  /** Int N (layer i is MoE iff i % N == 0) or an explicit 0/1 list of length num_layers. */
  moe_layer_freq: number | number[];
  /** Router options, emitted as they are by the Megatron export. */
  moe_router_score_function: 'softmax' | 'sigmoid';
  moe_router_pre_softmax: boolean;
  moe_router_num_groups: number; // 0 = no group-limited routing
  moe_router_group_topk: number; // 0 = none
  moe_router_topk_scaling_factor: number; // 0 = unset
  moe_router_enable_expert_bias: boolean;
  moe_router_load_balancing_type: 'aux_loss' | 'seq_aux_loss' | 'global_aux_loss' | 'sinkhorn' | 'none';
  moe_aux_loss_coeff: number;
  multi_latent_attention: boolean;
  /** 0 = no q-LoRA (only meaningful with MLA). */
  q_lora_rank: number;
  kv_lora_rank: number;
  qk_head_dim: number;
  qk_pos_emb_head_dim: number;
  v_head_dim: number;
  /** Multi-token-prediction layers (DeepSeek-V3: 1); 0 = none. */
  mtp_num_layers: number;
  /** Rotary base (--rotary-base, an int in Megatron; default 10000). */
  rotary_base: number;
  /** Fraction of each head's dimensions that is rotated (--rotary-percent, (0, 1], default 1). */
  rotary_percent: number;
  /** Rotary scaling (rope.ts): Llama 3.x or YaRN, every setting filled in; null = none. */
  rope_scaling: RopeScaling | null;
  /** Epsilon of every LayerNorm/RMSNorm (--norm-epsilon, default 1e-5). */
  norm_epsilon: number;
  /** Standard deviation of the normal weight initialisation (--init-method-std, default 0.02). */
  init_method_std: number;
  /** A sigmoid gate (one hidden_size x 1 projection) on the shared expert's output (--moe-shared-expert-gate). */
  moe_shared_expert_gate: boolean;
}

/**
 * Software-stack facts of the run (src/job/stack.ts: allowed values, defaults, flags, cost terms). A null field
 * takes its default where the fact lives: the calibration, moefold's selective set, the GPU's FP8 recipe.
 */
export interface StackSpec {
  moe_router_force_load_balancing: boolean;
  /** null = dropless. */
  moe_expert_capacity_factor: number | null;
  /** max/mean tokens per expert; null = 1 + the calibration's routing imbalance (real or forced). */
  moe_routing_imbalance: number | null;
  grad_reduce_in_bf16: boolean;
  overlap_moe_expert_parallel_comm: boolean;
  delay_wgrad_compute: boolean;
  /** What `recompute: selective` means; null = selectiveRecomputeModules(model). */
  recompute_modules: string[] | null;
  cross_entropy_loss_fusion: boolean;
  cross_entropy_fusion_impl: 'native' | 'te';
  tp_comm_overlap: boolean;
  cuda_graph_impl: 'none' | 'local' | 'transformer_engine';
  cuda_graph_modules: string[];
  moe_permute_fusion: boolean;
  moe_router_fusion: boolean;
  /** null = blockwise on Hopper, mxfp8 on Blackwell. */
  fp8_recipe: 'tensorwise' | 'delayed' | 'mxfp8' | 'blockwise' | null;
  fp8_param_gather: boolean;
  moe_router_padding_for_fp8: boolean;
  moe_flex_dispatcher_backend: 'deepep' | 'hybridep';
  attention_dropout: number;
  hidden_dropout: number;
  manual_gc: boolean;
  manual_gc_interval: number;
  use_precision_aware_optimizer: boolean;
  main_params_dtype: 'fp32' | 'fp16';
  exp_avg_dtype: 'fp32' | 'fp16' | 'bf16' | 'fp8';
  exp_avg_sq_dtype: 'fp32' | 'fp16' | 'bf16' | 'fp8';
}

/** The run: its shape, the stack facts and the fine-tuning facts (finetune.ts). */
export interface TrainingSpec extends StackSpec, FinetuneSpec {
  seq_length: number;
  global_batch_size: number;
  precision: Precision;
}

export interface ClusterSpec {
  /**
   * The GPU's calibration: a file name of cost-models/ (without .yaml), or the path of a calibration file (as the
   * loader resolved it: relative to the job file for a job's field, as given for --gpu).
   */
  gpu: string;
  /**
   * Overlay files (`moefold calibrate` writes them) applied over `gpu`'s calibration in order; absent when none.
   * Paths as the loader resolved them.
   */
  calibrations?: string[];
  gpus: number;
  gpus_per_node: number;
  /**
   * GPUs that share one NVLink fabric (a rack-scale NVLink domain such as GB200 NVL72: whole nodes of
   * gpus_per_node); absent = gpus_per_node (each node its own domain). Read it through nvlinkDomainOf.
   */
  nvlink_domain?: number;
}

/** The cluster's NVLink domain size in GPUs: nvlink_domain, else one node. */
export function nvlinkDomainOf(c: Pick<ClusterSpec, 'gpus_per_node' | 'nvlink_domain'>): number {
  return c.nvlink_domain ?? c.gpus_per_node;
}

export interface Job {
  /** The file the job was read from (for error messages and reports). */
  source: string;
  model: ModelSpec;
  training: TrainingSpec;
  cluster: ClusterSpec;
}

/** Facts derived once per job from the model (never per candidate). */
export interface ModelShape {
  isMoe: boolean;
  /** 1 where layer i is an MoE layer, 0 where dense; length num_layers. */
  moeLayerMask: Uint8Array;
  numMoeLayers: number;
  numDenseLayers: number;
}
