/**
 * The Hugging Face families moefold imports, and those it refuses: one row per family, stated once. The import
 * (hf-config.ts) finds a config's row by its `model_type`, else by `architectures[0]`. A config matching no row
 * is refused (an architecture without import rules is not guessed), and a supported one is refused too when it
 * holds a field of an architecture moefold cannot represent (Mamba, chunked or linear attention, sliding windows,
 * a dense residual MLP). A refused row says the feature moefold cannot represent; a
 * supported row lists the HF fields its import reads (a field not listed is not read, as the family's HF code
 * does not read it either, or it does not change the network's size or cost) and what is approximated.
 *
 * The README's list of supported and refused architectures is `familyListMarkdown()` of this table.
 */

export type FamilyId =
  | 'mixtral'
  | 'qwen2_moe'
  | 'qwen3_moe'
  | 'deepseek'
  | 'llama'
  | 'mistral'
  | 'qwen2'
  | 'qwen3'
  | 'olmoe'
  | 'glm4_moe'
  | 'dots1'
  | 'minimax_m2'
  | 'jamba'
  | 'arctic'
  | 'llama4'
  | 'gpt_oss'
  | 'qwen3_next'
  | 'minimax'
  | 'ernie4_5_moe';

export interface HfFamily {
  id: FamilyId;
  /** Name used in messages ("needed to import a Mixtral config"). */
  title: string;
  /** `model_type` values (lower case) of this family. */
  modelTypes: readonly string[];
  /** `architectures[0]` class names of this family. */
  architectures: readonly string[];
  supported: boolean;
  /** Refused: the feature moefold cannot represent (completes "not supported: …"). */
  reason?: string;
  /** Supported: the HF fields the import reads beyond the common ones (COMMON_FIELDS). */
  reads?: readonly string[];
  /** Supported: what is planned approximately or refused within the family, in words. */
  notes?: string;
}

/** Read for every supported family. */
export const COMMON_FIELDS = [
  'num_hidden_layers',
  'hidden_size',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'intermediate_size',
  'vocab_size',
  'max_position_embeddings',
  'tie_word_embeddings',
  'attention_bias',
  'layer_types',
  'rope_theta',
  'rope_scaling',
  'rms_norm_eps',
  'initializer_range',
  'attention_dropout',
] as const;

export const HF_FAMILIES: readonly HfFamily[] = [
  {
    id: 'mixtral',
    title: 'Mixtral',
    modelTypes: ['mixtral'],
    architectures: ['MixtralForCausalLM'],
    supported: true,
    reads: ['num_local_experts', 'num_experts_per_tok', 'sliding_window', 'router_aux_loss_coef'],
    notes: 'softmax router, top-k renormalised; every layer MoE; a set sliding_window is refused',
  },
  {
    id: 'qwen2_moe',
    title: 'Qwen2-MoE',
    modelTypes: ['qwen2_moe'],
    architectures: ['Qwen2MoeForCausalLM'],
    supported: true,
    reads: [
      'num_experts', 'num_experts_per_tok', 'moe_intermediate_size', 'shared_expert_intermediate_size',
      'decoder_sparse_step', 'mlp_only_layers', 'norm_topk_prob', 'use_sliding_window', 'sliding_window',
      'max_window_layers', 'router_aux_loss_coef',
    ],
    notes:
      'qkv bias unless attention_bias says otherwise; the shared expert\'s sigmoid gate is moe_shared_expert_gate; ' +
      'sliding-window layers (use_sliding_window) are refused',
  },
  {
    id: 'qwen3_moe',
    title: 'Qwen3-MoE',
    modelTypes: ['qwen3_moe'],
    architectures: ['Qwen3MoeForCausalLM'],
    supported: true,
    reads: [
      'num_experts', 'num_experts_per_tok', 'moe_intermediate_size', 'decoder_sparse_step', 'mlp_only_layers',
      'norm_topk_prob', 'use_sliding_window', 'sliding_window', 'max_window_layers', 'router_aux_loss_coef',
    ],
    notes: 'per-head q/k RMSNorm; sliding-window layers (use_sliding_window) are refused',
  },
  {
    id: 'deepseek',
    title: 'DeepSeek',
    modelTypes: ['deepseek_v2', 'deepseek_v3'],
    architectures: ['DeepseekV2ForCausalLM', 'DeepseekV3ForCausalLM'],
    supported: true,
    reads: [
      'n_routed_experts', 'n_shared_experts', 'num_experts_per_tok', 'moe_intermediate_size',
      'first_k_dense_replace', 'moe_layer_freq', 'kv_lora_rank', 'q_lora_rank', 'qk_nope_head_dim',
      'qk_rope_head_dim', 'v_head_dim', 'scoring_func', 'topk_method', 'norm_topk_prob', 'n_group', 'topk_group',
      'routed_scaling_factor', 'num_nextn_predict_layers', 'aux_loss_alpha', 'seq_aux',
    ],
    notes:
      'MLA; topk_method noaux_tc is the expert bias; aux_loss_alpha is the load-balancing coefficient, per sequence ' +
      'with seq_aux; YaRN rope_scaling other than original 4096 / beta_fast 32 / beta_slow 1 is refused (Megatron\'s ' +
      'MLA fixes them); sigmoid scoring without norm_topk_prob is refused',
  },
  {
    id: 'llama',
    title: 'Llama',
    modelTypes: ['llama'],
    architectures: ['LlamaForCausalLM'],
    supported: true,
    reads: [],
    notes: 'dense',
  },
  {
    id: 'mistral',
    title: 'Mistral',
    modelTypes: ['mistral'],
    architectures: ['MistralForCausalLM'],
    supported: true,
    reads: ['sliding_window'],
    notes: 'dense; a set sliding_window (Mistral-7B-v0.1) is refused',
  },
  {
    id: 'qwen2',
    title: 'Qwen2',
    modelTypes: ['qwen2'],
    architectures: ['Qwen2ForCausalLM'],
    supported: true,
    reads: ['use_sliding_window', 'sliding_window', 'max_window_layers'],
    notes: 'dense; qkv bias; sliding-window layers (use_sliding_window) are refused',
  },
  {
    id: 'qwen3',
    title: 'Qwen3',
    modelTypes: ['qwen3'],
    architectures: ['Qwen3ForCausalLM'],
    supported: true,
    reads: ['use_sliding_window', 'sliding_window', 'max_window_layers'],
    notes: 'dense; per-head q/k RMSNorm; sliding-window layers (use_sliding_window) are refused',
  },
  {
    id: 'olmoe',
    title: 'OLMoE',
    modelTypes: ['olmoe'],
    architectures: ['OlmoeForCausalLM'],
    supported: true,
    reads: ['num_experts', 'num_experts_per_tok', 'norm_topk_prob', 'router_aux_loss_coef'],
    notes:
      'every layer MoE, expert size intermediate_size; its q/k RMSNorm spans the whole projection and is ' +
      'planned as per-head qk_layernorm (same cost, under 0.01% of the parameters)',
  },
  {
    id: 'glm4_moe',
    title: 'GLM-4-MoE',
    modelTypes: ['glm4_moe'],
    architectures: ['Glm4MoeForCausalLM'],
    supported: true,
    reads: [
      'n_routed_experts', 'n_shared_experts', 'num_experts_per_tok', 'moe_intermediate_size',
      'first_k_dense_replace', 'norm_topk_prob', 'n_group', 'topk_group', 'routed_scaling_factor', 'use_qk_norm',
      'num_nextn_predict_layers', 'partial_rotary_factor',
    ],
    notes:
      'sigmoid router with expert bias (e_score_correction_bias); partial rotary (partial_rotary_factor, default ' +
      '0.5) is rotary_percent',
  },
  {
    id: 'dots1',
    title: 'dots1',
    modelTypes: ['dots1'],
    architectures: ['Dots1ForCausalLM'],
    supported: true,
    reads: [
      'n_routed_experts', 'n_shared_experts', 'num_experts_per_tok', 'moe_intermediate_size',
      'first_k_dense_replace', 'norm_topk_prob', 'n_group', 'topk_group', 'routed_scaling_factor',
      'sliding_window', 'max_window_layers',
    ],
    notes: 'sigmoid router with expert bias; per-head q/k RMSNorm; sliding-window layers are refused',
  },
  {
    id: 'minimax_m2',
    title: 'MiniMax-M2',
    modelTypes: ['minimax_m2'],
    architectures: ['MiniMaxM2ForCausalLM'],
    supported: true,
    reads: ['num_local_experts', 'num_experts_per_tok', 'attn_type_list', 'rotary_dim', 'router_aux_loss_coef'],
    notes:
      'sigmoid router with expert bias, top-k renormalised; every layer MoE, expert size intermediate_size; its ' +
      'q/k RMSNorm spans the whole projection and is planned as per-head qk_layernorm; partial rotary ' +
      '(rotary_dim / head_dim) is rotary_percent',
  },
  {
    id: 'jamba',
    title: 'Jamba',
    modelTypes: ['jamba'],
    architectures: ['JambaForCausalLM'],
    supported: false,
    reason: 'Mamba (state-space) layers cannot be represented',
  },
  {
    id: 'arctic',
    title: 'Arctic',
    modelTypes: ['arctic'],
    architectures: ['ArcticForCausalLM'],
    supported: false,
    reason: 'the dense residual MLP beside each MoE layer cannot be represented',
  },
  {
    id: 'llama4',
    title: 'Llama 4',
    modelTypes: ['llama4', 'llama4_text'],
    architectures: ['Llama4ForConditionalGeneration', 'Llama4ForCausalLM'],
    supported: false,
    reason: 'chunked local attention with interleaved NoPE layers cannot be represented',
  },
  {
    id: 'gpt_oss',
    title: 'GPT-OSS',
    modelTypes: ['gpt_oss'],
    architectures: ['GptOssForCausalLM'],
    supported: false,
    reason: 'attention sinks and alternating sliding-window attention cannot be represented',
  },
  {
    id: 'qwen3_next',
    title: 'Qwen3-Next',
    modelTypes: ['qwen3_next'],
    architectures: ['Qwen3NextForCausalLM'],
    supported: false,
    reason: 'linear-attention (gated DeltaNet) layers cannot be represented',
  },
  {
    id: 'minimax',
    title: 'MiniMax-Text',
    modelTypes: ['minimax', 'minimax_text_01'],
    architectures: ['MiniMaxForCausalLM', 'MiniMaxText01ForCausalLM'],
    supported: false,
    reason: 'lightning (linear) attention layers cannot be represented',
  },
  {
    id: 'ernie4_5_moe',
    title: 'ERNIE-4.5-MoE',
    modelTypes: ['ernie4_5_moe'],
    architectures: ['Ernie4_5_MoeForCausalLM'],
    supported: false,
    reason: 'a softmax router with an expert-bias correction cannot be represented (Megatron\'s expert bias needs sigmoid)',
  },
];

/**
 * The row for a config: by model_type; by architectures[0] only when the config has no model_type (an unknown
 * model_type is not looked up by its class name). A refused row wins when the two name different families.
 */
export function findFamily(modelType: string, arch: string): HfFamily | undefined {
  const byType = modelType ? HF_FAMILIES.find((f) => f.modelTypes.includes(modelType)) : undefined;
  const byArch = arch ? HF_FAMILIES.find((f) => f.architectures.includes(arch)) : undefined;
  if (byArch && !byArch.supported && byType?.supported !== false) return byArch;
  return modelType ? byType : byArch;
}

/** The supported model types, for "(supported: …)". */
export function supportedModelTypes(): string[] {
  return HF_FAMILIES.filter((f) => f.supported).flatMap((f) => f.modelTypes);
}

/** The README list: one line per family. */
export function familyListMarkdown(): string {
  const code = (xs: readonly string[]): string => xs.map((x) => `\`${x}\``).join(', ');
  const lines = ['Supported (`model_type`):'];
  for (const f of HF_FAMILIES.filter((x) => x.supported)) lines.push(`- ${f.title} (${code(f.modelTypes)}): ${f.notes ?? ''}`);
  lines.push('', 'Refused, with one line naming the architecture and the feature:');
  for (const f of HF_FAMILIES.filter((x) => !x.supported)) lines.push(`- ${f.title} (${code(f.modelTypes)}): ${f.reason ?? ''}`);
  lines.push(
    '',
    'Any other `model_type` is refused (moefold has no import rules for it), and a supported one is refused when its '
      + 'config holds a field of an architecture moefold cannot represent (Mamba layers, chunked or linear attention, '
      + 'sliding windows, non-full layer_types, a dense residual MLP), or a `rope_scaling` Megatron-LM cannot express '
      + '(anything but `llama3` with Megatron\'s fixed low/high frequency factors and 8192 original context, or `yarn`).',
  );
  return lines.join('\n');
}
