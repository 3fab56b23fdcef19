/**
 * The model flavours torchtitan v0.2.2 ships, and which one (if any) is the job's model.
 *
 * Read from pytorch/torchtitan at tag v0.2.2: torchtitan/models/{llama3,llama4,qwen3,deepseek_v3,gpt_oss}/__init__.py
 * (the flavour tables), their model/args.py (defaults: vocab sizes, head dims, tied embeddings) and model/model.py
 * (llama3/llama4 FeedForward: hidden = multiple_of · ceil(int(multiplier · int(2 · 4 · dim / 3)) / multiple_of);
 * llama4 MoE layers when (layer_id + 1) % interleave_moe_layer_step == 0, their expert hidden divided by
 * top_k + num_shared_experts; deepseek_v3 dense for layer_id < n_dense_layers; gpt_oss sliding window on even
 * layer_id, attention sinks and biases), torchtitan/models/moe/moe.py (MoEArgs defaults: 1 shared expert, top-1,
 * sigmoid, no route_norm, route_scale 1) and each TrainSpec's pipelining_fn (None for qwen3 and gpt_oss).
 * Debug flavours and the attention variants of one size (llama3 8B_flex/8B_varlen, llama4 *_irope: NoPE
 * layers moefold cannot describe) are left out. CP needs SDPA (deepseek_v3 and qwen3 parallelize.py, llama4
 * args.py); the deepseek_v3 flavours below use FlexAttention, and gpt_oss has no CP at all (its args.py).
 */
import type { ModelShape, ModelSpec } from '../job/types.js';
import { isWindowLayer } from '../job/window-attention.js';
import { oneLine } from '../text/one-line.js';

export type TitanModel = 'llama3' | 'llama4' | 'qwen3' | 'deepseek_v3' | 'gpt_oss';

interface TitanRouter {
  score: 'softmax' | 'sigmoid';
  /** route_norm: the top-k weights renormalised to sum 1. */
  norm: boolean;
  scale: number;
  /** num_expert_groups / num_limited_groups; 0 = no group-limited routing. */
  groups: number;
  groupTopk: number;
}

interface TitanMoe {
  experts: number;
  topk: number;
  /** Hidden size of one routed expert. */
  ffn: number;
  /** num_shared_experts, each of hidden `ffn`. */
  shared: number;
  /** Layer i is dense when i < denseFirst, else MoE when (i + 1) % every == 0. */
  denseFirst: number;
  every: number;
  router: TitanRouter;
}

export interface TitanFlavour {
  model: TitanModel;
  flavor: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Hidden size of the dense FFN layers (unused when every layer is MoE). */
  ffn: number;
  vocab: number;
  tied: boolean;
  qkNorm: boolean;
  /** Biases on the attention and MoE projections (gpt_oss). */
  bias: boolean;
  /** Learned attention sinks (gpt_oss). */
  sinks: boolean;
  /** Sliding window on even layer_id (gpt_oss: 128); 0 = none. */
  window: number;
  mla: { qLora: number; kvLora: number; qkNope: number; qkRope: number; v: number } | null;
  moe: TitanMoe | null;
  /** Its TrainSpec has a pipelining_fn. */
  pipelining: boolean;
  /** Context parallelism is possible (SDPA attention and a model that allows it). */
  contextParallel: boolean;
  /**
   * Hyper-parameters the flavour fixes in code (no job-file key sets them): rope_theta, the rope scaling
   * (hyperText form) and RMSNorm's eps. A job that differs is still exported, with the differences in its header.
   */
  hyper: TitanHyper;
}

export interface TitanHyper { rotaryBase: number; rope: string; normEps: number }

/** The job's rope scaling in the words of TitanHyper.rope. */
function jobRopeText(m: ModelSpec): string {
  const r = m.rope_scaling;
  if (r === null) return 'none';
  return r.type === 'llama3' ? `llama3 x${r.factor}` : `yarn x${r.factor} (original ${r.original_max_position_embeddings})`;
}

/**
 * How the job's rotary base, rope scaling and norm epsilon differ from what flavour `f` fixes (empty: the same):
 * torchtitan v0.2.2's model args (llama3/llama4 args.py: norm_eps 1e-5, RoPEScalingArgs factor 8 (llama4 16), low
 * 1, high 4, original 8192; qwen3 args.py: norm_eps 1e-6; deepseek_v3 / gpt_oss args.py: norm_eps 1e-5, YaRN
 * rope_factor 40 / 32 over original_seq_len 4096) and each flavour's rope_theta (__init__.py).
 */
export function hyperDifferences(m: ModelSpec, f: TitanFlavour): string[] {
  const out: string[] = [];
  if (m.rotary_base !== f.hyper.rotaryBase) out.push(`rotary base ${m.rotary_base} vs ${f.hyper.rotaryBase}`);
  const rope = jobRopeText(m);
  if (rope !== f.hyper.rope) out.push(`rope scaling ${rope} vs ${f.hyper.rope}`);
  if (m.norm_epsilon !== f.hyper.normEps) out.push(`norm epsilon ${m.norm_epsilon} vs ${f.hyper.normEps}`);
  if (m.rotary_percent !== 1) out.push(`rotary percent ${m.rotary_percent} vs 1`);
  return out;
}

/** torchtitan's llama3/llama4 FeedForward hidden size (model.py at v0.2.2). */
function llamaFfn(dim: number, multiplier: number, multipleOf: number): number {
  const h = Math.trunc(multiplier * Math.trunc((2 * 4 * dim) / 3));
  return multipleOf * Math.ceil(h / multipleOf);
}

/** llama4's MoE expert hidden with auto_scale_hidden_dim (model.py at v0.2.2: / (top_k + shared), rounded up). */
function llama4ExpertFfn(dim: number, multiplier: number, multipleOf: number, topk: number, shared: number): number {
  const h = Math.trunc(Math.trunc(multiplier * Math.trunc((2 * 4 * dim) / 3)) / (topk + shared));
  return h + ((multipleOf - (h % multipleOf)) % multipleOf);
}

const DENSE = { tied: false, qkNorm: false, bias: false, sinks: false, window: 0, mla: null, moe: null } as const;

function llama3(flavor: string, dim: number, layers: number, heads: number, mult: number, multipleOf: number): TitanFlavour {
  return {
    ...DENSE, model: 'llama3', flavor, layers, hidden: dim, heads, kvHeads: 8, headDim: dim / heads,
    ffn: llamaFfn(dim, mult, multipleOf), vocab: 128256, pipelining: true, contextParallel: true,
    hyper: { rotaryBase: 500000, rope: 'llama3 x8', normEps: 1e-5 },
  };
}

function llama4(flavor: string, experts: number, every: number): TitanFlavour {
  const dim = 5120;
  return {
    ...DENSE, model: 'llama4', flavor, layers: 48, hidden: dim, heads: 40, kvHeads: 8, headDim: dim / 40,
    ffn: llamaFfn(dim, 1.2, 2048), vocab: 202048, pipelining: true, contextParallel: true,
    // 17bx16e sets rope_scaling_args=RoPEScalingArgs() (factor 16); 17bx128e leaves it None
    hyper: { rotaryBase: 500000, rope: experts === 16 ? 'llama3 x16' : 'none', normEps: 1e-5 },
    moe: {
      experts, topk: 1, ffn: llama4ExpertFfn(dim, 1.2, 2048, 1, 1), shared: 1, denseFirst: 0, every,
      router: { score: 'sigmoid', norm: false, scale: 1, groups: 0, groupTopk: 0 },
    },
  };
}

function qwen3(flavor: string, dim: number, layers: number, heads: number, kvHeads: number, ffn: number,
  tied: boolean, moe: { experts: number; ffn: number } | null): TitanFlavour {
  return {
    ...DENSE, model: 'qwen3', flavor, layers, hidden: dim, heads, kvHeads, headDim: 128, ffn, vocab: 151936,
    tied, qkNorm: true, pipelining: false, contextParallel: true,
    // every flavour sets rope_theta 1000000 except 235B-A22B (5000000)
    hyper: { rotaryBase: flavor === '235B-A22B' ? 5000000 : 1000000, rope: 'none', normEps: 1e-6 },
    moe: moe && {
      experts: moe.experts, topk: 8, ffn: moe.ffn, shared: 0, denseFirst: 0, every: 1,
      router: { score: 'softmax', norm: true, scale: 1, groups: 0, groupTopk: 0 },
    },
  };
}

function deepseek(flavor: string, o: {
  vocab: number; dim: number; ffn: number; moeFfn: number; layers: number; dense: number; heads: number;
  experts: number; shared: number; topk: number; router: TitanRouter; qLora: number;
}): TitanFlavour {
  return {
    ...DENSE, model: 'deepseek_v3', flavor, layers: o.layers, hidden: o.dim, heads: o.heads, kvHeads: o.heads,
    headDim: 128, ffn: o.ffn, vocab: o.vocab, qkNorm: true, pipelining: true, contextParallel: false,
    hyper: { rotaryBase: 10000, rope: 'yarn x40 (original 4096)', normEps: 1e-5 },
    mla: { qLora: o.qLora, kvLora: 512, qkNope: 128, qkRope: 64, v: 128 },
    moe: { experts: o.experts, topk: o.topk, ffn: o.moeFfn, shared: o.shared, denseFirst: o.dense, every: 1, router: o.router },
  };
}

function gptOss(flavor: string, layers: number, experts: number): TitanFlavour {
  return {
    ...DENSE, model: 'gpt_oss', flavor, layers, hidden: 2880, heads: 64, kvHeads: 8, headDim: 64, ffn: 2880,
    vocab: 201088, bias: true, sinks: true, window: 128, pipelining: false, contextParallel: false,
    hyper: { rotaryBase: 150000, rope: 'yarn x32 (original 4096)', normEps: 1e-5 },
    moe: {
      experts, topk: 4, ffn: 2880, shared: 0, denseFirst: 0, every: 1,
      router: { score: 'softmax', norm: true, scale: 1, groups: 0, groupTopk: 0 },
    },
  };
}

/** Every non-debug flavour of torchtitan v0.2.2 (see the header for where each number comes from). */
export const TORCHTITAN_FLAVOURS: readonly TitanFlavour[] = [
  llama3('8B', 4096, 32, 32, 1.3, 1024),
  llama3('70B', 8192, 80, 64, 1.3, 4096),
  llama3('405B', 16384, 126, 128, 1.2, 4096),
  llama4('17bx16e', 16, 1),
  llama4('17bx128e', 128, 2),
  qwen3('0.6B', 1024, 28, 16, 8, 3072, true, null),
  qwen3('1.7B', 2048, 28, 16, 8, 6144, true, null),
  qwen3('4B', 2560, 36, 32, 8, 9728, true, null),
  qwen3('8B', 4096, 36, 32, 8, 12288, false, null),
  qwen3('14B', 5120, 40, 40, 8, 17408, false, null),
  qwen3('32B', 5120, 64, 64, 8, 25600, false, null),
  qwen3('30B-A3B', 2048, 48, 32, 4, 6144, false, { experts: 128, ffn: 768 }),
  qwen3('235B-A22B', 4096, 94, 64, 4, 12288, false, { experts: 128, ffn: 1536 }),
  deepseek('16B', {
    vocab: 102400, dim: 2048, ffn: 10944, moeFfn: 1408, layers: 27, dense: 1, heads: 16, experts: 64, shared: 2, topk: 6,
    router: { score: 'softmax', norm: false, scale: 1, groups: 0, groupTopk: 0 }, qLora: 0,
  }),
  deepseek('236B', {
    vocab: 102400, dim: 5120, ffn: 12288, moeFfn: 1536, layers: 60, dense: 1, heads: 128, experts: 160, shared: 2, topk: 6,
    router: { score: 'softmax', norm: false, scale: 16, groups: 8, groupTopk: 3 }, qLora: 1536,
  }),
  deepseek('671B', {
    vocab: 129280, dim: 7168, ffn: 18432, moeFfn: 2048, layers: 61, dense: 3, heads: 128, experts: 256, shared: 1, topk: 8,
    router: { score: 'sigmoid', norm: true, scale: 2.5, groups: 8, groupTopk: 4 }, qLora: 1536,
  }),
  gptOss('20b', 24, 32),
  gptOss('120b', 36, 128),
];

/** One way the job's model differs from a flavour; `arch` = a feature (not a size) differs. */
interface Difference {
  arch: boolean;
  text: string;
}

/**
 * The router in torchtitan's terms. Megatron (megatron/core/transformer/moe/moe_utils.py at d98e8a6, the top-k routing by score function):
 * softmax without pre-softmax takes the top-k logits then softmaxes them (weights sum to 1, as route_norm);
 * with pre-softmax it softmaxes all experts first (no renormalisation); sigmoid renormalises when top-k > 1.
 */
function jobRouter(m: ModelSpec): TitanRouter {
  const norm = m.moe_router_score_function === 'sigmoid' ? m.moe_router_topk > 1 : !m.moe_router_pre_softmax;
  return {
    score: m.moe_router_score_function, norm, scale: m.moe_router_topk_scaling_factor || 1,
    groups: m.moe_router_num_groups, groupTopk: m.moe_router_group_topk,
  };
}

function routerText(r: TitanRouter): string {
  const groups = r.groups > 0 ? `, ${r.groupTopk} of ${r.groups} groups` : '';
  return `${r.score}${r.norm ? ' normalised' : ''}${r.scale !== 1 ? ` x${r.scale}` : ''}${groups}`;
}

/** Every way the job's model differs from flavour `f` (empty: it is that flavour). */
export function flavourDifferences(m: ModelSpec, shape: ModelShape, f: TitanFlavour): Difference[] {
  const out: Difference[] = [];
  const arch = (what: string, job: string | boolean, titan: string | boolean): void => {
    if (job !== titan) out.push({ arch: true, text: `${what} ${String(job)} vs ${String(titan)}` });
  };
  const size = (what: string, job: number, titan: number): void => {
    if (job !== titan) out.push({ arch: false, text: `${what} ${job} vs ${titan}` });
  };
  arch('normalization', m.normalization, 'RMSNorm');
  arch('position embedding', m.position_embedding_type, 'rope');
  arch('swiglu', m.swiglu, true);
  arch('qkv bias', m.add_qkv_bias, false);
  arch('linear biases', m.add_bias_linear, f.bias);
  arch('tied embeddings', !m.untie_embeddings_and_output_weights, f.tied);
  arch('qk norm', m.qk_layernorm, f.qkNorm);
  arch('softmax', m.softmax_type, f.sinks ? 'learnable' : 'vanilla');
  arch('multi-latent attention', m.multi_latent_attention, f.mla !== null);
  arch('MoE', shape.isMoe, f.moe !== null);
  size('layers', m.num_layers, f.layers);
  size('hidden', m.hidden_size, f.hidden);
  size('heads', m.num_attention_heads, f.heads);
  size('vocab', m.vocab_size, f.vocab);
  size('window', m.window_size, f.window);
  if (m.window_size > 0 && f.window > 0) {
    let same = true;
    for (let i = 0; i < m.num_layers; i++) if (isWindowLayer(m, i) !== (i % 2 === 0)) same = false;
    arch('windowed layers', same ? 'even' : 'other', 'even');
  }
  if (f.mla && m.multi_latent_attention) {
    size('q LoRA rank', m.q_lora_rank, f.mla.qLora);
    size('kv LoRA rank', m.kv_lora_rank, f.mla.kvLora);
    size('qk head dim', m.qk_head_dim, f.mla.qkNope);
    size('qk rope head dim', m.qk_pos_emb_head_dim, f.mla.qkRope);
    size('v head dim', m.v_head_dim, f.mla.v);
  } else if (!f.mla && !m.multi_latent_attention) {
    size('kv heads', m.num_query_groups, f.kvHeads);
    size('head dim', m.kv_channels, f.headDim);
  }
  const fm = f.moe;
  if (fm && shape.isMoe) {
    let dense = 0;
    let samePattern = true;
    for (let i = 0; i < m.num_layers; i++) {
      const titanMoe = i >= fm.denseFirst && (i + 1) % fm.every === 0;
      if (titanMoe !== (shape.moeLayerMask[i] === 1)) samePattern = false;
      if (!titanMoe && i < f.layers) dense++;
    }
    arch('MoE layer pattern', samePattern ? 'the same' : 'different', 'the same');
    size('experts', m.num_experts, fm.experts);
    size('top-k', m.moe_router_topk, fm.topk);
    size('expert ffn', m.moe_ffn_hidden_size, fm.ffn);
    arch('shared experts', m.moe_shared_expert_intermediate_size > 0, fm.shared > 0);
    if (m.moe_shared_expert_intermediate_size > 0 && fm.shared > 0) {
      size('shared expert ffn', m.moe_shared_expert_intermediate_size, fm.shared * fm.ffn);
    }
    arch('router', routerText(jobRouter(m)), routerText(fm.router));
    if (dense > 0 && shape.numDenseLayers > 0) size('dense ffn', m.ffn_hidden_size, f.ffn);
  } else if (!fm && !shape.isMoe) {
    size('ffn', m.ffn_hidden_size, f.ffn);
  }
  return out;
}

export type FlavourMatch =
  | { ok: TitanFlavour }
  | { nearest: TitanFlavour; differences: string[]; architecture: boolean };

/**
 * The flavour that is the job's model, else the nearest one (fewest feature differences, then fewest size
 * differences) and how it differs. Runs once per export, not per candidate.
 */
export function matchFlavour(m: ModelSpec, shape: ModelShape): FlavourMatch {
  let best: { f: TitanFlavour; d: Difference[]; archCount: number } | null = null;
  for (const f of TORCHTITAN_FLAVOURS) {
    const d = flavourDifferences(m, shape, f);
    if (d.length === 0) return { ok: f };
    const archCount = d.filter((x) => x.arch).length;
    if (!best || archCount < best.archCount || (archCount === best.archCount && d.length < best.d.length)) {
      best = { f, d, archCount };
    }
  }
  const b = best as { f: TitanFlavour; d: Difference[]; archCount: number };
  return { nearest: b.f, differences: b.d.map((x) => x.text), architecture: b.archCount > 0 };
}

/** The refusal text for a model torchtitan v0.2.2 lacks (after "torchtitan v0.2.2 has no ..."). */
export function noFlavourText(rawName: string, r: { nearest: TitanFlavour; differences: string[]; architecture: boolean }): string {
  const name = oneLine(rawName); // a refusal is one line, whatever the name holds
  const shown = r.differences.slice(0, 6).join(', ') + (r.differences.length > 6 ? `, and ${r.differences.length - 6} more` : '');
  const nearest = `${r.nearest.model} "${r.nearest.flavor}"`;
  return r.architecture
    ? `torchtitan v0.2.2 has no model for ${name}: the nearest flavour, ${nearest}, differs in ${shown} (job vs torchtitan)`
    : `torchtitan v0.2.2 has no ${r.nearest.model} flavour with ${name}'s sizes: the nearest, "${r.nearest.flavor}", differs in ${shown} (job vs torchtitan)`;
}
