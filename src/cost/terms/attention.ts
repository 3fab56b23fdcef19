/**
 * Attention block time per layer per micro-batch on one rank: QKV / MLA projections and the output projection
 * (GEMMs, gemm.ts), causal flash attention (compute.ts) and the elementwise work around it (norms, residual adds,
 * RoPE; memory-bound).
 *   forward  t_f = t_proj + t_flash,f + t_elem
 *   fwd+bwd  t   = 3·(t_proj + t_elem) + t_flash,f + t_flash,b
 * (a GEMM's backward is its dgrad + wgrad, 2× its forward, Megatron's FLOPs convention, megatron.md §3.4;
 * elementwise backward likewise 2× its forward; flash attention has its own fitted forward/backward rates,
 * cost-models/*.yaml compute.flash_attn_*, whose sources say h100.md has no flash-attention figure).
 * MLA's projections follow Megatron's MLASelfAttention (megatron.md §3.1): q down (q-LoRA) or full q, kv down + rope,
 * q/kv up-projections, output projection; the up-projections are what --recompute-modules mla_up_proj recomputes.
 */
import type { Calibration } from '../calibration.js';
import { gemmTimeS } from '../gemm.js';
import {
  attentionElementwiseBytes, coreAttentionFwdFlops, flashAttentionBwdTimeS, flashAttentionFwdTimeS, memoryBoundTimeS,
} from '../compute.js';

/** GQA/MHA projections, forward: QKV (tokens × (a + 2g)/TP·d × h) and output (tokens × h × a/TP·d). */
export function gqaProjectionFwdTimeS(tokens: number, hidden: number, headsLocal: number, kvHeadsLocal: number,
  dqk: number, dv: number, fp8: boolean, cal: Calibration): number {
  return gemmTimeS(tokens, (headsLocal + 2 * kvHeadsLocal) * dqk, hidden, fp8, cal) +
    gemmTimeS(tokens, hidden, headsLocal * dv, fp8, cal);
}

/**
 * MLA up-projections, forward: q up (q-LoRA rank → a/TP·(qk + rope)) when q-LoRA is on, kv up (kv-LoRA rank →
 * a/TP·(qk + v)).
 */
export function mlaUpProjectionFwdTimeS(tokens: number, heads: number, tp: number, qLoraRank: number,
  kvLoraRank: number, qkHeadDim: number, qkRopeDim: number, vHeadDim: number, fp8: boolean, cal: Calibration): number {
  let t = 0;
  if (qLoraRank > 0) t += gemmTimeS(tokens, (heads * (qkHeadDim + qkRopeDim)) / tp, qLoraRank, fp8, cal);
  t += gemmTimeS(tokens, (heads * (qkHeadDim + vHeadDim)) / tp, kvLoraRank, fp8, cal);
  return t;
}

/**
 * MLA projections, forward: q down (h → q-LoRA rank, replicated) or full q (h → a/TP·(qk + rope)), kv down
 * (h → kv-LoRA rank + rope, replicated), the up-projections (`upProjectionFwdS`, mlaUpProjectionFwdTimeS) and the
 * output projection (a/TP·v → h).
 */
export function mlaProjectionFwdTimeS(tokens: number, hidden: number, heads: number, tp: number, qLoraRank: number,
  kvLoraRank: number, qkHeadDim: number, qkRopeDim: number, vHeadDim: number, upProjectionFwdS: number, fp8: boolean,
  cal: Calibration): number {
  let t = qLoraRank > 0 ? gemmTimeS(tokens, qLoraRank, hidden, fp8, cal)
    : gemmTimeS(tokens, (heads * (qkHeadDim + qkRopeDim)) / tp, hidden, fp8, cal);
  t += gemmTimeS(tokens, kvLoraRank + qkRopeDim, hidden, fp8, cal);
  t += upProjectionFwdS;
  t += gemmTimeS(tokens, hidden, (heads * vHeadDim) / tp, fp8, cal);
  return t;
}

/**
 * Flash-attention forward of one layer: causal core attention over `batch` sequences of `seq` tokens split over
 * CP, `headsLocal` = a/TP heads; each rank runs a seq/CP chunk.
 */
export function flashAttentionLayerFwdTimeS(batch: number, seq: number, headsLocal: number, dqk: number, dv: number,
  cp: number, cal: Calibration): number {
  return flashAttentionFwdTimeS(coreAttentionFwdFlops(batch, seq, headsLocal, dqk, dv, cp), seq / cp, cal);
}

/** Flash-attention backward of one layer (same arguments as flashAttentionLayerFwdTimeS). */
export function flashAttentionLayerBwdTimeS(batch: number, seq: number, headsLocal: number, dqk: number, dv: number,
  cp: number, cal: Calibration): number {
  return flashAttentionBwdTimeS(coreAttentionFwdFlops(batch, seq, headsLocal, dqk, dv, cp), seq / cp, cal);
}

/** Elementwise work around attention, forward (memory-bound; compute.ts attentionElementwiseBytes). */
export function attentionElementwiseFwdTimeS(tokensStored: number, tokensGemm: number, hidden: number,
  qkWidthLocal: number, cal: Calibration): number {
  return memoryBoundTimeS(attentionElementwiseBytes(tokensStored, tokensGemm, hidden, qkWidthLocal), cal);
}

/** Attention block forward: t_proj + t_flash,f + t_elem (what full recompute runs again). */
export function attentionFwdTimeS(projectionFwdS: number, flashFwdS: number, elementwiseFwdS: number): number {
  return projectionFwdS + flashFwdS + elementwiseFwdS;
}

/** Attention block forward + backward: 3·(t_proj + t_elem) + t_flash,f + t_flash,b. */
export function attentionTimeS(projectionFwdS: number, elementwiseFwdS: number, flashFwdS: number,
  flashBwdS: number): number {
  return 3 * (projectionFwdS + elementwiseFwdS) + flashFwdS + flashBwdS;
}
