/**
 * Attention block time per layer per micro-batch on one rank: QKV / MLA projections and the output projection
 * (GEMMs, gemm.ts), causal flash attention (compute.ts) and the elementwise work around it (norms, residual adds,
 * RoPE; memory-bound).
 *   forward  t_f = t_proj + t_flash,f + t_elem
 *   fwd+bwd  t   = 3·(t_proj + t_elem) + t_flash,f + t_flash,b
 * (a GEMM's backward is its dgrad + wgrad, 2× its forward, Megatron's FLOPs convention, megatron.md §3.4;
 * elementwise backward likewise 2× its forward; flash attention has its own forward/backward curves by head dimension
 * and per-rank chunk from FlashAttention-3's H100 figures, cost-models/*.yaml compute.flash_attn_*; the backward
 * kernel does 2.5× the forward's work). Linear-layer biases (add_bias_linear, add_qkv_bias) add no time: Transformer
 * Engine applies them in the GEMM epilogue and computes their gradients in the wgrad epilogue (cuBLASLt BIAS /
 * BGRADB). Learnable softmax sinks (softmax_type) add one logit per head to the kernel's softmax: no time term.
 * MLA's projections follow Megatron's MLASelfAttention (megatron.md §3.1): q down (q-LoRA) or full q, kv down + rope,
 * q/kv up-projections, output projection; the up-projections are what --recompute-modules mla_up_proj recomputes.
 */
import type { Calibration } from '../calibration.js';
import { gemmTimeS } from '../gemm.js';
import {
  attentionElementwiseBytes, coreAttentionFwdFlops, flashAttentionBwdTimeS, flashAttentionFwdTimeS,
  flashAttentionHeadDim, memoryBoundTimeS,
} from '../compute.js';
import { windowPairFraction } from '../../job/window-attention.js';

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
 * CP, `headsLocal` = a/TP heads; each rank runs a seq/CP chunk at the efficiency of that chunk and of the head
 * dimension (compute.ts flashAttentionFwdEff). A share `windowShare` of the layers uses a left window of `window`
 * tokens (job/window-attention.ts): their FLOPs are the causal FLOPs × windowPairFraction, at the efficiency of a
 * causal chunk of min(seq/CP, 2·window) tokens (the causal length whose queries see as many keys, w, on average).
 *   t_f = (1 − w_share)·t(F, s/CP) + w_share·t(F·φ(s, w), min(s/CP, 2w))
 * The layer memo holds one attention cost for all layers, so windowed and full layers enter by their share.
 */
export function flashAttentionLayerFwdTimeS(batch: number, seq: number, headsLocal: number, dqk: number, dv: number,
  cp: number, windowShare: number, window: number, cal: Calibration): number {
  return windowedLayerTimeS(flashAttentionFwdTimeS, batch, seq, headsLocal, dqk, dv, cp, windowShare, window, cal);
}

/** Flash-attention backward of one layer (same arguments and form as flashAttentionLayerFwdTimeS). */
export function flashAttentionLayerBwdTimeS(batch: number, seq: number, headsLocal: number, dqk: number, dv: number,
  cp: number, windowShare: number, window: number, cal: Calibration): number {
  return windowedLayerTimeS(flashAttentionBwdTimeS, batch, seq, headsLocal, dqk, dv, cp, windowShare, window, cal);
}

/** t = (1 − w_share)·time(F, s/CP) + w_share·time(F·φ(s, w), min(s/CP, 2w)) for one direction's `time`. */
function windowedLayerTimeS(time: (fwdFlops: number, chunk: number, headDim: number, cal: Calibration) => number,
  batch: number, seq: number, headsLocal: number, dqk: number, dv: number, cp: number, windowShare: number,
  window: number, cal: Calibration): number {
  const f = coreAttentionFwdFlops(batch, seq, headsLocal, dqk, dv, cp);
  const d = flashAttentionHeadDim(dqk, dv);
  const chunk = seq / cp;
  let t = (1 - windowShare) * time(f, chunk, d, cal);
  if (windowShare > 0) t += windowShare * time(f * windowPairFraction(seq, window), Math.min(chunk, 2 * window), d, cal);
  return t;
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
