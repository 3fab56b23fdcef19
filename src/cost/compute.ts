/**
 * Compute-time terms other than plain GEMMs: flash attention (causal, BF16 even under FP8) and memory-bound
 * elementwise work at the achievable HBM bandwidth.
 */
import type { Calibration } from './calibration.js';

/**
 * Forward FLOPs of causal core attention on one rank: QKᵀ (2·s²·dqk per head) plus AV (2·s²·dv per head), half of
 * it under the causal mask, for `heads` local heads (a/TP) and `batch` sequences, split over CP ranks.
 */
export function coreAttentionFwdFlops(batch: number, seq: number, heads: number, dqk: number, dv: number,
  cp: number): number {
  return (batch * seq * seq * heads * (dqk + dv)) / cp;
}

/** Efficiency factor for the per-rank sequence chunk (short chunks run below the long-sequence rate). */
export function flashAttentionSeqFactor(seqChunk: number, cal: Calibration): number {
  return seqChunk / (seqChunk + cal.flashAttnHalfSeq);
}

/** Seconds for the flash-attention forward of `fwdFlops` with per-rank chunk length `seqChunk`. */
export function flashAttentionFwdTimeS(fwdFlops: number, seqChunk: number, cal: Calibration): number {
  return fwdFlops / (cal.denseBf16PeakFlops * cal.flashAttnFwdEff * flashAttentionSeqFactor(seqChunk, cal));
}

/** Seconds for the flash-attention backward (2× forward FLOPs at the backward efficiency). */
export function flashAttentionBwdTimeS(fwdFlops: number, seqChunk: number, cal: Calibration): number {
  return (2 * fwdFlops) / (cal.denseBf16PeakFlops * cal.flashAttnBwdEff * flashAttentionSeqFactor(seqChunk, cal));
}

/** Seconds to stream `bytes` through HBM (reads + writes). */
export function memoryBoundTimeS(bytes: number, cal: Calibration): number {
  return bytes / cal.hbmBytesPerS;
}

/**
 * Forward HBM bytes of the elementwise work around attention for one layer on one rank: two norms (read + write h),
 * two residual adds (2 reads + 1 write of h) on `tokensStored` tokens, and RoPE on Q and K (read + write) for
 * `tokensGemm` tokens with `qkWidthLocal` = (q heads + k heads)/TP × head dim. bf16.
 */
export function attentionElementwiseBytes(tokensStored: number, tokensGemm: number, hidden: number,
  qkWidthLocal: number): number {
  return 2 * (tokensStored * 10 * hidden + tokensGemm * 2 * qkWidthLocal);
}

/** Forward HBM bytes of an MLP activation (GLU reads 2·F writes F; GELU reads F writes F) on `rows` rows. bf16. */
export function activationFnBytes(rows: number, ffnLocal: number, glu: number): number {
  return 2 * rows * (glu + 1) * ffnLocal;
}

/** Forward HBM bytes of MoE permute + unpermute of `rows` routed rows of width `hidden` (each read + write). bf16. */
export function permuteBytes(rows: number, hidden: number): number {
  return 2 * 4 * rows * hidden;
}

/** Forward HBM bytes of one RMSNorm/LayerNorm over `tokens` tokens of width `hidden` (read + write, bf16). */
export function normForwardBytes(tokens: number, hidden: number): number {
  return 2 * 2 * tokens * hidden;
}
