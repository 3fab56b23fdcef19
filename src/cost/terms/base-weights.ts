/**
 * A frozen base model's weights on one rank: what they take in memory, what decoding compressed weights costs, and
 * the weight-gradient GEMMs a frozen weight does not run (src/job/finetune.ts: the formats and their sources;
 * finetune-shape.ts: the per-job counts).
 *
 * Stored bytes of `P` parameters held, `Pc` of them compressed GEMM weights in `T` weight tensors (codebooks are
 * per tensor, so TP/EP/PP sharding divides Pc but not a tensor's codebooks):
 *   w = 2·(P − Pc) + Pc·(bits/8 + scale_bytes/group_size) + T·(codebooks·entries·dim·entry_bytes)
 * The rest (embedding, output layer, norms, router) stays bf16. A resident decode holds the bf16 copy instead:
 * w = 2·P (decoded once at load; the compressed copy is not needed after it).
 *
 * Per-GEMM decode (int4, codebook): every GEMM that reads a compressed weight first streams it from HBM and writes
 * the decoded bf16 tile, which the GEMM then reads as a bf16 weight (priced in its GEMM time):
 *   t_dec = passes · (Pc·b + T·cb + 2·Pc) / HBM bandwidth
 * passes = 2 per micro-batch (forward, data-gradient GEMM) + 1 under full recompute (the re-run forward). The decode
 * kernel's codebook lookups are taken as hidden behind its memory traffic. The decoded buffer of the largest local
 * GEMM weight (2·W_max bytes) is held while that GEMM runs.
 *
 * Frozen weights (requires_grad false) get no weight gradient: Transformer Engine's and Megatron's linears skip the
 * wgrad GEMM, which has as many FLOPs as the forward GEMM, so a frozen linear's backward is its dgrad GEMM only:
 *   t_skipped = t_gemm_fwd   (subtracted from the 3·t_fwd of the trained layer)
 */
import type { Calibration } from '../calibration.js';
import { memoryBoundTimeS } from '../compute.js';

/** bf16 bytes per weight (uncompressed parts, the resident copy, the decoded tile). */
export const BF16_BYTES_PER_WEIGHT = 2;

/** Bytes of a frozen base's `params` parameters on a rank, `compressedWeights` of them in `tensors` tensors (header). */
export function frozenBaseWeightBytes(params: number, compressedWeights: number, tensors: number,
  storedBytesPerWeight: number, codebookBytesPerTensor: number, resident: boolean): number {
  if (resident) return BF16_BYTES_PER_WEIGHT * params;
  return BF16_BYTES_PER_WEIGHT * (params - compressedWeights) + compressedWeights * storedBytesPerWeight +
    tensors * codebookBytesPerTensor;
}

/** Decode passes over a compressed weight per micro-batch: forward + dgrad, + the re-run forward of full recompute. */
export function baseDecodePasses(fullRecompute: boolean): number {
  return fullRecompute ? 3 : 2;
}

/** Per-GEMM decode time of `compressedWeights` weights in `tensors` tensors per micro-batch (header). */
export function baseDecodeTimeS(compressedWeights: number, tensors: number, passes: number,
  storedBytesPerWeight: number, codebookBytesPerTensor: number, cal: Calibration): number {
  return passes * memoryBoundTimeS(compressedWeights * storedBytesPerWeight + tensors * codebookBytesPerTensor +
    BF16_BYTES_PER_WEIGHT * compressedWeights, cal);
}

/** The decoded bf16 buffer of the largest local GEMM weight while it runs (per-GEMM decode). */
export function decodedWeightBufferBytes(largestLocalWeights: number): number {
  return BF16_BYTES_PER_WEIGHT * largestLocalWeights;
}

/** The wgrad GEMM time a frozen weight does not run: its forward GEMM time when frozen, else 0. */
export function frozenWgradSkippedTimeS(frozen: boolean, gemmFwdS: number): number {
  return frozen ? gemmFwdS : 0;
}
