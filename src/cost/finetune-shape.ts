/**
 * Facts of a fine-tuning job derived once per job (makeScoreContext): the decoder layers' GEMM weights by how they
 * are sharded, the weight tensors a codebook checkpoint stores per layer, and the linears LoRA adapts, with their
 * shapes. The cost terms (terms/base-weights.ts, terms/lora-adapters.ts) take these numbers; nothing here is per
 * candidate.
 *
 * The linears of one decoder layer (Megatron-Core modules; in → out; how TP shards them; Hugging Face tensors):
 *   GQA/MHA   linear_qkv   h → (a + 2g)·d       column   3 (q, k, v)
 *             linear_proj  a·d → h              row      1 (o)
 *   MLA       linear_q_proj h → a·(qk + rope)   column   1   (no q-LoRA)
 *             linear_q_down_proj h → q_lora     duplicated 1, linear_q_up_proj q_lora → a·(qk + rope) column 1
 *             linear_kv_down_proj h → kv_lora + rope  duplicated 1
 *             linear_kv_up_proj kv_lora → a·(qk + v)  column 1
 *             linear_proj  a·v → h              row      1
 *   MLP       linear_fc1   h → GLU·F            column   GLU (gate, up)
 *             linear_fc2   F → h                row      1 (down)
 * The dense MLP has F = ffn_hidden_size (TP), the shared expert F = its width (TP), each routed expert
 * F = moe_ffn_hidden_size (ETP). Duplicated linears are replicated across TP (megatron.md §3.1).
 *
 * Megatron-Bridge's LoRA adapter of a linear (peft/utils.py ParallelLinearAdapter, 067f987): linear_in (A: in → r)
 * is a RowParallelLinear when the base is row-parallel, else a ColumnParallelLinear over r; linear_out (B: r → out)
 * is a ColumnParallelLinear over out. Both are sharded by the base's TP group (ETP for experts), duplicated bases
 * included, so an adapter holds r·(in + out)/TP parameters per rank.
 */
import type { Job, ModelShape, ModelSpec } from '../job/types.js';
import type { LoraTarget } from '../job/finetune.js';
import { BF16_BYTES_PER_WEIGHT } from './terms/base-weights.js';
import { loraAdapterParams } from './terms/lora-adapters.js';

/** How TP shards a base linear (the adapter's A GEMM follows it). */
export const enum LinearSharding { Column = 0, Row = 1, Duplicated = 2 }

/** Triples (in, out, LinearSharding) of the adapted linears of one layer part. */
export type LinearTable = Float64Array;

export interface FinetuneShape {
  frozen: boolean;
  /** Stored base GEMM weights are not bf16 (fp8, int4, codebook). */
  compressed: boolean;
  /** fp8 base weights: FP8 GEMMs read them as Transformer Engine FP8 tensors (their transpose is cached). */
  fp8Base: boolean;
  /** int4 / codebook decoded for every GEMM (per_gemm) or held decoded in bf16 (resident). */
  decodePerGemm: boolean;
  decodeResident: boolean;
  /** Bytes per stored compressed GEMM weight: bits/8 + scale_bytes/group_size (terms/base-weights.ts). */
  storedBytesPerWeight: number;
  /** Codebook bytes per stored weight tensor: codebooks × entries × dim × entry bytes; 0 without codebooks. */
  codebookBytesPerTensor: number;
  // GEMM weights per decoder layer, unsharded, by how they are sharded
  attnTpWeights: number;
  attnDuplicatedWeights: number;
  denseMlpWeights: number;
  sharedExpertWeights: number;
  expertWeights: number;
  /** Weight tensors of the checkpoint per layer part (attention, dense MLP, shared expert, one routed expert). */
  attnTensors: number;
  denseMlpTensors: number;
  sharedExpertTensors: number;
  expertTensors: number;
  /** The largest single GEMM weight of a layer part, unsharded (a per-GEMM decode's bf16 buffer). */
  largestAttnWeights: number;
  largestMlpWeights: number;
  largestSharedWeights: number;
  largestExpertWeights: number;
  /** LoRA rank; 0 = no adapters. */
  loraRank: number;
  /** One adapter per grouped expert linear shared by the local experts (true) or one per local expert. */
  shareExpertAdapters: boolean;
  /** Adapted linears of each layer part. */
  adaptAttn: LinearTable;
  adaptDenseMlp: LinearTable;
  adaptShared: LinearTable;
  adaptExpert: LinearTable;
}

interface Linear { name: LoraTarget; in: number; out: number; sharding: LinearSharding; tensors: number }

/** The attention linears of `m` (file header table). */
export function attentionLinears(m: ModelSpec): Linear[] {
  const h = m.hidden_size;
  const a = m.num_attention_heads;
  if (m.multi_latent_attention) {
    const qkd = m.qk_head_dim + m.qk_pos_emb_head_dim;
    const q: Linear[] = m.q_lora_rank === 0
      ? [{ name: 'linear_q_proj', in: h, out: a * qkd, sharding: LinearSharding.Column, tensors: 1 }]
      : [{ name: 'linear_q_down_proj', in: h, out: m.q_lora_rank, sharding: LinearSharding.Duplicated, tensors: 1 },
        { name: 'linear_q_up_proj', in: m.q_lora_rank, out: a * qkd, sharding: LinearSharding.Column, tensors: 1 }];
    return [...q,
      { name: 'linear_kv_down_proj', in: h, out: m.kv_lora_rank + m.qk_pos_emb_head_dim, sharding: LinearSharding.Duplicated, tensors: 1 },
      { name: 'linear_kv_up_proj', in: m.kv_lora_rank, out: a * (m.qk_head_dim + m.v_head_dim), sharding: LinearSharding.Column, tensors: 1 },
      { name: 'linear_proj', in: a * m.v_head_dim, out: h, sharding: LinearSharding.Row, tensors: 1 }];
  }
  const d = m.kv_channels;
  return [
    { name: 'linear_qkv', in: h, out: (a + 2 * m.num_query_groups) * d, sharding: LinearSharding.Column, tensors: 3 },
    { name: 'linear_proj', in: a * d, out: h, sharding: LinearSharding.Row, tensors: 1 },
  ];
}

/** The two linears of an MLP of width `ffn` (none when ffn is 0). */
export function mlpLinears(m: ModelSpec, ffn: number): Linear[] {
  if (ffn === 0) return [];
  const glu = m.swiglu ? 2 : 1;
  return [
    { name: 'linear_fc1', in: m.hidden_size, out: glu * ffn, sharding: LinearSharding.Column, tensors: glu },
    { name: 'linear_fc2', in: ffn, out: m.hidden_size, sharding: LinearSharding.Row, tensors: 1 },
  ];
}

const weightsOf = (ls: Linear[], pick: (l: Linear) => boolean = () => true): number =>
  ls.filter(pick).reduce((s, l) => s + l.in * l.out, 0);
const tensorsOf = (ls: Linear[]): number => ls.reduce((s, l) => s + l.tensors, 0);
const largestOf = (ls: Linear[]): number => ls.reduce((s, l) => Math.max(s, l.in * l.out), 0);

function table(ls: Linear[], targets: readonly LoraTarget[]): LinearTable {
  const hit = ls.filter((l) => targets.includes(l.name));
  const t = new Float64Array(3 * hit.length);
  hit.forEach((l, i) => { t[3 * i] = l.in; t[3 * i + 1] = l.out; t[3 * i + 2] = l.sharding; });
  return t;
}

export function makeFinetuneShape(job: Job): FinetuneShape {
  const m = job.model;
  const t = job.training;
  const bw = t.base_weights;
  const attn = attentionLinears(m);
  const dense = mlpLinears(m, m.ffn_hidden_size);
  const moe = m.num_experts > 0;
  const shared = moe ? mlpLinears(m, m.moe_shared_expert_intermediate_size) : [];
  const expert = moe ? mlpLinears(m, m.moe_ffn_hidden_size) : [];
  const compressed = bw.format !== 'bf16';
  const targets = t.lora_rank > 0 ? t.lora_target_modules : [];
  return {
    frozen: t.frozen,
    compressed,
    fp8Base: bw.format === 'fp8',
    decodePerGemm: bw.decode === 'per_gemm',
    decodeResident: bw.decode === 'resident',
    storedBytesPerWeight: bw.bits_per_weight / 8 + (bw.group_size > 0 ? bw.scale_bytes / bw.group_size : 0),
    codebookBytesPerTensor: bw.codebooks_per_tensor * bw.codebook_size * bw.codebook_dim * bw.codebook_entry_bytes,
    attnTpWeights: weightsOf(attn, (l) => l.sharding !== LinearSharding.Duplicated),
    attnDuplicatedWeights: weightsOf(attn, (l) => l.sharding === LinearSharding.Duplicated),
    denseMlpWeights: weightsOf(dense),
    sharedExpertWeights: weightsOf(shared),
    expertWeights: weightsOf(expert),
    attnTensors: tensorsOf(attn),
    denseMlpTensors: tensorsOf(dense),
    sharedExpertTensors: tensorsOf(shared),
    expertTensors: tensorsOf(expert),
    largestAttnWeights: largestOf(attn),
    largestMlpWeights: largestOf(dense),
    largestSharedWeights: largestOf(shared),
    largestExpertWeights: largestOf(expert),
    loraRank: t.lora_rank,
    shareExpertAdapters: t.lora_share_expert_adapters,
    adaptAttn: table(attn, targets),
    adaptDenseMlp: table(dense, targets),
    adaptShared: table(shared, targets),
    adaptExpert: table(expert, targets),
  };
}

/** Compressed GEMM weights of one dense decoder layer on a rank of TP `tp`. */
export function denseLayerCompressedWeights(ft: FinetuneShape, tp: number): number {
  return (ft.attnTpWeights + ft.denseMlpWeights) / tp + ft.attnDuplicatedWeights;
}

/** Compressed GEMM weights of one MoE decoder layer on a rank: attention and shared expert (TP), `localExperts` (ETP). */
export function moeLayerCompressedWeights(ft: FinetuneShape, tp: number, localExperts: number, etp: number): number {
  return (ft.attnTpWeights + ft.sharedExpertWeights) / tp + ft.attnDuplicatedWeights +
    (localExperts * ft.expertWeights) / etp;
}

/** Weight tensors (each with its codebooks) of a dense layer, and of an MoE layer with `localExperts` on the rank. */
export function denseLayerTensors(ft: FinetuneShape): number {
  return ft.attnTensors + ft.denseMlpTensors;
}
export function moeLayerTensors(ft: FinetuneShape, localExperts: number): number {
  return ft.attnTensors + ft.sharedExpertTensors + localExperts * ft.expertTensors;
}

/**
 * The largest GEMM weight one per-GEMM decode materialises on a rank: an attention or MLP linear (TP), or the local
 * experts' FC1 of one grouped GEMM (ETP); 0 unless weights are decoded per GEMM.
 */
export function largestDecodedWeights(ft: FinetuneShape, tp: number, localExperts: number, etp: number): number {
  if (!ft.decodePerGemm) return 0;
  return Math.max(ft.largestAttnWeights / tp, ft.largestMlpWeights / tp, ft.largestSharedWeights / tp,
    (localExperts * ft.largestExpertWeights) / etp);
}

/** A frozen base's stored weights over the whole model (one copy, no sharding), in bytes, for reports. */
export interface BaseWeightParts {
  /** Compressed GEMM weights of the decoder (and MTP) layers and the tensors that hold them. */
  compressedWeights: number;
  tensors: number;
  indexBytes: number;
  codebookBytes: number;
  scaleBytes: number;
  /** Everything kept in bf16: embedding, output layer, norms, router (all of it for a bf16 base: 0 compressed). */
  bf16Bytes: number;
  totalBytes: number;
  /** Trained LoRA parameters over the whole model. */
  adapterParams: number;
}

/** The whole model's stored base weights (terms/base-weights.ts frozenBaseWeightBytes at TP = EP = PP = 1). */
export function baseWeightParts(job: Job, shape: ModelShape, totalParams: number): BaseWeightParts {
  const ft = makeFinetuneShape(job);
  const m = job.model;
  const E = m.num_experts;
  const lastIsMoe = shape.isMoe && shape.moeLayerMask[m.num_layers - 1] === 1;
  const nMoe = shape.numMoeLayers + (lastIsMoe ? m.mtp_num_layers : 0);
  const nDense = shape.numDenseLayers + (lastIsMoe ? 0 : m.mtp_num_layers);
  const bw = job.training.base_weights;
  const compressed = bw.format === 'bf16' ? 0
    : nDense * denseLayerCompressedWeights(ft, 1) + nMoe * moeLayerCompressedWeights(ft, 1, E, 1);
  const tensors = bw.format === 'bf16' ? 0 : nDense * denseLayerTensors(ft) + nMoe * moeLayerTensors(ft, E);
  const indexBytes = (compressed * bw.bits_per_weight) / 8;
  const scaleBytes = bw.group_size > 0 ? (compressed / bw.group_size) * bw.scale_bytes : 0;
  const codebookBytes = tensors * ft.codebookBytesPerTensor;
  const bf16Bytes = BF16_BYTES_PER_WEIGHT * (totalParams - compressed);
  const r = ft.loraRank;
  const attn = loraAdapterParams(ft.adaptAttn, r, 1);
  const adapterParams = nDense * (attn + loraAdapterParams(ft.adaptDenseMlp, r, 1)) +
    nMoe * (attn + loraAdapterParams(ft.adaptShared, r, 1) +
      loraAdapterParams(ft.adaptExpert, r, 1) * (ft.shareExpertAdapters ? 1 : E));
  return {
    compressedWeights: compressed, tensors, indexBytes, codebookBytes, scaleBytes, bf16Bytes,
    totalBytes: indexBytes + codebookBytes + scaleBytes + bf16Bytes, adapterParams,
  };
}
