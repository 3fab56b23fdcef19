/**
 * Facts of a fine-tuning job derived once per job (makeScoreContext): the decoder layers' GEMM weights by how they
 * are sharded, the weight tensors a codebook checkpoint stores per layer, and the linears LoRA adapts, with their
 * shapes. The cost terms (terms/base-weights.ts, terms/lora-adapters.ts) take these numbers; nothing here is per
 * candidate.
 *
 * The linears of a decoder layer, their shapes and TP sharding: src/job/linears.ts.
 *
 * Megatron-Bridge's LoRA adapter of a linear (peft/utils.py ParallelLinearAdapter, 067f987): linear_in (A: in → r)
 * is a RowParallelLinear when the base is row-parallel, else a ColumnParallelLinear over r; linear_out (B: r → out)
 * is a ColumnParallelLinear over out. Both are sharded by the base's TP group (ETP for experts), duplicated bases
 * included, so an adapter holds r·(in + out)/TP parameters per rank.
 */
import type { Job, ModelShape } from '../job/types.js';
import type { LoraTarget } from '../job/finetune.js';
import { LinearSharding, layerLinears, type Linear } from '../job/linears.js';
import { BF16_BYTES_PER_WEIGHT } from './terms/base-weights.js';
import { loraAdapterParams } from './terms/lora-adapters.js';

/** Quadruples (in, out, LinearSharding, LayerNorm fused 1/0) of the adapted linears of one layer part. */
export type LinearTable = Float64Array;
/** Values per linear in a LinearTable. */
export const LINEAR_STRIDE = 4;

export interface FinetuneShape {
  frozen: boolean;
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

const weightsOf = (ls: Linear[], pick: (l: Linear) => boolean = () => true): number =>
  ls.filter(pick).reduce((s, l) => s + l.in * l.out, 0);
const tensorsOf = (ls: Linear[]): number => ls.reduce((s, l) => s + l.tensors, 0);
const largestOf = (ls: Linear[]): number => ls.reduce((s, l) => Math.max(s, l.in * l.out), 0);

function table(ls: Linear[], targets: readonly LoraTarget[]): LinearTable {
  const hit = ls.filter((l) => targets.includes(l.name));
  const t = new Float64Array(LINEAR_STRIDE * hit.length);
  hit.forEach((l, i) => {
    const o = LINEAR_STRIDE * i;
    t[o] = l.in; t[o + 1] = l.out; t[o + 2] = l.sharding; t[o + 3] = l.lnFused ? 1 : 0;
  });
  return t;
}

export function makeFinetuneShape(job: Job): FinetuneShape {
  const m = job.model;
  const t = job.training;
  const bw = t.base_weights;
  const { attention: attn, denseMlp: dense, sharedExpert: shared, expert } = layerLinears(m, true);
  const targets = t.lora_rank > 0 ? t.lora_target_modules : [];
  return {
    frozen: t.frozen,
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
