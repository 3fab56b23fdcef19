/**
 * Hugging Face `config.json` → the model fields of a job (Megatron-LM names), ready for resolveModel.
 *
 * Which families are imported and which are refused is the table in hf-families.ts (one row per family: the
 * fields read, what is approximated, or the feature moefold cannot represent). A config is matched by its
 * model_type (else, without one, by architectures[0]); a refused family is one line naming the architecture and
 * the feature. A model_type with no row is refused too (an architecture moefold has no rules for is not guessed),
 * with the supported list. A supported family is still refused when the config holds a field that changes the
 * network in a way moefold cannot represent (FOREIGN_FEATURES, sliding windows, non-full layer_types).
 *
 * What an HF config says and how it maps:
 * - num_hidden_layers, hidden_size, num_attention_heads, vocab_size → num_layers, hidden_size, … (required).
 * - num_key_value_heads → num_query_groups; head_dim → kv_channels; intermediate_size → ffn_hidden_size.
 * - experts: num_local_experts (Mixtral) | num_experts (Qwen, OLMoE) | n_routed_experts (DeepSeek, GLM-4-MoE,
 *   dots1); top-k: num_experts_per_tok; expert size: moe_intermediate_size, else intermediate_size (Mixtral, OLMoE).
 * - shared experts: shared_expert_intermediate_size (Qwen2-MoE), or n_shared_experts × moe_intermediate_size
 *   (DeepSeek; GLM-4-MoE, whose default is 1; dots1); none for Mixtral, Qwen3-MoE, OLMoE, MiniMax-M2.
 * - MoE layers: Qwen's decoder_sparse_step / mlp_only_layers (layer i is MoE iff i is not in mlp_only_layers
 *   and (i+1) % decoder_sparse_step == 0); DeepSeek's first_k_dense_replace / moe_layer_freq (MoE iff
 *   i >= first_k_dense_replace and i % moe_layer_freq == 0); GLM-4-MoE and dots1: first_k_dense_replace only
 *   (defaults 1 and 0). The mask becomes moe_layer_freq (int when it fits).
 * - MLA (when kv_lora_rank is present): q_lora_rank (null → 0), kv_lora_rank, qk_nope_head_dim → qk_head_dim,
 *   qk_rope_head_dim → qk_pos_emb_head_dim, v_head_dim; kv_channels = v_head_dim (as the model zoo's
 *   DeepSeek-V3 config); qk_layernorm true (the q/kv LoRA norms).
 * - router: scoring_func → score function (DeepSeek; GLM-4-MoE, dots1 and MiniMax-M2 always score with a
 *   sigmoid and an expert bias); moe_router_pre_softmax = softmax scoring without norm_topk_prob (Qwen2-MoE, DeepSeek-V2
 *   renormalise nothing; Mixtral, Qwen3 do); Megatron always renormalises sigmoid scores, so sigmoid scoring
 *   with norm_topk_prob false is refused; n_group/topk_group (when n_group > 1); routed_scaling_factor (when
 *   not 1); topk_method noaux_tc → expert bias; num_nextn_predict_layers → MTP (DeepSeek, GLM-4-MoE).
 * - qkv bias: attention_bias, else true for Qwen2 families (their q/k/v projections always have biases);
 *   qk_layernorm true for Qwen3 families, dots1, OLMoE and MiniMax-M2, use_qk_norm for GLM-4-MoE.
 *   tie_word_embeddings (default false) → untie = !tie.
 * - Every family here has a gated (SwiGLU-style) MLP, RMSNorm and rotary positions.
 * - rotary and norms (importRotaryAndNorms): rope_theta → rotary_base (an integer), partial_rotary_factor /
 *   rotary_dim → rotary_percent, rope_scaling → rope_scaling (rope.ts), rms_norm_eps → norm_epsilon,
 *   initializer_range → init_method_std; router_aux_loss_coef (aux_loss_alpha, seq_aux for DeepSeek) →
 *   moe_aux_loss_coeff (and seq_aux_loss); Qwen2-MoE's shared expert → moe_shared_expert_gate.
 * - attention_dropout (and hidden dropout 0) → training defaults (HfImport.training).
 * Training choices an HF config does not hold (vocab padding, the load-balancing loss where the family has no
 * coefficient) keep the job defaults.
 */
import { inputError } from './errors.js';
import { LIMITS, excerpt, gotText } from './fields.js';
import { findFamily, supportedModelTypes, type FamilyId } from './hf-families.js';
import { layerFreqFromMask } from './layer-freq.js';
import { isPlainMapping, ropeScalingFromHf } from './rope.js';
import { hasBadNameChar, MAX_MODEL_NAME_LENGTH, MODEL_NAME_ALLOWED, nameExcerpt } from './resolve-model.js';

/** How one family's config maps. */
interface Rules {
  /** HF keys that hold the routed-expert count, first present wins. */
  expertKeys: readonly string[];
  /** Expert width: moe_intermediate_size; intermediate_size (Mixtral, OLMoE); or the first present. */
  expertFfn: 'moe' | 'dense';
  /** Shared experts: Qwen2-MoE's width, DeepSeek's count × expert width, none, or whichever is present. */
  shared: 'qwen' | 'count' | 'none';
  /** n_shared_experts when absent (GLM-4-MoE: 1); undefined: required (dots1) or 0 (DeepSeek). */
  sharedDefault?: number;
  sharedRequired?: boolean;
  /** MoE layers: Qwen's step/list, DeepSeek's first_k/freq, first_k only, every layer, or whichever is present. */
  mask: 'qwen' | 'deepseek' | 'first_k' | 'all';
  firstDenseDefault: number;
  /** Router: softmax; scoring_func (default softmax); always sigmoid with an expert bias (GLM-4-MoE, dots1). */
  router: 'softmax' | 'scoring_func' | 'sigmoid_bias';
  /** norm_topk_prob when absent; `fixed`: not read (Mixtral always renormalises). */
  normDefault: boolean;
  normFixed?: boolean;
  /** qkv bias when attention_bias is absent. */
  qkvBiasDefault: boolean;
  /** qk_layernorm for non-MLA attention: fixed, or read from use_qk_norm (default false). */
  qkNorm: boolean | 'use_qk_norm';
  /** Reads num_nextn_predict_layers. */
  mtp: boolean;
  /**
   * Which layers use a sliding window when layer_types is absent: every layer once sliding_window is set
   * (Mistral, Mixtral); Qwen's use_sliding_window with max_window_layers; dots1's max_window_layers (sliding_window
   * defaults to 4096 there); none (the family has no sliding window).
   */
  sliding: 'set' | 'qwen' | 'dots1' | 'none';
  /** The router's load-balancing coefficient: router_aux_loss_coef, DeepSeek's aux_loss_alpha (with seq_aux), none. */
  auxCoef: 'router_aux_loss_coef' | 'aux_loss_alpha' | 'none';
  /** Qwen2-MoE: the shared expert's output goes through a sigmoid gate (shared_expert_gate, Linear(hidden, 1)). */
  sharedGate: boolean;
  /** Partial rotary: GLM-4-MoE's partial_rotary_factor (HF default 0.5), MiniMax-M2's rotary_dim / head_dim, none. */
  partialRotary: 'partial_rotary_factor' | 'rotary_dim' | 'none';
  /** rope_theta when the config has none: the HF config class's default. */
  ropeThetaDefault: number;
}

const DENSE: Rules = {
  expertKeys: [], expertFfn: 'moe', shared: 'none', mask: 'all', firstDenseDefault: 0, router: 'softmax',
  normDefault: false, qkvBiasDefault: false, qkNorm: false, mtp: false, sliding: 'none',
  auxCoef: 'none', sharedGate: false, partialRotary: 'none', ropeThetaDefault: 10000,
};

/** What most MoE families share beyond their own rows. */
const MOE_EXTRAS = { auxCoef: 'router_aux_loss_coef', sharedGate: false, partialRotary: 'none', ropeThetaDefault: 10000 } as const;

const RULES: Readonly<Record<Exclude<FamilyId, RefusedId>, Rules>> = {
  mixtral: {
    expertKeys: ['num_local_experts'], expertFfn: 'dense', shared: 'none', mask: 'all', firstDenseDefault: 0,
    router: 'softmax', normDefault: true, normFixed: true, qkvBiasDefault: false, qkNorm: false, mtp: false, sliding: 'set',
    ...MOE_EXTRAS, ropeThetaDefault: 1e6,
  },
  qwen2_moe: {
    expertKeys: ['num_experts'], expertFfn: 'moe', shared: 'qwen', mask: 'qwen', firstDenseDefault: 0,
    router: 'softmax', normDefault: false, qkvBiasDefault: true, qkNorm: false, mtp: false, sliding: 'qwen',
    ...MOE_EXTRAS, sharedGate: true,
  },
  qwen3_moe: {
    expertKeys: ['num_experts'], expertFfn: 'moe', shared: 'none', mask: 'qwen', firstDenseDefault: 0,
    router: 'softmax', normDefault: false, qkvBiasDefault: false, qkNorm: true, mtp: false, sliding: 'qwen',
    ...MOE_EXTRAS,
  },
  deepseek: {
    expertKeys: ['n_routed_experts'], expertFfn: 'moe', shared: 'count', mask: 'deepseek', firstDenseDefault: 0,
    router: 'scoring_func', normDefault: false, qkvBiasDefault: false, qkNorm: false, mtp: true, sliding: 'none',
    ...MOE_EXTRAS, auxCoef: 'aux_loss_alpha',
  },
  llama: DENSE,
  mistral: { ...DENSE, sliding: 'set' },
  qwen2: { ...DENSE, qkvBiasDefault: true, sliding: 'qwen' },
  qwen3: { ...DENSE, qkNorm: true, sliding: 'qwen' },
  olmoe: {
    expertKeys: ['num_experts'], expertFfn: 'dense', shared: 'none', mask: 'all', firstDenseDefault: 0,
    router: 'softmax', normDefault: false, qkvBiasDefault: false, qkNorm: true, mtp: false, sliding: 'none',
    ...MOE_EXTRAS,
  },
  glm4_moe: {
    expertKeys: ['n_routed_experts'], expertFfn: 'moe', shared: 'count', sharedDefault: 1, mask: 'first_k',
    firstDenseDefault: 1, router: 'sigmoid_bias', normDefault: true, qkvBiasDefault: false, qkNorm: 'use_qk_norm',
    mtp: true, sliding: 'none',
    ...MOE_EXTRAS, auxCoef: 'none', partialRotary: 'partial_rotary_factor',
  },
  dots1: {
    expertKeys: ['n_routed_experts'], expertFfn: 'moe', shared: 'count', sharedRequired: true, mask: 'first_k',
    firstDenseDefault: 0, router: 'sigmoid_bias', normDefault: false, qkvBiasDefault: false, qkNorm: true,
    mtp: false, sliding: 'dots1',
    ...MOE_EXTRAS, auxCoef: 'none',
  },
  minimax_m2: {
    expertKeys: ['num_local_experts'], expertFfn: 'dense', shared: 'none', mask: 'all', firstDenseDefault: 0,
    router: 'sigmoid_bias', normDefault: true, normFixed: true, qkvBiasDefault: false, qkNorm: true, mtp: false,
    sliding: 'none',
    ...MOE_EXTRAS, partialRotary: 'rotary_dim',
  },
};

type RefusedId = 'jamba' | 'arctic' | 'llama4' | 'gpt_oss' | 'qwen3_next' | 'minimax' | 'ernie4_5_moe';

/**
 * Fields of architectures moefold cannot represent: refused in any config that sets them (a value other than
 * null, false, 0 or an empty list), whatever its model_type says, so a mislabelled config is not planned as
 * something else.
 */
const FOREIGN_FEATURES: readonly [key: string, feature: string][] = [
  ['mamba_d_state', 'Mamba (state-space) layers'],
  ['mamba_expand', 'Mamba (state-space) layers'],
  ['attn_layer_period', 'Mamba (state-space) layers between attention layers'],
  ['parallel_attn_mlp_res', 'a dense residual MLP beside the MoE'],
  ['dense_residual', 'a dense residual MLP beside the MoE'],
  ['attention_chunk_size', 'chunked local attention'],
  ['no_rope_layers', 'layers without rotary positions (NoPE)'],
  ['linear_num_key_heads', 'linear-attention (gated DeltaNet) layers'],
  ['linear_attn_config', 'linear-attention layers'],
  ['full_attention_interval', 'layers of linear attention between full-attention layers'],
  ['attn_type_list', 'lightning (linear) attention layers'],
  ['interleave_moe_layer_step', 'an interleaved MoE layer pattern'],
  ['expert_layer_period', 'an interleaved MoE layer pattern'],
];

/** True for a Hugging Face config (HF field names), false for a moefold job (Megatron names). */
export function isHfConfig(obj: Record<string, unknown>): boolean {
  if (Object.hasOwn(obj, 'model') || Object.hasOwn(obj, 'num_layers')) return false;
  return 'model_type' in obj || 'architectures' in obj || 'num_hidden_layers' in obj;
}

export interface HfImport {
  /** Megatron-named model fields (only those the config determines). */
  model: Record<string, unknown>;
  /** Megatron field → the HF field it came from, so later messages name what the file holds. */
  labels: Record<string, string>;
  /** A model name from `_name_or_path` (its last part, checked to be one line), when the config has one. */
  nameHint?: string;
  /**
   * Training defaults the model brings (a job's own training: fields and the flags override them): the
   * attention dropout of config.json (attention_dropout, HF default 0.0) and no hidden dropout (none of these
   * families' HF decoder layers has a residual or hidden-state dropout; Megatron's default is 0.1 for both).
   */
  training: { attention_dropout: number; hidden_dropout: number };
}

export function importHfConfig(cfg: Record<string, unknown>, file: string): HfImport {
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type.toLowerCase() : '';
  const arch = Array.isArray(cfg.architectures) && typeof cfg.architectures[0] === 'string' ? cfg.architectures[0] : '';
  const row = findFamily(modelType, arch);
  // The architecture as the file names it, for messages.
  const what = modelType || !arch ? `model_type ${excerpt(modelType)}` : `architectures[0] ${excerpt(arch)}`;
  const supportedList = `(supported: ${supportedModelTypes().join(', ')})`;
  if (row !== undefined && !row.supported) {
    const named = row.modelTypes.includes(modelType) ? `model_type ${excerpt(modelType)}` : `architectures[0] ${excerpt(arch)}`;
    throw inputError(file, '', `${named}: not supported: ${row.reason ?? 'cannot be represented'} ${supportedList}`);
  }
  if (row === undefined) {
    throw inputError(file, '', `${what}: not supported: moefold has no import rules for this architecture ${supportedList}`);
  }
  const rules: Rules = RULES[row.id as Exclude<FamilyId, RefusedId>];
  const purpose = `needed to import a ${row.title} config`;

  const present = (k: string): boolean => cfg[k] !== undefined && cfg[k] !== null;
  const bad = (k: string, allowed: string): never => {
    throw inputError(file, k, `must be ${allowed} (got ${gotText(cfg[k])})`);
  };
  const refuse = (k: string, feature: string): never => {
    throw inputError(file, k, `${what}: not supported: ${feature} cannot be represented`);
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

  for (const [k, feature] of FOREIGN_FEATURES) {
    const v = cfg[k];
    const set = v !== undefined && v !== null && v !== false && v !== 0 && !(Array.isArray(v) && v.length === 0);
    // MiniMax's attn_type_list marks full-attention layers 1: a list of only 1s is plain attention.
    if (set && !(k === 'attn_type_list' && Array.isArray(v) && v.every((x) => x === 1))) refuse(k, feature);
  }

  const model: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const set = (field: string, value: unknown, hfKey?: string): void => {
    model[field] = value;
    if (hfKey !== undefined) labels[field] = hfKey;
  };

  const numLayers = reqInt('num_hidden_layers', 1, LIMITS.layers);
  const hidden = reqInt('hidden_size', 1, LIMITS.hidden);
  const heads = reqInt('num_attention_heads', 1, LIMITS.heads);
  checkAttentionKinds(cfg, rules.sliding, numLayers, refuse, bad);
  set('num_layers', numLayers, 'num_hidden_layers');
  set('hidden_size', hidden, 'hidden_size');
  set('num_attention_heads', heads, 'num_attention_heads');
  set('vocab_size', reqInt('vocab_size', 1, LIMITS.vocab), 'vocab_size');
  const maxPos = int('max_position_embeddings', 1, LIMITS.positions);
  if (maxPos !== undefined) set('max_position_embeddings', maxPos, 'max_position_embeddings');
  set('swiglu', true);
  set('normalization', 'RMSNorm');
  set('position_embedding_type', 'rope');
  set('untie_embeddings_and_output_weights', !(bool('tie_word_embeddings') ?? false), 'tie_word_embeddings');
  set('add_qkv_bias', bool('attention_bias') ?? rules.qkvBiasDefault, 'attention_bias');
  const mla = present('kv_lora_rank') && row.id === 'deepseek';
  importRotaryAndNorms(cfg, rules, maxPos, mla, { set, bad, fail: (field, problem) => { throw inputError(file, field, problem); } });

  // Attention: MLA or (grouped-query) multi-head.
  if (mla) {
    set('multi_latent_attention', true, 'kv_lora_rank');
    set('q_lora_rank', int('q_lora_rank', 0, LIMITS.hidden) ?? 0, 'q_lora_rank');
    set('kv_lora_rank', reqInt('kv_lora_rank', 1, LIMITS.hidden), 'kv_lora_rank');
    set('qk_head_dim', reqInt('qk_nope_head_dim', 1, LIMITS.headDim), 'qk_nope_head_dim');
    set('qk_pos_emb_head_dim', reqInt('qk_rope_head_dim', 0, LIMITS.headDim), 'qk_rope_head_dim');
    const vHead = reqInt('v_head_dim', 1, LIMITS.headDim);
    set('v_head_dim', vHead, 'v_head_dim');
    set('kv_channels', vHead, 'v_head_dim');
    set('qk_layernorm', true);
  } else {
    set('num_query_groups', int('num_key_value_heads', 1, LIMITS.heads) ?? heads, 'num_key_value_heads');
    const headDim = int('head_dim', 1, LIMITS.headDim);
    if (headDim !== undefined) set('kv_channels', headDim, 'head_dim');
    else if (hidden % heads !== 0) {
      throw inputError(file, 'head_dim', `missing: required when hidden_size (${hidden}) is not divisible by num_attention_heads (${heads})`);
    } else labels.kv_channels = 'head_dim';
    if (rules.qkNorm === 'use_qk_norm') set('qk_layernorm', bool('use_qk_norm') ?? false, 'use_qk_norm');
    else set('qk_layernorm', rules.qkNorm);
  }

  // Experts.
  const expertKey = rules.expertKeys.find(present);
  const numExperts = expertKey !== undefined ? (int(expertKey, 0, LIMITS.experts) as number) : 0;
  const isMoe = numExperts > 0;
  const denseFfn = int('intermediate_size', 1, LIMITS.ffn);
  if (!isMoe) {
    if (denseFfn === undefined) throw inputError(file, 'intermediate_size', `missing (${purpose})`);
    set('ffn_hidden_size', denseFfn, 'intermediate_size');
    set('num_experts', 0, expertKey);
  } else {
    set('num_experts', numExperts, expertKey);
    const topk = reqInt('num_experts_per_tok', 1, LIMITS.experts);
    set('moe_router_topk', topk, 'num_experts_per_tok');
    const expertFfnKey =
      rules.expertFfn === 'dense'
        ? 'intermediate_size'
        : 'moe_intermediate_size';
    const expertFfn = reqInt(expertFfnKey, 1, LIMITS.ffn);
    set('moe_ffn_hidden_size', expertFfn, expertFfnKey);

    let shared = 0;
    let sharedKey: string | undefined;
    const qwenShared = rules.shared === 'qwen';
    const countShared = rules.shared === 'count';
    if (qwenShared && present('shared_expert_intermediate_size')) {
      sharedKey = 'shared_expert_intermediate_size';
      shared = int(sharedKey, 0, LIMITS.sharedFfn) as number;
    } else if (countShared && (present('n_shared_experts') || rules.sharedDefault !== undefined || rules.sharedRequired)) {
      sharedKey = 'n_shared_experts';
      const count = rules.sharedRequired ? reqInt(sharedKey, 0, LIMITS.experts) : (int(sharedKey, 0, LIMITS.experts) ?? rules.sharedDefault ?? 0);
      if (count * expertFfn > LIMITS.sharedFfn) {
        throw inputError(file, sharedKey, `n_shared_experts × ${expertFfnKey} must be at most ${LIMITS.sharedFfn} (got ${count} × ${expertFfn})`);
      }
      shared = count * expertFfn;
    }
    set('moe_shared_expert_intermediate_size', shared, sharedKey);

    const mask = new Uint8Array(numLayers).fill(1);
    let maskKey: string | undefined;
    const qwenMask = rules.mask === 'qwen';
    const firstK = rules.mask === 'deepseek' || rules.mask === 'first_k';
    if (qwenMask && (present('decoder_sparse_step') || present('mlp_only_layers'))) {
      const step = int('decoder_sparse_step', 1, LIMITS.layers) ?? 1;
      const only = cfg.mlp_only_layers ?? [];
      if (!Array.isArray(only) || !only.every((x) => Number.isInteger(x) && x >= 0 && x < numLayers)) {
        bad('mlp_only_layers', `a list of layer indices 0..${numLayers - 1}`);
      }
      const dense = new Uint8Array(numLayers);
      for (const i of only as number[]) dense[i] = 1;
      for (let i = 0; i < numLayers; i++) mask[i] = dense[i] === 0 && (i + 1) % step === 0 ? 1 : 0;
      maskKey = present('decoder_sparse_step') ? 'decoder_sparse_step' : 'mlp_only_layers';
    } else if (firstK) {
      const firstDense = int('first_k_dense_replace', 0, LIMITS.layers) ?? rules.firstDenseDefault;
      const freq = rules.mask === 'first_k' ? 1 : (int('moe_layer_freq', 1, LIMITS.layers) ?? 1);
      for (let i = 0; i < numLayers; i++) mask[i] = i >= firstDense && i % freq === 0 ? 1 : 0;
      maskKey = 'first_k_dense_replace';
    }
    set('moe_layer_freq', layerFreqFromMask(mask), maskKey);

    // Dense layers (if any) use intermediate_size; with none, the dense size does not matter to the model.
    if (denseFfn !== undefined) set('ffn_hidden_size', denseFfn, 'intermediate_size');
    else if (mask.includes(0)) throw inputError(file, 'intermediate_size', `missing (${purpose}: the model has dense layers)`);
    else set('ffn_hidden_size', expertFfn, expertFfnKey);

    // Router.
    let score: 'softmax' | 'sigmoid' = rules.router === 'sigmoid_bias' ? 'sigmoid' : 'softmax';
    if (rules.router === 'scoring_func' && present('scoring_func')) {
      if (cfg.scoring_func !== 'softmax' && cfg.scoring_func !== 'sigmoid') bad('scoring_func', 'softmax or sigmoid');
      score = cfg.scoring_func as 'softmax' | 'sigmoid';
    }
    set('moe_router_score_function', score, rules.router === 'sigmoid_bias' ? undefined : 'scoring_func');
    const normTopk = rules.normFixed ? rules.normDefault : (bool('norm_topk_prob') ?? rules.normDefault);
    if (score === 'sigmoid' && !normTopk && topk > 1) {
      refuse('norm_topk_prob', 'sigmoid routing without renormalising the top-k weights (Megatron renormalises them)');
    }
    set('moe_router_pre_softmax', score === 'softmax' && !normTopk, 'norm_topk_prob');
    if (rules.router !== 'softmax') {
      const nGroup = int('n_group', 1, LIMITS.experts);
      if (nGroup !== undefined && nGroup > 1) {
        set('moe_router_num_groups', nGroup, 'n_group');
        set('moe_router_group_topk', int('topk_group', 1, LIMITS.experts) ?? nGroup, 'topk_group');
      }
      if (present('routed_scaling_factor')) {
        const f = cfg.routed_scaling_factor;
        if (typeof f !== 'number' || !(f > 0)) bad('routed_scaling_factor', 'a number > 0');
        if (f !== 1) set('moe_router_topk_scaling_factor', f, 'routed_scaling_factor');
      }
    }
    if (rules.router === 'sigmoid_bias') set('moe_router_enable_expert_bias', true);
    else if (cfg.topk_method === 'noaux_tc') set('moe_router_enable_expert_bias', true, 'topk_method');
    // Load-balancing coefficient: the family's loss coefficient (Mixtral, Qwen-MoE, OLMoE, MiniMax-M2:
    // router_aux_loss_coef; DeepSeek: aux_loss_alpha, per sequence when seq_aux); absent keeps the job default.
    if (rules.auxCoef !== 'none' && present(rules.auxCoef)) {
      const c = cfg[rules.auxCoef];
      if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > LIMITS.coefficient) bad(rules.auxCoef, `a number from 0 to ${LIMITS.coefficient}`);
      set('moe_aux_loss_coeff', c, rules.auxCoef);
      if (rules.auxCoef === 'aux_loss_alpha' && bool('seq_aux') === true) set('moe_router_load_balancing_type', 'seq_aux_loss', 'seq_aux');
    }
    // Qwen2-MoE's shared expert always has its sigmoid gate (modeling_qwen2_moe.py shared_expert_gate)
    if (rules.sharedGate && shared > 0) set('moe_shared_expert_gate', true, sharedKey);
  }
  if (rules.mtp) {
    const mtp = int('num_nextn_predict_layers', 0, LIMITS.mtpLayers);
    if (mtp !== undefined) set('mtp_num_layers', mtp, 'num_nextn_predict_layers');
  }

  let attnDropout = 0;
  if (present('attention_dropout')) {
    const v = cfg.attention_dropout;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) bad('attention_dropout', 'a number from 0 to 1');
    attnDropout = v as number;
  }
  return {
    model, labels, nameHint: nameFromPath(cfg._name_or_path, file),
    training: { attention_dropout: attnDropout, hidden_dropout: 0 },
  };
}

/**
 * Rotary positions, norms and initialisation:
 * - rope_theta → rotary_base (Megatron's --rotary-base is type=int, arguments.py L2418 at d98e8a6: a non-integer
 *   theta is refused, not rounded); absent: the HF config class's default (Mixtral 1e6, the others 10000);
 * - partial rotary → rotary_percent: GLM-4-MoE's partial_rotary_factor (HF default 0.5), MiniMax-M2's
 *   rotary_dim / head_dim; Megatron rotates int(kv_channels · rotary_percent) dimensions, which must be the
 *   model's rotary dimension;
 * - rope_scaling → rope_scaling (rope.ts ropeScalingFromHf: llama3 and yarn; other forms refused);
 * - rms_norm_eps → norm_epsilon; initializer_range → init_method_std.
 */
function importRotaryAndNorms(
  cfg: Record<string, unknown>,
  rules: Rules,
  maxPos: number | undefined,
  mla: boolean,
  f: {
    set: (field: string, value: unknown, hfKey?: string) => void;
    bad: (k: string, allowed: string) => never;
    fail: (field: string, problem: string) => never;
  },
): void {
  const present = (k: string): boolean => cfg[k] !== undefined && cfg[k] !== null;
  // transformers v5 writes the rotary base, the scaling and the partial factor into one rope_parameters mapping
  // (rope_type "default" = no scaling); older configs hold rope_theta / rope_scaling / partial_rotary_factor
  const params = cfg.rope_parameters;
  const v5 = params !== undefined && params !== null;
  if (v5 && !isPlainMapping(params)) f.bad('rope_parameters', 'a mapping with rope_type and rope_theta');
  const rp = (v5 ? params : {}) as Record<string, unknown>;
  const thetaKey = v5 && rp.rope_theta !== undefined ? 'rope_parameters.rope_theta' : 'rope_theta';
  if (thetaKey !== 'rope_theta' && present('rope_theta') && cfg.rope_theta !== rp.rope_theta) {
    f.fail('rope_theta', `must equal rope_parameters.rope_theta (got ${gotText(cfg.rope_theta)} and ${gotText(rp.rope_theta)})`);
  }
  const theta = thetaKey !== 'rope_theta' ? rp.rope_theta : present('rope_theta') ? cfg.rope_theta : rules.ropeThetaDefault;
  if (typeof theta !== 'number' || !Number.isSafeInteger(theta) || theta < 1 || theta > LIMITS.rotaryBase) {
    const allowed = `an integer from 1 to ${LIMITS.rotaryBase} (Megatron-LM's --rotary-base is type=int)`;
    if (thetaKey === 'rope_theta') f.bad('rope_theta', allowed);
    f.fail(thetaKey, `must be ${allowed} (got ${gotText(theta)})`);
  }
  f.set('rotary_base', theta, thetaKey);
  const headDim = typeof cfg.head_dim === 'number' ? cfg.head_dim : (cfg.hidden_size as number) / (cfg.num_attention_heads as number);
  if (rules.partialRotary === 'partial_rotary_factor') {
    const p = rp.partial_rotary_factor ?? (present('partial_rotary_factor') ? cfg.partial_rotary_factor : 0.5);
    if (typeof p !== 'number' || !(p > 0) || p > 1) f.bad('partial_rotary_factor', 'a number > 0 and <= 1');
    if (!Number.isInteger(headDim * (p as number))) f.bad('partial_rotary_factor', `a fraction of head_dim (${headDim}) that is a whole number of dimensions`);
    f.set('rotary_percent', p, 'partial_rotary_factor');
  } else if (rules.partialRotary === 'rotary_dim' && present('rotary_dim')) {
    const r = cfg.rotary_dim;
    if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 1 || r > headDim) f.bad('rotary_dim', `an integer from 1 to head_dim (${headDim})`);
    f.set('rotary_percent', (r as number) / headDim, 'rotary_dim');
  }
  const scalingKey = v5 && (rp.rope_type !== undefined || rp.type !== undefined) ? 'rope_parameters' : 'rope_scaling';
  if (scalingKey === 'rope_parameters' && present('rope_scaling')) {
    f.fail('rope_scaling', 'must not be set beside rope_parameters (transformers v5 keeps the scaling there)');
  }
  const rs = ropeScalingFromHf(scalingKey === 'rope_parameters' ? rp : cfg.rope_scaling, maxPos, mla);
  if (!('ok' in rs)) return f.fail(rs.key === '' ? scalingKey : `${scalingKey}.${rs.key}`, rs.problem);
  if (rs.ok !== null) f.set('rope_scaling', rs.ok, scalingKey);
  for (const [k, field] of [['rms_norm_eps', 'norm_epsilon'], ['initializer_range', 'init_method_std']] as const) {
    if (!present(k)) continue;
    const v = cfg[k];
    if (typeof v !== 'number' || !(v > 0) || v > 1) f.bad(k, 'a number > 0 and <= 1');
    f.set(field, v, k);
  }
}

/**
 * Refuses a config whose layers are not all full (global, causal) attention: layer_types naming another kind,
 * or a sliding window the family applies (see Rules.sliding).
 */
function checkAttentionKinds(
  cfg: Record<string, unknown>,
  sliding: Rules['sliding'],
  numLayers: number,
  refuse: (k: string, feature: string) => never,
  bad: (k: string, allowed: string) => never,
): void {
  const types = cfg.layer_types;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || !types.every((t) => typeof t === 'string')) bad('layer_types', 'a list of layer kinds');
    const other = (types as string[]).find((t) => t !== 'full_attention');
    if (other !== undefined) refuse('layer_types', `layers of kind ${excerpt(other)}`);
    return;
  }
  const window = cfg.sliding_window;
  const windowText = (): string => `sliding-window attention (sliding_window ${gotText(window)})`;
  const maxWindowLayers = (): number => {
    const v = cfg.max_window_layers;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
  };
  if (sliding === 'set' && window !== undefined && window !== null) {
    // A Qwen-style use_sliding_window false switches a stated window off.
    if (cfg.use_sliding_window !== false) refuse('sliding_window', windowText());
  } else if (sliding === 'qwen' && cfg.use_sliding_window === true && window !== undefined && window !== null) {
    if (maxWindowLayers() < numLayers) refuse('use_sliding_window', windowText());
  } else if (sliding === 'dots1') {
    const w = 'sliding_window' in cfg ? window : 4096;
    const below = cfg.max_window_layers === undefined ? 62 : maxWindowLayers();
    if (w !== null && below < numLayers) refuse('max_window_layers', `sliding-window attention from layer ${below}`);
  }
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
