/**
 * Model section → ModelSpec: schema check, Megatron's defaults, and the rules that tie model fields together.
 *
 * Defaults (Megatron-LM's, except where noted):
 *   num_query_groups = num_attention_heads; kv_channels = hidden_size / num_attention_heads (an error when it
 *   does not divide and kv_channels is absent); ffn_hidden_size = 4·hidden, or int(8·hidden/3/64)·64 with swiglu;
 *   swiglu true, untie_embeddings_and_output_weights true, RMSNorm, rope (moefold's: the MoE models it plans
 *   for all use them); num_experts 0 (dense); moe_router_topk 2; moe_ffn_hidden_size = ffn_hidden_size;
 *   moe_layer_freq 1; router options as Megatron; moe_aux_loss_coeff 0.01 for MoE models (moefold's, the value
 *   the MoE model zoo uses; Megatron's is 0), 0 for dense; MLA ranks q_lora 0 (none), kv_lora 512, qk 128,
 *   rope 64, v 128 (DeepSeek's); make_vocab_size_divisible_by 128; max_position_embeddings =
 *   max(seq_length, 4096), set in finishModel once seq_length is known; add_bias_linear false (moefold's: Megatron's
 *   is true, the export writes --disable-bias-linear), softmax_type vanilla, window_size 0 (no sliding window),
 *   window_attn_skip_freq 0 (every layer windowed once window_size is set, Megatron's None); rotary_base 10000,
 *   rotary_percent 1, rope_scaling null, norm_epsilon 1e-5, init_method_std 0.02, moe_shared_expert_gate false
 *   (MODEL_HYPER_DEFAULTS). The MLA fields are filled in for every
 *   model (the type has no "absent"); only multi_latent_attention says whether they are used.
 *
 * A field with a null value (`num_experts:` with nothing after it) counts as absent.
 *
 * The model name reaches comments and strings of generated scripts and files, so it must be one line of at most
 * MAX_MODEL_NAME_LENGTH characters with no control character (C0, DEL, C1, U+2028/U+2029) and no lone UTF-16
 * surrogate. A `name:` field (and an HF `_name_or_path`, checked in hf-config.ts) that breaks the rule is refused;
 * the default taken from the file name is not the user's words and is sanitised instead (each bad character
 * becomes `_`, the name is cut to the limit, an empty one becomes `model`). Printable characters are kept: the
 * exports quote or escape the name for each target.
 */
import { inputError } from './errors.js';
import { MLA_FIELDS } from './fields.js';
import { checkLayerFreq } from './layer-freq.js';
import { MLA_YARN_FIXED, checkRopeScaling, type RopeScaling } from './rope.js';
import { checkWindowSkipFreq } from './window-attention.js';
import { checkSection, type SectionContext } from './schema.js';
import type { ModelSpec } from './types.js';
import { hasUnsafeChar, oneLine, replaceUnsafeChars } from '../text/one-line.js';

export interface ModelContext extends SectionContext {
  /** Used when the model has no `name`. */
  defaultName: string;
}

export interface ResolvedModel {
  model: ModelSpec;
  /** Whether max_position_embeddings was written (then it is checked against seq_length), not defaulted. */
  maxPosGiven: boolean;
}

const MLA_DEFAULTS: Readonly<Record<(typeof MLA_FIELDS)[number], number>> = {
  q_lora_rank: 0,
  kv_lora_rank: 512,
  qk_head_dim: 128,
  qk_pos_emb_head_dim: 64,
  v_head_dim: 128,
};

/**
 * Megatron-LM's defaults of the rotary, norm and initialisation fields (HEAD d98e8a6: arguments.py L2418–2421
 * --rotary-base 10000, --rotary-percent 1.0; transformer_config.py L201 layernorm_epsilon (--norm-epsilon) 1e-5,
 * L400 init_method_std 0.02, L713 moe_shared_expert_gate false). The Megatron export writes a flag only where the
 * model's value differs from these.
 */
export const MODEL_HYPER_DEFAULTS = {
  rotary_base: 10000,
  rotary_percent: 1,
  norm_epsilon: 1e-5,
  init_method_std: 0.02,
  moe_shared_expert_gate: false,
} as const;

/** The longest model name accepted, in characters (code points). */
export const MAX_MODEL_NAME_LENGTH = 200;

/** What a model name may be, as messages say it. */
export const MODEL_NAME_ALLOWED = `must be one line of at most ${MAX_MODEL_NAME_LENGTH} printable characters (no line break, tab, NUL or other control character)`;

/** A model name may not hold a character that could break a line or a terminal (text/one-line.ts). */
export const hasBadNameChar = hasUnsafeChar;

/** A short, escaped, one-line excerpt of `s` for a message: JSON.stringify of its first 40 characters. */
export function nameExcerpt(s: string): string {
  const chars = Array.from(s);
  const head = chars.slice(0, 40).join('');
  const quoted = oneLine(JSON.stringify(head));
  return chars.length > 40 ? `${quoted}…` : quoted;
}

/** Why `name` is not a valid model name (the text after `<file>: <field>: `), or undefined when it is one. */
export function modelNameProblem(name: string): string | undefined {
  if (hasBadNameChar(name)) return `${MODEL_NAME_ALLOWED} (got ${nameExcerpt(name)})`;
  const length = Array.from(name).length;
  if (length > MAX_MODEL_NAME_LENGTH) return `${MODEL_NAME_ALLOWED} (got ${length} characters: ${nameExcerpt(name)})`;
  return undefined;
}

/** A default name (from a file name) made valid: bad characters become `_`, cut to the limit, never empty. */
export function sanitizeModelName(name: string): string {
  const cut = Array.from(replaceUnsafeChars(name, '_')).slice(0, MAX_MODEL_NAME_LENGTH).join('');
  return cut === '' ? 'model' : cut;
}

/** Drops keys whose value is null/undefined, so they read as absent. */
export function withoutNulls(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

export function resolveModel(input: Record<string, unknown>, ctx: ModelContext): ResolvedModel {
  const m = withoutNulls(input);
  const fail = (field: string, problem: string): never => {
    throw inputError(ctx.file, ctx.label(field), problem);
  };
  // before the schema, so every bad name string gets the same message (the schema only refuses CR/LF)
  if (typeof m.name === 'string') {
    const problem = modelNameProblem(m.name);
    if (problem !== undefined) fail('name', problem);
  }
  checkSection('model', m, ctx);
  const has = (k: string): boolean => Object.hasOwn(m, k);
  const num = (k: string, dflt: number): number => (has(k) ? (m[k] as number) : dflt);
  const flag = (k: string, dflt: boolean): boolean => (has(k) ? (m[k] as boolean) : dflt);
  const get = <T>(k: string, dflt: T): T => (has(k) ? (m[k] as T) : dflt);

  const numLayers = m.num_layers as number;
  const hidden = m.hidden_size as number;
  const heads = m.num_attention_heads as number;

  if (!has('kv_channels') && hidden % heads !== 0) {
    fail('kv_channels', `missing: required when hidden_size (${hidden}) is not divisible by num_attention_heads (${heads})`);
  }
  const kvChannels = num('kv_channels', hidden / heads);

  const groups = num('num_query_groups', heads);
  if (heads % groups !== 0) fail('num_query_groups', `must divide num_attention_heads (${heads}) (got ${groups})`);

  const swiglu = flag('swiglu', true);
  let ffn: number;
  if (has('ffn_hidden_size')) ffn = m.ffn_hidden_size as number;
  else {
    ffn = swiglu ? Math.floor((4 * hidden * 2) / 3 / 64) * 64 : 4 * hidden;
    if (ffn < 1) fail('ffn_hidden_size', `missing, and Megatron's default (8·hidden/3 rounded down to 64) is 0 for hidden_size ${hidden}`);
  }

  const mla = flag('multi_latent_attention', false);
  for (const f of MLA_FIELDS) {
    if (!mla && has(f) && m[f] !== MLA_DEFAULTS[f]) fail(f, 'only valid with multi_latent_attention: true');
  }
  if (mla && has('num_query_groups') && groups !== heads) {
    fail('num_query_groups', `must equal num_attention_heads (${heads}) with multi_latent_attention, which has no query groups (got ${groups})`);
  }

  const numExperts = num('num_experts', 0);
  const isMoe = numExperts > 0;
  let layerFreq: number | number[] = 1;
  if (has('moe_layer_freq')) {
    const r = checkLayerFreq(m.moe_layer_freq, numLayers);
    if ('problem' in r) return fail('moe_layer_freq', r.problem);
    layerFreq = r.ok;
  }

  const windowSize = num('window_size', 0);
  let windowSkip: number | number[] = 0;
  // 0 is the resolved "every layer" value (a written-back job holds it), accepted with or without a window
  if (has('window_attn_skip_freq') && m.window_attn_skip_freq !== 0) {
    if (windowSize === 0) fail('window_attn_skip_freq', 'only valid with window_size > 0 (Megatron ignores it without --window-size)');
    const r = checkWindowSkipFreq(m.window_attn_skip_freq, numLayers);
    if ('problem' in r) return fail('window_attn_skip_freq', r.problem);
    windowSkip = r.ok;
  }
  if (windowSize > 0 && mla) fail('window_size', 'sliding-window attention with multi_latent_attention is not modelled');
  const biasLinear = flag('add_bias_linear', false);

  const topk = num('moe_router_topk', 2);
  const scoreFunction = get<ModelSpec['moe_router_score_function']>('moe_router_score_function', 'softmax');
  const preSoftmax = flag('moe_router_pre_softmax', false);
  const numGroups = num('moe_router_num_groups', 0);
  const groupTopk = num('moe_router_group_topk', 0);
  const expertBias = flag('moe_router_enable_expert_bias', false);
  const balancing = get<ModelSpec['moe_router_load_balancing_type']>('moe_router_load_balancing_type', 'aux_loss');
  if (isMoe) {
    if (topk > numExperts) fail('moe_router_topk', `must be <= num_experts (${numExperts}) (got ${topk})`);
    if (groupTopk > 0 && numGroups === 0) fail('moe_router_num_groups', 'must be set (> 0) when moe_router_group_topk is set');
    if (numGroups > 0 && numExperts % numGroups !== 0) {
      fail('moe_router_num_groups', `must divide num_experts (${numExperts}) (got ${numGroups})`);
    }
    if (groupTopk > numGroups) fail('moe_router_group_topk', `must be <= moe_router_num_groups (${numGroups}) (got ${groupTopk})`);
    if (expertBias && scoreFunction !== 'sigmoid') {
      fail('moe_router_enable_expert_bias', `needs moe_router_score_function: sigmoid (got ${scoreFunction})`);
    }
    if (biasLinear && num('moe_shared_expert_intermediate_size', 0) > 0) {
      fail('add_bias_linear', 'is not supported with a shared expert (Megatron-Core shared_experts.py asserts add_bias_linear == False)');
    }
    if (topk === 1 && scoreFunction === 'softmax' && !preSoftmax && balancing !== 'sinkhorn') {
      fail('moe_router_topk', 'is 1 with softmax scoring: Megatron then requires moe_router_pre_softmax: true');
    }
  }

  const hyper = resolveRotaryAndNorms(m, { mla, mtp: num('mtp_num_layers', 0), numExperts, fail });

  const model: ModelSpec = {
    name: has('name') ? (m.name as string) : sanitizeModelName(ctx.defaultName),
    num_layers: numLayers,
    hidden_size: hidden,
    num_attention_heads: heads,
    num_query_groups: groups,
    kv_channels: kvChannels,
    ffn_hidden_size: ffn,
    vocab_size: m.vocab_size as number,
    make_vocab_size_divisible_by: num('make_vocab_size_divisible_by', 128),
    max_position_embeddings: num('max_position_embeddings', 0), // set by finishModel when absent
    swiglu,
    untie_embeddings_and_output_weights: flag('untie_embeddings_and_output_weights', true),
    normalization: get<ModelSpec['normalization']>('normalization', 'RMSNorm'),
    position_embedding_type: get<ModelSpec['position_embedding_type']>('position_embedding_type', 'rope'),
    add_qkv_bias: flag('add_qkv_bias', false),
    add_bias_linear: biasLinear,
    qk_layernorm: flag('qk_layernorm', false),
    softmax_type: get<ModelSpec['softmax_type']>('softmax_type', 'vanilla'),
    window_size: windowSize,
    window_attn_skip_freq: windowSkip,
    num_experts: numExperts,
    moe_router_topk: topk,
    moe_ffn_hidden_size: num('moe_ffn_hidden_size', ffn),
    moe_shared_expert_intermediate_size: num('moe_shared_expert_intermediate_size', 0),
    moe_layer_freq: layerFreq,
    moe_router_score_function: scoreFunction,
    moe_router_pre_softmax: preSoftmax,
    moe_router_num_groups: numGroups,
    moe_router_group_topk: groupTopk,
    moe_router_topk_scaling_factor: num('moe_router_topk_scaling_factor', 0),
    moe_router_enable_expert_bias: expertBias,
    moe_router_load_balancing_type: balancing,
    moe_aux_loss_coeff: num('moe_aux_loss_coeff', isMoe ? 0.01 : 0),
    multi_latent_attention: mla,
    q_lora_rank: num('q_lora_rank', MLA_DEFAULTS.q_lora_rank),
    kv_lora_rank: num('kv_lora_rank', MLA_DEFAULTS.kv_lora_rank),
    qk_head_dim: num('qk_head_dim', MLA_DEFAULTS.qk_head_dim),
    qk_pos_emb_head_dim: num('qk_pos_emb_head_dim', MLA_DEFAULTS.qk_pos_emb_head_dim),
    v_head_dim: num('v_head_dim', MLA_DEFAULTS.v_head_dim),
    mtp_num_layers: num('mtp_num_layers', 0),
    ...hyper,
  };
  return { model, maxPosGiven: has('max_position_embeddings') };
}

type Hyper = Pick<ModelSpec, 'rotary_base' | 'rotary_percent' | 'rope_scaling' | 'norm_epsilon' | 'init_method_std' | 'moe_shared_expert_gate'>;

/**
 * The rotary, norm and initialisation fields with their defaults, and the rules that tie them to the model:
 * - rotary settings need rotary positions (position_embedding_type rope);
 * - rotary_percent, norm_epsilon and init_method_std must be > 0 (the schema allows 0..1);
 * - with MLA: no Llama 3 scaling (MLA has rope and yarn only, multi_latent_attention.py L181–205), rotary_percent 1
 *   (MLA's YaRN rotates all qk_pos_emb_head_dim dimensions), and YaRN's original context and betas as
 *   MLATransformerConfig fixes them (rope.ts MLA_YARN_FIXED: no flag reaches them);
 * - YaRN without MLA is `--position-embedding-type yarn`, which Megatron's multi-token prediction refuses
 *   ([VA]: MTP needs rope, mrope, learned_absolute or none), so YaRN with MTP layers needs MLA;
 * - moe_shared_expert_gate needs a shared expert (Megatron: "Only effective when
 *   moe-shared-expert-intermediate-size is set", transformer_config.py L713–715).
 */
function resolveRotaryAndNorms(
  m: Record<string, unknown>,
  c: { mla: boolean; mtp: number; numExperts: number; fail: (field: string, problem: string) => never },
): Hyper {
  const has = (k: string): boolean => Object.hasOwn(m, k);
  const d = MODEL_HYPER_DEFAULTS;
  const rope = (has('position_embedding_type') ? m.position_embedding_type : 'rope') === 'rope';
  const out: Hyper = {
    rotary_base: has('rotary_base') ? (m.rotary_base as number) : d.rotary_base,
    rotary_percent: has('rotary_percent') ? (m.rotary_percent as number) : d.rotary_percent,
    rope_scaling: null,
    norm_epsilon: has('norm_epsilon') ? (m.norm_epsilon as number) : d.norm_epsilon,
    init_method_std: has('init_method_std') ? (m.init_method_std as number) : d.init_method_std,
    moe_shared_expert_gate: has('moe_shared_expert_gate') ? (m.moe_shared_expert_gate as boolean) : d.moe_shared_expert_gate,
  };
  for (const k of ['rotary_percent', 'norm_epsilon', 'init_method_std'] as const) {
    if (!(out[k] > 0)) c.fail(k, `must be a number > 0 and <= 1 (got ${out[k]})`);
  }
  if (has('rope_scaling')) {
    const r = checkRopeScaling(m.rope_scaling);
    if (!('ok' in r)) return c.fail(r.key === '' ? 'rope_scaling' : `rope_scaling.${r.key}`, r.problem);
    out.rope_scaling = r.ok;
  }
  if (!rope) {
    for (const k of ['rotary_base', 'rotary_percent'] as const) {
      if (out[k] !== d[k]) c.fail(k, `only valid with position_embedding_type: rope (got ${String(m.position_embedding_type)})`);
    }
    if (out.rope_scaling !== null) c.fail('rope_scaling', `only valid with position_embedding_type: rope (got ${String(m.position_embedding_type)})`);
  }
  const rs: RopeScaling | null = out.rope_scaling;
  if (c.mla) {
    if (out.rotary_percent !== 1) c.fail('rotary_percent', 'must be 1 with multi_latent_attention (its YaRN rotates every qk_pos_emb_head_dim dimension)');
    if (rs?.type === 'llama3') c.fail('rope_scaling.type', 'must be yarn with multi_latent_attention (Megatron-LM\'s MLA has rope and yarn only)');
    if (rs?.type === 'yarn') {
      for (const [k, fixed] of Object.entries(MLA_YARN_FIXED)) {
        if (rs[k as keyof typeof MLA_YARN_FIXED] !== fixed) {
          c.fail(`rope_scaling.${k}`, `must be ${fixed} with multi_latent_attention: Megatron-LM's MLA takes it from MLATransformerConfig, no flag sets it (got ${rs[k as keyof typeof MLA_YARN_FIXED]})`);
        }
      }
    }
  } else if (rs?.type === 'yarn' && c.mtp > 0) {
    c.fail('rope_scaling', 'yarn without multi_latent_attention is --position-embedding-type yarn, which Megatron-LM refuses with mtp_num_layers > 0');
  }
  if (out.moe_shared_expert_gate && (c.numExperts === 0 || !(has('moe_shared_expert_intermediate_size') && (m.moe_shared_expert_intermediate_size as number) > 0))) {
    c.fail('moe_shared_expert_gate', 'needs a shared expert (moe_shared_expert_intermediate_size > 0 on an MoE model)');
  }
  return out;
}

/**
 * Completes the model once seq_length is known: the max_position_embeddings default, or Megatron's rule
 * max_position_embeddings >= seq_length for a written value ([VA] L1354).
 */
export function finishModel(
  r: ResolvedModel,
  seqLength: number,
  ctx: { file: string; label: (field: string) => string; seqLabel: string },
): ModelSpec {
  const model = r.model;
  if (!r.maxPosGiven) model.max_position_embeddings = Math.max(seqLength, 4096);
  else if (model.max_position_embeddings < seqLength) {
    throw inputError(
      ctx.file,
      ctx.label('max_position_embeddings'),
      `must be >= ${ctx.seqLabel} (${seqLength}) (got ${model.max_position_embeddings})`,
    );
  }
  return model;
}
