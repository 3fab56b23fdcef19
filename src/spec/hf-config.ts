/**
 * Hugging Face `config.json` → the model fields of a job (Megatron-LM names), ready for resolveModel.
 *
 * Families with their own rules: Mixtral, Qwen2-MoE, Qwen3-MoE, DeepSeek-V2/V3 (and configs built like them),
 * Llama and other dense Llama-like configs. Any other model_type is read by the same field names (a
 * "Llama-like" dense or MoE model); a field the import needs and does not find is an InputError naming it.
 *
 * What an HF config says and how it maps:
 * - num_hidden_layers, hidden_size, num_attention_heads, vocab_size → num_layers, hidden_size, … (required).
 * - num_key_value_heads → num_query_groups; head_dim → kv_channels; intermediate_size → ffn_hidden_size.
 * - experts: num_local_experts (Mixtral) | num_experts (Qwen) | n_routed_experts (DeepSeek); top-k:
 *   num_experts_per_tok; expert size: moe_intermediate_size, else intermediate_size (Mixtral).
 * - shared experts: shared_expert_intermediate_size (Qwen2-MoE), or n_shared_experts × moe_intermediate_size.
 * - MoE layers: Qwen's decoder_sparse_step / mlp_only_layers (layer i is MoE iff i is not in mlp_only_layers
 *   and (i+1) % decoder_sparse_step == 0); DeepSeek's first_k_dense_replace / moe_layer_freq (MoE iff
 *   i >= first_k_dense_replace and i % moe_layer_freq == 0). The mask becomes moe_layer_freq (int when it fits).
 * - MLA (when kv_lora_rank is present): q_lora_rank (null → 0), kv_lora_rank, qk_nope_head_dim → qk_head_dim,
 *   qk_rope_head_dim → qk_pos_emb_head_dim, v_head_dim; kv_channels = v_head_dim (as the model zoo's
 *   DeepSeek-V3 config); qk_layernorm true (the q/kv LoRA norms).
 * - router: scoring_func → score function; moe_router_pre_softmax = softmax scoring without norm_topk_prob
 *   (Qwen2-MoE, DeepSeek-V2 renormalise nothing; Mixtral, Qwen3 do); n_group/topk_group (when n_group > 1);
 *   routed_scaling_factor (when not 1); topk_method noaux_tc → expert bias; num_nextn_predict_layers → MTP.
 * - qkv bias: attention_bias, else true for Qwen2 families (their q/k/v projections always have biases);
 *   qk_layernorm true for Qwen3 families. tie_word_embeddings (default false) → untie = !tie.
 * - Every family here has a gated (SwiGLU-style) MLP, RMSNorm and rotary positions.
 * Training choices an HF config does not hold (load-balancing loss, vocab padding) keep the job defaults.
 */
import { inputError } from './errors.js';
import { LIMITS, excerpt, gotText } from './fields.js';
import { layerFreqFromMask } from './layer-freq.js';
import { hasBadNameChar, MAX_MODEL_NAME_LENGTH, MODEL_NAME_ALLOWED, nameExcerpt } from './resolve-model.js';

type Family = 'mixtral' | 'qwen2_moe' | 'qwen3_moe' | 'deepseek' | 'llama' | 'generic';

const FAMILY_TITLE: Readonly<Record<Family, string>> = {
  mixtral: 'Mixtral',
  qwen2_moe: 'Qwen2-MoE',
  qwen3_moe: 'Qwen3-MoE',
  deepseek: 'DeepSeek',
  llama: 'Llama',
  generic: '',
};

/** True for a Hugging Face config (HF field names), false for a moefold job (Megatron names). */
export function isHfConfig(obj: Record<string, unknown>): boolean {
  if ('model' in obj || 'num_layers' in obj) return false;
  return 'model_type' in obj || 'architectures' in obj || 'num_hidden_layers' in obj;
}

function familyOf(modelType: string, arch: string): Family {
  const t = modelType || arch.toLowerCase();
  if (t.startsWith('mixtral')) return 'mixtral';
  if (t.startsWith('qwen2_moe') || t.startsWith('qwen2moe')) return 'qwen2_moe';
  if (t.startsWith('qwen3_moe') || t.startsWith('qwen3moe')) return 'qwen3_moe';
  if (t.startsWith('deepseek')) return 'deepseek';
  if (t.startsWith('llama')) return 'llama';
  return 'generic';
}

export interface HfImport {
  /** Megatron-named model fields (only those the config determines). */
  model: Record<string, unknown>;
  /** Megatron field → the HF field it came from, so later messages name what the file holds. */
  labels: Record<string, string>;
  /** A model name from `_name_or_path` (its last part, checked to be one line), when the config has one. */
  nameHint?: string;
}

export function importHfConfig(cfg: Record<string, unknown>, file: string): HfImport {
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type.toLowerCase() : '';
  const arch = Array.isArray(cfg.architectures) && typeof cfg.architectures[0] === 'string' ? cfg.architectures[0] : '';
  const family = familyOf(modelType, arch);
  const purpose =
    family === 'generic'
      ? `needed to import ${modelType ? `model_type ${excerpt(modelType)}` : 'this config'} as a Llama-like model`
      : `needed to import a ${FAMILY_TITLE[family]} config`;

  const present = (k: string): boolean => cfg[k] !== undefined && cfg[k] !== null;
  const bad = (k: string, allowed: string): never => {
    throw inputError(file, k, `must be ${allowed} (got ${gotText(cfg[k])})`);
  };
  // Every count is bounded before it sizes anything here (the layer mask); the model fields it becomes are then
  // checked against their own bounds (fields.ts), with messages naming the HF key.
  const int = (k: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (!present(k)) return undefined;
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      bad(k, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
    }
    return v as number;
  };
  const reqInt = (k: string, min: number, max?: number): number => {
    const v = int(k, min, max);
    if (v === undefined) throw inputError(file, k, `missing (${purpose})`);
    return v;
  };
  const bool = (k: string): boolean | undefined => {
    if (!present(k)) return undefined;
    if (typeof cfg[k] !== 'boolean') bad(k, 'true or false');
    return cfg[k] as boolean;
  };

  const model: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const set = (field: string, value: unknown, hfKey?: string): void => {
    model[field] = value;
    if (hfKey !== undefined) labels[field] = hfKey;
  };

  const numLayers = reqInt('num_hidden_layers', 1, LIMITS.layers);
  const hidden = reqInt('hidden_size', 1);
  const heads = reqInt('num_attention_heads', 1);
  set('num_layers', numLayers, 'num_hidden_layers');
  set('hidden_size', hidden, 'hidden_size');
  set('num_attention_heads', heads, 'num_attention_heads');
  set('vocab_size', reqInt('vocab_size', 1), 'vocab_size');
  const maxPos = int('max_position_embeddings', 1);
  if (maxPos !== undefined) set('max_position_embeddings', maxPos, 'max_position_embeddings');
  set('swiglu', true);
  set('normalization', 'RMSNorm');
  set('position_embedding_type', 'rope');
  set('untie_embeddings_and_output_weights', !(bool('tie_word_embeddings') ?? false), 'tie_word_embeddings');
  const qkvBias = bool('attention_bias') ?? (modelType.startsWith('qwen2') || family === 'qwen2_moe');
  set('add_qkv_bias', qkvBias, 'attention_bias');

  // Attention: MLA or (grouped-query) multi-head.
  const mla = present('kv_lora_rank');
  if (mla) {
    set('multi_latent_attention', true, 'kv_lora_rank');
    set('q_lora_rank', int('q_lora_rank', 0) ?? 0, 'q_lora_rank');
    set('kv_lora_rank', reqInt('kv_lora_rank', 1), 'kv_lora_rank');
    set('qk_head_dim', reqInt('qk_nope_head_dim', 1), 'qk_nope_head_dim');
    set('qk_pos_emb_head_dim', reqInt('qk_rope_head_dim', 0), 'qk_rope_head_dim');
    const vHead = reqInt('v_head_dim', 1);
    set('v_head_dim', vHead, 'v_head_dim');
    set('kv_channels', vHead, 'v_head_dim');
    set('qk_layernorm', true);
  } else {
    set('num_query_groups', int('num_key_value_heads', 1) ?? heads, 'num_key_value_heads');
    const headDim = int('head_dim', 1);
    if (headDim !== undefined) set('kv_channels', headDim, 'head_dim');
    else if (hidden % heads !== 0) {
      throw inputError(file, 'head_dim', `missing: required when hidden_size (${hidden}) is not divisible by num_attention_heads (${heads})`);
    } else labels.kv_channels = 'head_dim';
    set('qk_layernorm', family === 'qwen3_moe' || modelType.startsWith('qwen3'));
  }

  // Experts.
  const expertKey = ['num_local_experts', 'num_experts', 'n_routed_experts'].find(present);
  const numExperts = expertKey !== undefined ? (int(expertKey, 0) as number) : 0;
  const isMoe = numExperts > 0;
  const denseFfn = int('intermediate_size', 1);
  if (!isMoe) {
    if (denseFfn === undefined) throw inputError(file, 'intermediate_size', `missing (${purpose})`);
    set('ffn_hidden_size', denseFfn, 'intermediate_size');
    set('num_experts', 0, expertKey);
  } else {
    set('num_experts', numExperts, expertKey);
    set('moe_router_topk', reqInt('num_experts_per_tok', 1), 'num_experts_per_tok');
    const expertFfnKey = present('moe_intermediate_size') ? 'moe_intermediate_size' : 'intermediate_size';
    const expertFfn = reqInt(expertFfnKey, 1);
    set('moe_ffn_hidden_size', expertFfn, expertFfnKey);

    let shared = 0;
    let sharedKey: string | undefined;
    if (present('shared_expert_intermediate_size')) {
      sharedKey = 'shared_expert_intermediate_size';
      shared = int(sharedKey, 0) as number;
    } else if (present('n_shared_experts')) {
      sharedKey = 'n_shared_experts';
      shared = (int(sharedKey, 0) as number) * expertFfn;
    }
    set('moe_shared_expert_intermediate_size', shared, sharedKey);

    const mask = new Uint8Array(numLayers).fill(1);
    let maskKey: string | undefined;
    if (present('decoder_sparse_step') || present('mlp_only_layers')) {
      const step = int('decoder_sparse_step', 1) ?? 1;
      const only = cfg.mlp_only_layers ?? [];
      if (!Array.isArray(only) || !only.every((x) => Number.isInteger(x) && x >= 0 && x < numLayers)) {
        bad('mlp_only_layers', `a list of layer indices 0..${numLayers - 1}`);
      }
      const dense = new Uint8Array(numLayers);
      for (const i of only as number[]) dense[i] = 1;
      for (let i = 0; i < numLayers; i++) mask[i] = dense[i] === 0 && (i + 1) % step === 0 ? 1 : 0;
      maskKey = present('decoder_sparse_step') ? 'decoder_sparse_step' : 'mlp_only_layers';
    } else if (present('first_k_dense_replace') || family === 'deepseek') {
      const firstDense = int('first_k_dense_replace', 0) ?? 0;
      const freq = int('moe_layer_freq', 1) ?? 1;
      for (let i = 0; i < numLayers; i++) mask[i] = i >= firstDense && i % freq === 0 ? 1 : 0;
      maskKey = 'first_k_dense_replace';
    }
    set('moe_layer_freq', layerFreqFromMask(mask), maskKey);

    // Dense layers (if any) use intermediate_size; with none, the dense size does not matter to the model.
    if (denseFfn !== undefined) set('ffn_hidden_size', denseFfn, 'intermediate_size');
    else if (mask.includes(0)) throw inputError(file, 'intermediate_size', `missing (${purpose}: the model has dense layers)`);
    else set('ffn_hidden_size', expertFfn, expertFfnKey);

    // Router.
    let score: 'softmax' | 'sigmoid' = 'softmax';
    if (present('scoring_func')) {
      if (cfg.scoring_func !== 'softmax' && cfg.scoring_func !== 'sigmoid') bad('scoring_func', 'softmax or sigmoid');
      score = cfg.scoring_func as 'softmax' | 'sigmoid';
    }
    set('moe_router_score_function', score, 'scoring_func');
    const normTopk = family === 'mixtral' ? true : (bool('norm_topk_prob') ?? family === 'generic');
    set('moe_router_pre_softmax', score === 'softmax' && !normTopk, 'norm_topk_prob');
    const nGroup = int('n_group', 1);
    if (nGroup !== undefined && nGroup > 1) {
      set('moe_router_num_groups', nGroup, 'n_group');
      set('moe_router_group_topk', int('topk_group', 1) ?? nGroup, 'topk_group');
    }
    if (present('routed_scaling_factor')) {
      const f = cfg.routed_scaling_factor;
      if (typeof f !== 'number' || !(f > 0)) bad('routed_scaling_factor', 'a number > 0');
      if (f !== 1) set('moe_router_topk_scaling_factor', f, 'routed_scaling_factor');
    }
    if (cfg.topk_method === 'noaux_tc') set('moe_router_enable_expert_bias', true, 'topk_method');
  }
  const mtp = int('num_nextn_predict_layers', 0);
  if (mtp !== undefined) set('mtp_num_layers', mtp, 'num_nextn_predict_layers');

  return { model, labels, nameHint: nameFromPath(cfg._name_or_path, file) };
}

/**
 * The model name in `_name_or_path` (a hub id `org/name` or a local path): its last part. A value that is not
 * one line is refused (it would end up in the comments of generated scripts), and so is a name over the limit;
 * a value that names nothing (blank, `/`) gives no name.
 */
function nameFromPath(value: unknown, file: string): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (hasBadNameChar(value)) throw inputError(file, '_name_or_path', `${MODEL_NAME_ALLOWED} (got ${nameExcerpt(value)})`);
  const name = value.replace(/\/+$/, '').split('/').pop() ?? '';
  if (name.trim() === '') return undefined;
  const length = Array.from(name).length;
  if (length > MAX_MODEL_NAME_LENGTH) {
    throw inputError(file, '_name_or_path', `${MODEL_NAME_ALLOWED} (got ${length} characters after the last /: ${nameExcerpt(name)})`);
  }
  return name;
}
