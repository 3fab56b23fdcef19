/**
 * Fine-tuning on a frozen, possibly compressed base: the `training:` fields `frozen`, `base_weights` and the LoRA
 * adapter fields, their defaults, allowed values and the rules that tie them together. One home for these rules;
 * the cost model reads the resolved values (src/cost/finetune-shape.ts, terms/base-weights.ts,
 * terms/lora-adapters.ts), the exports write or refuse them.
 *
 * LoRA follows Megatron-Bridge's performant LoRA (src/megatron/bridge/peft/lora.py at 067f987): adapters on the
 * Megatron module names `target_modules` (default linear_qkv, linear_proj, linear_fc1, linear_fc2), rank `dim`
 * (default 32), `alpha` (default 32), one adapter per grouped expert linear shared by the local experts of an EP
 * rank (`share_expert_adapters`, default true). Bridge's PEFT freezes every base parameter (docs/training/peft.md:
 * "Parameter Freezing: Base model parameters are frozen ... only adapter parameters are updated").
 *
 * Base weight formats (the GEMM weights of the decoder layers; embedding, output layer, norms and router stay bf16,
 * as GPTQ, AWQ, AQLM and JLCM checkpoints keep them):
 *   bf16      2 B per weight (the default: plain LoRA)
 *   fp8       1 B per weight + one scale per `group_size` weights (default 128×128 = 16,384 blocks with fp32
 *             scales, the blockwise recipe of DeepSeek-V3 and Transformer Engine); FP8 GEMMs read them as they are
 *   int4      4 bits per weight + one scale per `group_size` (default 128, 2 B: GPTQ/AWQ group quantisation)
 *   codebook  `bits_per_weight` index bits per weight (default codebooks_per_tensor·log2(codebook_size)/codebook_dim,
 *             AQLM's rule; JLCM-style mappings state it directly) + codebooks_per_tensor codebooks of codebook_size
 *             entries × codebook_dim values (codebook_entry_bytes each, default 2) per weight tensor as the Hugging
 *             Face checkpoint stores it (q, k, v, o, gate, up, down: codebooks are per tensor, sharding does not
 *             divide them) + optional per-group scales
 * int4 and codebook weights are decoded for every GEMM (`decode: per_gemm`, the default) or once at load into a
 * bf16 copy held in memory (`decode: resident`); both are costed (terms/base-weights.ts).
 */
import { BASE_WEIGHTS_ALLOWED, LORA_TARGETS, excerpt, gotText, type LoraTarget } from './fields.js';

export { LORA_TARGETS, type LoraTarget } from './fields.js';
import { isPlainMapping } from './rope.js';
import { inputError } from './errors.js';
import type { ModelSpec, Precision } from './types.js';

export type BaseWeightFormat = 'bf16' | 'fp8' | 'int4' | 'codebook';
export const BASE_WEIGHT_FORMATS: readonly BaseWeightFormat[] = ['bf16', 'fp8', 'int4', 'codebook'];
/** none: the GEMMs read the stored weights (bf16, fp8); per_gemm / resident: see the file header. */
export type BaseDecode = 'none' | 'per_gemm' | 'resident';

/** The resolved base_weights mapping: every field filled (0 where a format has no such part). */
export interface BaseWeightsSpec {
  format: BaseWeightFormat;
  /** Stored bits per weight of the compressed GEMM weights (indices for a codebook). */
  bits_per_weight: number;
  /** Weights per scale; 0 = no scales. */
  group_size: number;
  scale_bytes: number;
  /** Codebook formats only (0 otherwise). */
  codebook_size: number;
  codebook_dim: number;
  codebooks_per_tensor: number;
  codebook_entry_bytes: number;
  decode: BaseDecode;
}

/** Bridge's LoRA defaults (lora.py LoRA dataclass). */
export const BRIDGE_LORA_DEFAULT_TARGETS: readonly LoraTarget[] = ['linear_qkv', 'linear_proj', 'linear_fc1', 'linear_fc2'];
export const BRIDGE_LORA_DEFAULT_ALPHA = 32;

/** The fine-tuning facts of a run, as TrainingSpec holds them. */
export interface FinetuneSpec {
  /** The base model's parameters get no gradients and no optimizer state. */
  frozen: boolean;
  base_weights: BaseWeightsSpec;
  /** LoRA rank (Bridge's `dim`); 0 = no adapters. */
  lora_rank: number;
  lora_alpha: number;
  /** The modules LoRA adapts, those of the model only (the default: Bridge's list less the modules it lacks). */
  lora_target_modules: LoraTarget[];
  lora_share_expert_adapters: boolean;
}


const BF16_BASE: BaseWeightsSpec = {
  format: 'bf16', bits_per_weight: 16, group_size: 0, scale_bytes: 0, codebook_size: 0, codebook_dim: 0,
  codebooks_per_tensor: 0, codebook_entry_bytes: 0, decode: 'none',
};

/** Defaults of each format (the file header gives their sources). */
const FORMAT_DEFAULTS: Readonly<Record<BaseWeightFormat, BaseWeightsSpec>> = {
  bf16: BF16_BASE,
  fp8: { ...BF16_BASE, format: 'fp8', bits_per_weight: 8, group_size: 16_384, scale_bytes: 4 },
  int4: { ...BF16_BASE, format: 'int4', bits_per_weight: 4, group_size: 128, scale_bytes: 2, decode: 'per_gemm' },
  codebook: {
    ...BF16_BASE, format: 'codebook', bits_per_weight: 0, group_size: 0, scale_bytes: 2, codebook_size: 0,
    codebook_dim: 0, codebooks_per_tensor: 1, codebook_entry_bytes: 2, decode: 'per_gemm',
  },
};

export function defaultFinetune(): FinetuneSpec {
  return {
    frozen: false, base_weights: { ...BF16_BASE }, lora_rank: 0, lora_alpha: BRIDGE_LORA_DEFAULT_ALPHA,
    lora_target_modules: [...BRIDGE_LORA_DEFAULT_TARGETS], lora_share_expert_adapters: true,
  };
}

/** A problem with one key of the base_weights mapping ('' for the mapping itself). */
interface Problem { key: string; problem: string }

const BASE_KEYS = ['format', 'bits_per_weight', 'group_size', 'scale_bytes', 'codebook_size', 'codebook_dim',
  'codebooks_per_tensor', 'codebook_entry_bytes', 'decode'] as const;
const CODEBOOK_KEYS: readonly string[] = ['codebook_size', 'codebook_dim', 'codebooks_per_tensor', 'codebook_entry_bytes'];

const INT_BOUNDS: Readonly<Record<string, [number, number]>> = {
  group_size: [0, 16_777_216],
  scale_bytes: [0, 8],
  codebook_size: [2, 16_777_216],
  codebook_dim: [1, 1024],
  codebooks_per_tensor: [1, 65_536],
  codebook_entry_bytes: [1, 4],
};

/**
 * A job's base_weights mapping → the resolved form, or the problem. Fields that a format has no use for are refused
 * unless they hold the resolved form's 0 (so a plans file's job reads back).
 */
export function checkBaseWeights(v: unknown, precision: Precision): { ok: BaseWeightsSpec } | Problem {
  if (!isPlainMapping(v)) return { key: '', problem: `must be ${BASE_WEIGHTS_ALLOWED} (got ${gotText(v)})` };
  for (const k of Object.keys(v)) {
    if (!(BASE_KEYS as readonly string[]).includes(k)) {
      return { key: k.length <= 64 ? k : excerpt(k, 24), problem: `unknown field (allowed: ${BASE_KEYS.join(', ')})` };
    }
  }
  const format = v.format ?? 'bf16';
  if (typeof format !== 'string' || !(BASE_WEIGHT_FORMATS as readonly string[]).includes(format)) {
    return { key: 'format', problem: `must be one of ${BASE_WEIGHT_FORMATS.join(', ')} (got ${gotText(format)})` };
  }
  const f = format as BaseWeightFormat;
  const out: BaseWeightsSpec = { ...FORMAT_DEFAULTS[f] };
  for (const [k, [min, max]] of Object.entries(INT_BOUNDS)) {
    if (!(k in v)) continue;
    const x = v[k];
    const zeroOk = f !== 'codebook' && CODEBOOK_KEYS.includes(k) && x === 0;
    if (zeroOk) continue;
    if (f !== 'codebook' && CODEBOOK_KEYS.includes(k)) return { key: k, problem: `is a codebook field: only with format codebook (got format ${f})` };
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) {
      return { key: k, problem: `must be an integer from ${min} to ${max} (got ${gotText(x)})` };
    }
    (out as unknown as Record<string, number>)[k] = x;
  }
  if (f === 'bf16' && (out.group_size !== 0 || out.scale_bytes !== 0)) {
    return { key: out.group_size !== 0 ? 'group_size' : 'scale_bytes', problem: 'must be 0 with format bf16 (a bf16 base has no scales)' };
  }
  if (out.group_size === 0) {
    // no groups, no scales: the resolved form says 0 (so a plans file's job reads back)
    if ('scale_bytes' in v && out.scale_bytes !== 0) {
      return { key: 'scale_bytes', problem: `needs group_size > 0 (weights per scale) with format ${f}` };
    }
    out.scale_bytes = 0;
  }
  if ('bits_per_weight' in v) {
    const b = v.bits_per_weight;
    const fixed = f === 'bf16' ? 16 : f === 'fp8' ? 8 : f === 'int4' ? 4 : null;
    if (fixed !== null && b !== fixed) return { key: 'bits_per_weight', problem: `must be ${fixed} with format ${f} (got ${gotText(b)})` };
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || b > 16) {
      return { key: 'bits_per_weight', problem: `must be a number > 0 and <= 16 (got ${gotText(b)})` };
    }
    out.bits_per_weight = b;
  }
  if (f === 'codebook') {
    for (const k of ['codebook_size', 'codebook_dim'] as const) {
      if (!(k in v)) return { key: k, problem: 'is required with format codebook (entries per codebook, values per entry)' };
    }
    if (!('bits_per_weight' in v)) out.bits_per_weight = (out.codebooks_per_tensor * Math.ceil(Math.log2(out.codebook_size))) / out.codebook_dim;
    if (out.bits_per_weight > 16) {
      return { key: 'bits_per_weight', problem: `must be <= 16 (codebooks_per_tensor·log2(codebook_size)/codebook_dim = ${out.bits_per_weight}: no compression)` };
    }
  }
  if ('decode' in v) {
    const d = v.decode;
    const compressed = f === 'int4' || f === 'codebook';
    if (compressed ? d !== 'per_gemm' && d !== 'resident' : d !== 'none') {
      return { key: 'decode', problem: compressed ? `must be per_gemm or resident (got ${gotText(d)})`
        : `must be none with format ${f}: its GEMMs read the stored weights (got ${gotText(d)})` };
    }
    out.decode = d as BaseDecode;
  }
  if (f === 'fp8' && precision !== 'fp8') {
    return { key: 'format', problem: 'fp8 base weights feed FP8 GEMMs: set training.precision fp8' };
  }
  if ((f === 'int4' || f === 'codebook') && precision !== 'bf16') {
    return { key: 'format', problem: `${f} weights decode to bf16: moefold prices their GEMMs in bf16 only (set training.precision bf16)` };
  }
  return { ok: out };
}

/** The resolved fine-tuning fields of a `training:` mapping already checked against the field table. */
export function resolveFinetune(t: Record<string, unknown>, file: string, precision: Precision): FinetuneSpec {
  const out = defaultFinetune();
  const fail = (k: string, why: string): never => {
    throw inputError(file, `training.${k}`, why);
  };
  if ('base_weights' in t) {
    const r = checkBaseWeights(t.base_weights, precision);
    if (!('ok' in r)) fail(r.key === '' ? 'base_weights' : `base_weights.${r.key}`, r.problem);
    else out.base_weights = r.ok;
  }
  if ('lora_rank' in t) out.lora_rank = t.lora_rank as number;
  if ('lora_alpha' in t) out.lora_alpha = t.lora_alpha as number;
  if ('lora_share_expert_adapters' in t) out.lora_share_expert_adapters = t.lora_share_expert_adapters as boolean;
  if ('lora_target_modules' in t) {
    const mods = t.lora_target_modules as LoraTarget[];
    if (mods.length === 0) fail('lora_target_modules', 'must list at least one module (Bridge\'s default: leave it out)');
    out.lora_target_modules = [...mods];
  }
  out.frozen = 'frozen' in t ? t.frozen as boolean : out.lora_rank > 0 || out.base_weights.format !== 'bf16';
  if (out.base_weights.format !== 'bf16' && !out.frozen) {
    fail('frozen', `must be true with base_weights.format ${out.base_weights.format}: compressed weights are not trained`);
  }
  if (out.frozen && out.lora_rank === 0) {
    fail('lora_rank', 'must be >= 1 with frozen: true (a frozen base with no adapters trains nothing)');
  }
  if (out.lora_rank > 0 && !out.frozen) {
    fail('frozen', 'must be true with lora_rank > 0 (Megatron-Bridge\'s PEFT freezes the base model)');
  }
  return out;
}

/** The LoRA targets that name a module of `m` (MLA models have no linear_qkv; GQA models no MLA projections). */
export function modelLoraTargets(m: ModelSpec): readonly LoraTarget[] {
  const mla = m.multi_latent_attention;
  return LORA_TARGETS.filter((t) => {
    if (t === 'linear_qkv') return !mla;
    if (t === 'linear_q_proj') return mla && m.q_lora_rank === 0;
    if (t === 'linear_q_down_proj' || t === 'linear_q_up_proj') return mla && m.q_lora_rank > 0;
    if (t === 'linear_kv_down_proj' || t === 'linear_kv_up_proj') return mla;
    return true;
  });
}

/**
 * Ties the fine-tuning fields to the model once it is known: the default target list keeps the modules the model
 * has (Bridge matches names, so linear_qkv adapts nothing in an MLA model); a listed target the model lacks is
 * refused. `given`: the job file listed lora_target_modules.
 */
export function finishFinetune(f: FinetuneSpec, m: ModelSpec, given: boolean, file: string): void {
  const has = modelLoraTargets(m);
  if (!given) {
    f.lora_target_modules = f.lora_target_modules.filter((t) => has.includes(t));
    return;
  }
  const missing = f.lora_target_modules.find((t) => !has.includes(t));
  if (missing !== undefined) {
    throw inputError(file, 'training.lora_target_modules', `${missing} is not a module of this model (its modules: ${has.join(', ')})`);
  }
}

/** True when the run trains LoRA adapters on a frozen base. */
export function isLoraRun(f: Pick<FinetuneSpec, 'frozen' | 'lora_rank'>): boolean {
  return f.frozen && f.lora_rank > 0;
}
