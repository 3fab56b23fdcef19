/**
 * The fields a job file may hold, one table per section, with the values each accepts. The JSON Schemas
 * (schema.ts) and the "what is allowed" part of every error message are both built from these tables, so
 * the two never disagree.
 */

export type FieldRule =
  | { kind: 'int'; min: number }
  | { kind: 'number'; min: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'text' }
  | { kind: 'name' }
  | { kind: 'layerFreq' };

const int = (min: number): FieldRule => ({ kind: 'int', min });
const num = (min: number): FieldRule => ({ kind: 'number', min });
const bool: FieldRule = { kind: 'bool' };
const oneOf = (...values: string[]): FieldRule => ({ kind: 'enum', values });

/** Model fields: Megatron-LM's argument names (the `--kebab-case` flag with `_` for `-`). */
export const MODEL_FIELDS: Readonly<Record<string, FieldRule>> = {
  name: { kind: 'text' },
  num_layers: int(1),
  hidden_size: int(1),
  num_attention_heads: int(1),
  num_query_groups: int(1),
  kv_channels: int(1),
  ffn_hidden_size: int(1),
  vocab_size: int(1),
  make_vocab_size_divisible_by: int(1),
  max_position_embeddings: int(1),
  swiglu: bool,
  untie_embeddings_and_output_weights: bool,
  normalization: oneOf('RMSNorm', 'LayerNorm'),
  position_embedding_type: oneOf('rope', 'learned_absolute', 'none'),
  add_qkv_bias: bool,
  qk_layernorm: bool,
  num_experts: int(0),
  moe_router_topk: int(1),
  moe_ffn_hidden_size: int(1),
  moe_shared_expert_intermediate_size: int(0),
  moe_layer_freq: { kind: 'layerFreq' },
  moe_router_score_function: oneOf('softmax', 'sigmoid'),
  moe_router_pre_softmax: bool,
  moe_router_num_groups: int(0),
  moe_router_group_topk: int(0),
  moe_router_topk_scaling_factor: num(0),
  moe_router_enable_expert_bias: bool,
  moe_router_load_balancing_type: oneOf('aux_loss', 'seq_aux_loss', 'global_aux_loss', 'sinkhorn', 'none'),
  moe_aux_loss_coeff: num(0),
  multi_latent_attention: bool,
  q_lora_rank: int(0),
  kv_lora_rank: int(1),
  qk_head_dim: int(1),
  qk_pos_emb_head_dim: int(0),
  v_head_dim: int(1),
  mtp_num_layers: int(0),
};

/** Megatron requires these (the tokenizer gives vocab_size in Megatron; here it must be written). */
export const MODEL_REQUIRED = ['num_layers', 'hidden_size', 'num_attention_heads', 'vocab_size'] as const;

/** Multi-latent-attention fields: only meaningful with `multi_latent_attention: true`. */
export const MLA_FIELDS = ['q_lora_rank', 'kv_lora_rank', 'qk_head_dim', 'qk_pos_emb_head_dim', 'v_head_dim'] as const;

export const TRAINING_FIELDS: Readonly<Record<string, FieldRule>> = {
  seq_length: int(1),
  global_batch_size: int(1),
  precision: oneOf('bf16', 'fp8'),
};

export const CLUSTER_FIELDS: Readonly<Record<string, FieldRule>> = {
  gpu: { kind: 'name' },
  gpus: int(1),
  gpus_per_node: int(1),
};

/** Keys a job file may hold at top level besides (flat form) the model fields. */
export const SECTION_KEYS = ['model', 'training', 'cluster'] as const;

/** Words for "what is allowed", as used in `must be <allowed> (got <value>)`. */
export function allowedText(rule: FieldRule): string {
  switch (rule.kind) {
    case 'int':
      return `an integer >= ${rule.min}`;
    case 'number':
      return `a number >= ${rule.min}`;
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${rule.values.join(', ')}`;
    case 'text':
      return 'a non-empty one-line string';
    case 'name':
      return 'a name made of letters, digits, ., _ and -';
    case 'layerFreq':
      return 'an integer >= 1, a list of 0/1 with one entry per layer, or an expression like "([0]*3+[1]*58)"';
  }
}

/** A value as the user wrote it, for the `(got …)` part of a message. */
export function gotText(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length <= 8 ? `[${value.map(gotText).join(', ')}]` : `a list of ${value.length}`;
  return 'a mapping';
}
