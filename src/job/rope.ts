/**
 * Rotary position settings: the `rope_scaling` model field (its two forms, their Megatron-LM defaults and the
 * values Megatron fixes in code), read from a job file and from a Hugging Face `rope_scaling`. One home for these
 * rules; resolve-model.ts ties them to the other model fields, the Megatron export writes them.
 *
 * Megatron-LM HEAD d98e8a6 has two ways to scale rotary positions:
 * - Llama 3.x: `--use-rope-scaling` with `--rope-scaling-factor` (float, default 8.0; megatron/training/arguments.py
 *   L2424–2427). RotaryEmbedding._apply_scaling (megatron/core/models/common/embeddings/rotary_pos_embedding.py
 *   L91–125) is called with the factor only, so low_freq_factor 1, high_freq_factor 4 and an original context of
 *   8192 are fixed (LLAMA3_FIXED). It runs only for `--position-embedding-type rope` without MLA
 *   (megatron/core/models/gpt/gpt_model.py L184–194).
 * - YaRN: `--position-embedding-type yarn` for standard attention, whose settings are `--rotary-scaling-factor`
 *   (default 1.0), `--yarn-original-max-position-embeddings` (None → 4096), `--yarn-beta-fast` (None → 32),
 *   `--yarn-beta-slow` (None → 1), `--mscale` (1.0), `--mscale-all-dim` (0.0) (arguments.py L2400–2409, L3558–3563;
 *   megatron/training/argument_utils.py _apply_yarn_config_from_args L384–413). Multi-latent attention takes
 *   YaRN by default (MLATransformerConfig.rope_type "yarn", transformer_config.py L3306) and reads its settings
 *   from MLATransformerConfig fields filled from args of the same name (argument_utils.py L300–303): the factor,
 *   mscale and mscale_all_dim come from `--rotary-scaling-factor`, `--mscale`, `--mscale-all-dim`, but no flag
 *   is named original_max_position_embeddings, beta_fast or beta_slow, so MLA always runs the dataclass's
 *   4096 / 32 / 1 (MLA_YARN_FIXED).
 */
import { LIMITS, ROPE_SCALING_ALLOWED, excerpt, gotText } from './fields.js';

export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

export interface YarnRopeScaling {
  type: 'yarn';
  factor: number;
  original_max_position_embeddings: number;
  beta_fast: number;
  beta_slow: number;
  mscale: number;
  mscale_all_dim: number;
}

export type RopeScaling = Llama3RopeScaling | YarnRopeScaling;

/** What Megatron's Llama 3.x scaling fixes in code (rotary_pos_embedding.py _apply_scaling defaults). */
export const LLAMA3_FIXED = { low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } as const;

/** Megatron-LM's argument defaults for `--rope-scaling-factor` and `--rotary-scaling-factor`. */
export const MEGATRON_ROPE_SCALING_FACTOR_DEFAULT = 8.0;
export const MEGATRON_ROTARY_SCALING_FACTOR_DEFAULT = 1.0;

/** The YaRN settings Megatron uses when no flag sets them (argument_utils.py L407–412). */
export const YARN_DEFAULTS = {
  original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1, mscale: 1, mscale_all_dim: 0,
} as const;

/** What MLA's YaRN takes from MLATransformerConfig's defaults whatever the flags say (transformer_config.py L3318–3325). */
export const MLA_YARN_FIXED = { original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1 } as const;

const LLAMA3_KEYS = ['type', 'factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'];
const YARN_KEYS = ['type', 'factor', 'original_max_position_embeddings', 'beta_fast', 'beta_slow', 'mscale', 'mscale_all_dim'];

/** A problem with one key of a rope_scaling mapping: `key` is the sub-field ('' for the mapping itself). */
export interface RopeProblem {
  key: string;
  problem: string;
}

export function isPlainMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A positive finite number up to LIMITS.coefficient, or undefined. */
function positive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= LIMITS.coefficient;
}

/**
 * A job file's `rope_scaling` mapping → the resolved form (every setting filled with Megatron's value), or the
 * problem. A llama3 mapping may restate the fixed factors; a value other than Megatron's is refused.
 */
export function checkRopeScaling(v: unknown): { ok: RopeScaling } | RopeProblem {
  if (!isPlainMapping(v)) return { key: '', problem: `must be ${ROPE_SCALING_ALLOWED} (got ${gotText(v)})` };
  const type = v.type;
  if (type !== 'llama3' && type !== 'yarn') return { key: 'type', problem: `must be llama3 or yarn (got ${gotText(type)})` };
  const keys = type === 'llama3' ? LLAMA3_KEYS : YARN_KEYS;
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) return { key: k.length <= 64 ? k : excerpt(k, 24), problem: `unknown field for type ${type} (allowed: ${keys.join(', ')})` };
  }
  if (!positive(v.factor)) return { key: 'factor', problem: `must be a number > 0 and <= ${LIMITS.coefficient} (got ${gotText(v.factor)})` };
  const factor = v.factor;
  if (type === 'llama3') {
    for (const [k, fixed] of Object.entries(LLAMA3_FIXED)) {
      if (k in v && v[k] !== fixed) {
        return { key: k, problem: `must be ${fixed}: Megatron-LM's Llama 3 rope scaling fixes it (rotary_pos_embedding.py _apply_scaling) (got ${gotText(v[k])})` };
      }
    }
    return { ok: { type, factor, ...LLAMA3_FIXED } };
  }
  const out: YarnRopeScaling = { type, factor, ...YARN_DEFAULTS };
  if ('original_max_position_embeddings' in v) {
    const o = v.original_max_position_embeddings;
    if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 1 || o > LIMITS.positions) {
      return { key: 'original_max_position_embeddings', problem: `must be an integer from 1 to ${LIMITS.positions} (got ${gotText(o)})` };
    }
    out.original_max_position_embeddings = o;
  }
  for (const k of ['beta_fast', 'beta_slow', 'mscale'] as const) {
    if (!(k in v)) continue;
    if (!positive(v[k])) return { key: k, problem: `must be a number > 0 and <= ${LIMITS.coefficient} (got ${gotText(v[k])})` };
    out[k] = v[k];
  }
  if ('mscale_all_dim' in v) {
    const x = v.mscale_all_dim;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > LIMITS.coefficient || Object.is(x, -0)) {
      return { key: 'mscale_all_dim', problem: `must be a number from 0 to ${LIMITS.coefficient} (got ${gotText(x)})` };
    }
    out.mscale_all_dim = x;
  }
  return { ok: out };
}

/**
 * A Hugging Face `rope_scaling` (transformers modeling_rope_utils.py: `rope_type`, or the older `type`) → the
 * job's rope_scaling mapping, null for none, or the problem (a form Megatron cannot express):
 * - absent, null or rope_type "default": none;
 * - "llama3": factor, with low_freq_factor / high_freq_factor / original_max_position_embeddings as Megatron
 *   fixes them (others refused);
 * - "yarn": factor, original_max_position_embeddings (HF's default is the config's max_position_embeddings),
 *   beta_fast (32), beta_slow (1); HF's attention factor is get_mscale(factor, mscale) / get_mscale(factor,
 *   mscale_all_dim) only when both are set, else get_mscale(factor): Megatron's YaRN computes the same ratio
 *   with mscale 1 and mscale_all_dim 0 for the latter. An explicit attention_factor or truncate false is refused.
 * - any other type (linear, dynamic, longrope, …): refused.
 */
export function ropeScalingFromHf(v: unknown, maxPos: number | undefined, mla = false): { ok: Record<string, unknown> | null } | RopeProblem {
  if (v === undefined || v === null) return { ok: null };
  if (!isPlainMapping(v)) return { key: '', problem: `must be a mapping with rope_type (got ${gotText(v)})` };
  const type = v.rope_type ?? v.type;
  const typeKey = 'rope_type' in v ? 'rope_type' : 'type';
  if (type === 'default') return { ok: null };
  const num = (k: string): number | undefined => (typeof v[k] === 'number' ? (v[k] as number) : undefined);
  if (type === 'llama3') {
    for (const [k, fixed] of Object.entries(LLAMA3_FIXED)) {
      if (num(k) !== fixed) {
        return { key: k, problem: `must be ${fixed}: Megatron-LM's Llama 3 rope scaling fixes it (got ${gotText(v[k])})` };
      }
    }
    return { ok: { type: 'llama3', factor: v.factor } };
  }
  if (type === 'yarn') {
    if (v.attention_factor !== undefined && v.attention_factor !== null) {
      return { key: 'attention_factor', problem: 'an explicit YaRN attention factor cannot be expressed with Megatron-LM\'s flags' };
    }
    if (v.truncate === false) return { key: 'truncate', problem: "YaRN without rounding the correction range is not represented by moefold's rope_scaling (Megatron-LM has --no-yarn-correction-range-round-to-int for standard attention only; MLA always rounds)" };
    const out: Record<string, unknown> = { type: 'yarn', factor: v.factor };
    const orig = v.original_max_position_embeddings ?? maxPos;
    if (orig !== undefined) out.original_max_position_embeddings = orig;
    if (v.beta_fast !== undefined && v.beta_fast !== null) out.beta_fast = v.beta_fast;
    if (v.beta_slow !== undefined && v.beta_slow !== null) out.beta_slow = v.beta_slow;
    const ms = v.mscale;
    const msAll = v.mscale_all_dim;
    // HF's DeepSeek attention (MLA) scales the softmax by yarn_get_mscale(factor, mscale_all_dim)^2 whenever
    // mscale_all_dim is set, mscale or not; Megatron's MLA takes both from --mscale/--mscale-all-dim
    // (multi_latent_attention.py L177 at d98e8a6) and the rotary ratio from them too: without mscale no flag setting
    // reproduces both
    if (mla && typeof msAll === 'number' && msAll !== 0 && !(typeof ms === 'number' && ms !== 0)) {
      return { key: 'mscale', problem: `must be set beside mscale_all_dim ${msAll} for multi-latent attention: Megatron-LM's --mscale/--mscale-all-dim cannot reproduce HF's softmax scale without it (got ${gotText(ms)})` };
    }
    // HF uses both only when both are set and non-zero (modeling_rope_utils.py _compute_yarn_parameters)
    if (typeof ms === 'number' && ms !== 0 && typeof msAll === 'number' && msAll !== 0) {
      out.mscale = ms;
      out.mscale_all_dim = msAll;
    }
    return { ok: out };
  }
  return { key: typeKey, problem: `rope scaling ${gotText(type)} cannot be expressed with Megatron-LM's flags (it has llama3 and yarn)` };
}
