/**
 * The fields a job file may hold, one table per section, with the values each accepts. The JSON Schemas
 * (schema.ts) and the "what is allowed" part of every error message are both built from these tables, so
 * the two never disagree.
 *
 * Every number has an upper bound, checked when the file is read: a value past it is refused with one line
 * instead of reaching the enumerator (which sizes arrays and divisor searches by these numbers). The bounds
 * are far above any model or cluster built so far, and all are below 2^53, so a number JavaScript cannot
 * hold exactly (9007199254740993 reads as ...992) is refused too.
 */
import { STACK_FIELDS } from './stack.js';

export type FieldRule =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'text' }
  | { kind: 'name' }
  /** A calibration: a name of cost-models/ or the path of a calibration file. */
  | { kind: 'calibration' }
  /** A list of file paths (calibration overlays). */
  | { kind: 'pathList' }
  | { kind: 'layerFreq' }
  /** The rope_scaling mapping (its content is checked in rope.ts). */
  | { kind: 'ropeScaling' }
  /** The base_weights mapping (its content is checked in finetune.ts). */
  | { kind: 'baseWeights' }
  /** A list of distinct words from `values` (at most `values.length` entries). */
  | { kind: 'enumList'; values: readonly string[] };

const int = (min: number, max: number): FieldRule => ({ kind: 'int', min, max });
const num = (min: number, max: number): FieldRule => ({ kind: 'number', min, max });
const bool: FieldRule = { kind: 'bool' };
const oneOf = (...values: string[]): FieldRule => ({ kind: 'enum', values });

/** Largest values, each with the reason it is enough. */
export const LIMITS = {
  /** DeepNet trained 1,000 layers; public LLMs have <= 128. */
  layers: 1024,
  /** 8x the widest public model (hidden 16,384). */
  hidden: 131_072,
  /** Heads and query groups: 64x Llama-3-405B's 128. */
  heads: 8192,
  /** Head dimensions: public models use 64..256. */
  headDim: 16_384,
  /** FFN widths: 4 x the largest hidden size with margin (public: <= 73,728). */
  ffn: 1_048_576,
  /** Shared-expert width: several shared experts of the largest FFN width. */
  sharedFfn: 4_194_304,
  /** 16x Gemma's 262,144-token vocabulary. */
  vocab: 4_194_304,
  /** A padding multiple, not a size. */
  vocabDivisor: 65_536,
  /** Positions (2^30): long-context HF configs state up to ~10M. */
  positions: 1_073_741_824,
  /** 40x Kimi-K2's 384 routed experts. */
  experts: 16_384,
  /** DeepSeek-V3 predicts 1 extra token. */
  mtpLayers: 64,
  /** Rotary base (Megatron's --rotary-base, an int): public models use 1e4..1e7. */
  rotaryBase: 1e12,
  /** Router scaling and loss coefficients: DeepSeek uses 2.5; loss coefficients are ~0.01. */
  coefficient: 1000,
  /** 16M tokens per sequence: the longest-context training runs use ~1M. */
  seqLength: 16_777_216,
  /** 1M sequences per step: large runs use ~1K–16K. */
  globalBatch: 1_048_576,
  /** 2^20 GPUs: 10x the largest clusters (~100K). */
  gpus: 1_048_576,
  /** NVL72: the largest NVLink domain shipping today. */
  gpusPerNode: 72,
  /** NVLink Switch System: up to 576 GPUs in one NVLink 5 domain (NVIDIA GB200 NVL72 announcement). */
  nvlinkDomain: 576,
} as const;

/** Words for the allowed `rope_scaling` mapping (rope.ts checks it), in messages. */
export const ROPE_SCALING_ALLOWED =
  'a mapping {type: llama3, factor} or {type: yarn, factor, original_max_position_embeddings, beta_fast, beta_slow, '
  + 'mscale, mscale_all_dim}, or null';

/**
 * Megatron-Bridge's performant-LoRA target names (the Megatron modules): the GQA/MHA and MLP linears, and the MLA
 * projections (linear_q_proj without q-LoRA; linear_q_down_proj, linear_q_up_proj with it).
 */
export const LORA_TARGETS = ['linear_qkv', 'linear_proj', 'linear_fc1', 'linear_fc2', 'linear_q_proj',
  'linear_q_down_proj', 'linear_q_up_proj', 'linear_kv_down_proj', 'linear_kv_up_proj'] as const;
export type LoraTarget = typeof LORA_TARGETS[number];

/** The largest LoRA rank accepted: public recipes use 8..256. */
export const LORA_RANK_MAX = 65_536;

/** Words for the allowed `base_weights` mapping (finetune.ts checks it), in messages. */
export const BASE_WEIGHTS_ALLOWED = 'a mapping {format: bf16 | fp8 | int4 | codebook, bits_per_weight, group_size, '
  + 'scale_bytes, codebook_size, codebook_dim, codebooks_per_tensor, codebook_entry_bytes, decode: per_gemm | resident}';

/** Model fields: Megatron-LM's argument names (the `--kebab-case` flag with `_` for `-`). */
/** What a `name` field (a GPU calibration name) may hold: the schema and the --gpu override both use it. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

export const MODEL_FIELDS: Readonly<Record<string, FieldRule>> = {
  name: { kind: 'text' },
  num_layers: int(1, LIMITS.layers),
  hidden_size: int(1, LIMITS.hidden),
  num_attention_heads: int(1, LIMITS.heads),
  num_query_groups: int(1, LIMITS.heads),
  kv_channels: int(1, LIMITS.headDim),
  ffn_hidden_size: int(1, LIMITS.ffn),
  vocab_size: int(1, LIMITS.vocab),
  make_vocab_size_divisible_by: int(1, LIMITS.vocabDivisor),
  max_position_embeddings: int(1, LIMITS.positions),
  swiglu: bool,
  untie_embeddings_and_output_weights: bool,
  normalization: oneOf('RMSNorm', 'LayerNorm'),
  position_embedding_type: oneOf('rope', 'learned_absolute', 'none'),
  add_qkv_bias: bool,
  add_bias_linear: bool,
  qk_layernorm: bool,
  softmax_type: oneOf('vanilla', 'off-by-one', 'learnable'),
  window_size: int(0, LIMITS.positions),
  window_attn_skip_freq: { kind: 'layerFreq' },
  num_experts: int(0, LIMITS.experts),
  moe_router_topk: int(1, LIMITS.experts),
  moe_ffn_hidden_size: int(1, LIMITS.ffn),
  moe_shared_expert_intermediate_size: int(0, LIMITS.sharedFfn),
  moe_layer_freq: { kind: 'layerFreq' },
  moe_router_score_function: oneOf('softmax', 'sigmoid'),
  moe_router_pre_softmax: bool,
  moe_router_num_groups: int(0, LIMITS.experts),
  moe_router_group_topk: int(0, LIMITS.experts),
  moe_router_topk_scaling_factor: num(0, LIMITS.coefficient),
  moe_router_enable_expert_bias: bool,
  moe_router_load_balancing_type: oneOf('aux_loss', 'seq_aux_loss', 'global_aux_loss', 'sinkhorn', 'none'),
  moe_aux_loss_coeff: num(0, LIMITS.coefficient),
  multi_latent_attention: bool,
  q_lora_rank: int(0, LIMITS.hidden),
  kv_lora_rank: int(1, LIMITS.hidden),
  qk_head_dim: int(1, LIMITS.headDim),
  qk_pos_emb_head_dim: int(0, LIMITS.headDim),
  v_head_dim: int(1, LIMITS.headDim),
  mtp_num_layers: int(0, LIMITS.mtpLayers),
  // rotary positions, norms and initialisation (Megatron-LM HEAD d98e8a6: --rotary-base type=int and
  // --rotary-percent, arguments.py L2418–2421; --norm-epsilon is TransformerConfig.layernorm_epsilon and
  // --init-method-std / --moe-shared-expert-gate are TransformerConfig fields turned into flags by
  // argument_utils.py ArgumentGroupFactory, transformer_config.py L201, L400, L713)
  rotary_base: int(1, LIMITS.rotaryBase),
  rotary_percent: num(0, 1),
  rope_scaling: { kind: 'ropeScaling' },
  norm_epsilon: num(0, 1),
  init_method_std: num(0, 1),
  moe_shared_expert_gate: bool,
};

/** Megatron requires these (the tokenizer gives vocab_size in Megatron; here it must be written). */
export const MODEL_REQUIRED = ['num_layers', 'hidden_size', 'num_attention_heads', 'vocab_size'] as const;

/** Multi-latent-attention fields: only meaningful with `multi_latent_attention: true`. */
export const MLA_FIELDS = ['q_lora_rank', 'kv_lora_rank', 'qk_head_dim', 'qk_pos_emb_head_dim', 'v_head_dim'] as const;

/** Training fields: the run's shape, then the software-stack facts (stack.ts, one row each). */
export const TRAINING_FIELDS: Readonly<Record<string, FieldRule>> = {
  seq_length: int(1, LIMITS.seqLength),
  global_batch_size: int(1, LIMITS.globalBatch),
  precision: oneOf('bf16', 'fp8'),
  // fine-tuning on a frozen base (finetune.ts)
  frozen: bool,
  base_weights: { kind: 'baseWeights' },
  lora_rank: int(0, LORA_RANK_MAX),
  lora_alpha: num(0.001, 1_000_000),
  lora_target_modules: { kind: 'enumList', values: LORA_TARGETS },
  lora_share_expert_adapters: bool,
  ...Object.fromEntries(Object.entries(STACK_FIELDS).map(([k, f]) => [k, f.rule])),
};

export const CLUSTER_FIELDS: Readonly<Record<string, FieldRule>> = {
  gpu: { kind: 'calibration' },
  calibrations: { kind: 'pathList' },
  gpus: int(1, LIMITS.gpus),
  gpus_per_node: int(1, LIMITS.gpusPerNode),
  nvlink_domain: int(1, LIMITS.nvlinkDomain),
};

/** Keys a job file may hold at top level besides (flat form) the model fields. */
export const SECTION_KEYS = ['model', 'training', 'cluster'] as const;

/** Words for "what is allowed", as used in `must be <allowed> (got <value>)`. */
export function allowedText(rule: FieldRule): string {
  switch (rule.kind) {
    case 'int':
      return `an integer from ${rule.min} to ${rule.max}`;
    case 'number':
      return `a number from ${rule.min} to ${rule.max}`;
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${rule.values.join(', ')}`;
    case 'text':
      return 'a non-empty one-line string';
    case 'name':
      return 'a name made of letters, digits, ., _ and -';
    case 'calibration':
      return 'a calibration name of cost-models/ (letters, digits, ., _ and -) or the path of a calibration .yaml file';
    case 'pathList':
      return 'a list of file paths';
    case 'enumList':
      return `a list of distinct values from ${rule.values.join(', ')}`;
    case 'ropeScaling':
      return ROPE_SCALING_ALLOWED;
    case 'baseWeights':
      return BASE_WEIGHTS_ALLOWED;
    case 'layerFreq':
      return 'an integer >= 1, a list of 0/1 with one entry per layer, or an expression like "([0]*3+[1]*58)"';
  }
}

/** True when `v` is allowed by a numeric rule (finite, not -0, an integer for `int`, within the bounds). */
export function numberAllowed(rule: { kind: 'int' | 'number'; min: number; max: number }, v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0) && (rule.kind === 'number' || Number.isInteger(v))
    && v >= rule.min && v <= rule.max;
}

/**
 * "must be …" for a numeric value that broke its rule: the bound it broke when it is a number on the wrong side
 * of one ("an integer >= 1 (got -3)"), else the whole range ("an integer from 1 to 1024 (got "32")").
 */
export function numberProblem(rule: { kind: 'int' | 'number'; min: number; max: number }, v: unknown): string {
  const what = rule.kind === 'int' ? 'an integer' : 'a number';
  if (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0) && (rule.kind === 'number' || Number.isInteger(v))) {
    if (v < rule.min) return `must be ${what} >= ${rule.min} (got ${gotText(v)})`;
  }
  return `must be ${what} from ${rule.min} to ${rule.max} (got ${gotText(v)})`;
}

/** Longest excerpt of a text quoted in a message (characters of the source, before escaping). */
const EXCERPT_CHARS = 40;
/** Budget for a whole `(got …)` text; a list stops being shown once it is spent. */
const GOT_BUDGET = 80;

/**
 * A string as a short, escaped excerpt for a message: JSON-quoted, every character outside printable ASCII
 * written as \uXXXX (so no control, bidi or terminal escape reaches the terminal), cut after `max` characters
 * with "…" and the length.
 */
export function excerpt(s: string, max = EXCERPT_CHARS): string {
  const cut = s.length > max;
  const head = cut ? s.slice(0, max) : s;
  const quoted = JSON.stringify(head).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut ? `${quoted}… (${s.length} characters)` : quoted;
}

/** A key or name from a file, as shown in a field path: as is when it is a plain short name, else an excerpt. */
export function keyText(key: string): string {
  return /^[A-Za-z0-9_.\-]{1,64}$/.test(key) ? key : excerpt(key, 24);
}

/**
 * A value as the user wrote it, for the `(got …)` part of a message. Bounded in length and in work: at most
 * 8 entries of a list and two levels of nesting are looked at, so a huge or alias-shared structure (a YAML
 * alias bomb) costs nothing to describe.
 */
export function gotText(value: unknown): string {
  return gotAt(value, 0, { left: GOT_BUDGET });
}

/**
 * An integer past 2^53 printed in digits (below 1e21) is not the number the user wrote (9007199254740993 reads as
 * …992): say how large it is instead of showing digits nobody typed.
 */
function beyondSafeText(v: number): string | undefined {
  if (!Number.isInteger(v) || Number.isSafeInteger(v) || Math.abs(v) >= 1e21) return undefined;
  return v > 0 ? 'a number of 2^53 or more' : 'a number of -2^53 or less';
}

function gotAt(value: unknown, depth: number, budget: { left: number }): string {
  let s: string;
  if (value === null || value === undefined) s = 'nothing';
  else if (typeof value === 'string') s = excerpt(value);
  else if (typeof value === 'number') s = Object.is(value, -0) ? '-0' : (beyondSafeText(value) ?? String(value));
  else if (typeof value === 'boolean') s = String(value);
  else if (Array.isArray(value)) {
    if (value.length > 8 || depth >= 2) s = `a list of ${value.length}`;
    else {
      const parts: string[] = [];
      for (const x of value) {
        if (budget.left <= 0) {
          parts.push('…');
          break;
        }
        parts.push(gotAt(x, depth + 1, budget));
      }
      s = `[${parts.join(', ')}]`;
    }
  } else if (typeof value === 'object') s = 'a mapping';
  else s = `a ${typeof value}`;
  budget.left -= s.length;
  return s;
}
