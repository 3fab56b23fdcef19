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

/**
 * Work the flash-attention backward kernel does per forward FLOP: 5 matmuls against the forward's 2 (QKᵀ is
 * recomputed), FlashAttention-3 §4.1 (Shah et al. 2024, arXiv 2407.08608: "multiply the forward pass FLOPs by 2.5").
 * The backward efficiencies in the calibration are rates of this work, as the paper's Fig. 6 reports them.
 */
export const FLASH_BWD_WORK_PER_FWD_FLOP = 2.5;

/**
 * The head dimension whose kernel a layer runs: the mean of the QK and V head dims (FLOPs per score are
 * d_qk + d_v, so the mean is the square-head equivalent; MLA's 192/128 reads as 160).
 */
export function flashAttentionHeadDim(dqk: number, dv: number): number {
  return (dqk + dv) / 2;
}

/**
 * Long-sequence efficiency for head dimension `headDim`, linear in log2(d) between the calibration's points at
 * d = 64, 128, 256 (clamped outside): e64, e128, e256 are fractions of BF16 peak.
 */
export function flashAttentionHeadDimEff(headDim: number, e64: number, e128: number, e256: number): number {
  if (headDim <= 64) return e64;
  if (headDim >= 256) return e256;
  const x = Math.log2(headDim);
  return x <= 7 ? e64 + (x - 6) * (e128 - e64) : e128 + (x - 7) * (e256 - e128);
}

/** Short-chunk factor s/(s + s½): tile setup and the causal diagonal blocks dominate short per-rank chunks. */
export function flashAttentionSeqFactor(seqChunk: number, halfSeq: number): number {
  return seqChunk / (seqChunk + halfSeq);
}

/**
 * Forward efficiency (fraction of BF16 peak) of causal BF16 flash attention on a `seqChunk`-token chunk:
 *   eff_f(d, s) = scale · e_f(d) · s/(s + s½,f)
 * e_f(d) and s½,f from FlashAttention-3's H100 curves (cost-models/*.yaml compute.flash_attn_fwd_*), scale the
 * software gap of the container's kernel (compute.flash_attn_software_scale).
 */
export function flashAttentionFwdEff(headDim: number, seqChunk: number, cal: Calibration): number {
  return cal.flashAttnSoftwareScale *
    flashAttentionHeadDimEff(headDim, cal.flashAttnFwdEffHd64, cal.flashAttnFwdEffHd128, cal.flashAttnFwdEffHd256) *
    flashAttentionSeqFactor(seqChunk, cal.flashAttnFwdHalfSeq);
}

/** Backward efficiency, same form with the backward constants (a rate of the 2.5× forward work). */
export function flashAttentionBwdEff(headDim: number, seqChunk: number, cal: Calibration): number {
  return cal.flashAttnSoftwareScale *
    flashAttentionHeadDimEff(headDim, cal.flashAttnBwdEffHd64, cal.flashAttnBwdEffHd128, cal.flashAttnBwdEffHd256) *
    flashAttentionSeqFactor(seqChunk, cal.flashAttnBwdHalfSeq);
}

/** Seconds for the flash-attention forward of `fwdFlops`: fwdFlops / (peak · eff_f(d, s)). */
export function flashAttentionFwdTimeS(fwdFlops: number, seqChunk: number, headDim: number, cal: Calibration): number {
  return fwdFlops / (cal.denseBf16PeakFlops * flashAttentionFwdEff(headDim, seqChunk, cal));
}

/** Seconds for the flash-attention backward: 2.5 · fwdFlops / (peak · eff_b(d, s)). */
export function flashAttentionBwdTimeS(fwdFlops: number, seqChunk: number, headDim: number, cal: Calibration): number {
  return (FLASH_BWD_WORK_PER_FWD_FLOP * fwdFlops) / (cal.denseBf16PeakFlops * flashAttentionBwdEff(headDim, seqChunk, cal));
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
