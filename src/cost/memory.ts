/**
 * Memory terms per GPU. Model state: bf16 weights (2 B/param, + FP8 copies under FP8), fp32 main gradients
 * (4 B/param), fp32 master weights + Adam m, v (12 B/param) sharded by the distributed optimizer over DP×CP for
 * dense parameters and EDP for expert parameters (the real sharding; Megatron's report formula divides by DP only,
 * megatron.md §3.2). Activations: what backward needs per layer per micro-batch with flash attention (no s² term),
 * divided by what SP/TP/CP divide; MoE activations on the routed rows.
 */

/** Bytes of model state for `denseParams` (sharded over `dpcp` by the optimizer) and `expertParams` (over `edp`). */
export interface ModelStateBytes { weights: number; gradients: number; optimizer: number }

export function modelStateBytes(denseParams: number, expertParams: number, dpcp: number, edp: number,
  distributedOptimizer: boolean, weightBytesPerParam: number, out: ModelStateBytes): ModelStateBytes {
  const params = denseParams + expertParams;
  out.weights = params * weightBytesPerParam;
  out.gradients = params * 4;
  out.optimizer = distributedOptimizer ? 12 * (denseParams / dpcp + expertParams / edp) : 12 * params;
  return out;
}

/**
 * Megatron's own formula (theoretical_memory_usage.py, megatron.md §3.2): (T + Rep)·bytes(DP) + X·bytes(EDP) with
 * bytes(n) = 18 without the distributed optimizer, 6 + 12/n with it; DP there excludes CP.
 */
export function megatronWeightOptimizerBytes(nonExpertParams: number, expertParams: number, dp: number, edp: number,
  distributedOptimizer: boolean): number {
  const b = (n: number): number => (distributedOptimizer ? 6 + 12 / n : 18);
  return nonExpertParams * b(dp) + expertParams * b(edp);
}

/**
 * Attention-block activation bytes for one layer and micro-batch on one rank. `tokens` = s·b/CP (GEMM rows);
 * with SP the norm inputs/outputs and residual are split over TP as well, otherwise replicated.
 * Saved (bf16): norm input and output, Q, K, V (per local heads), attention output O (projection input), and the
 * residual feeding the next norm. `qkvoWidthLocal` = (q + k + v + o widths)/TP; `latentWidth` = MLA latents
 * (q-LoRA + kv-LoRA + rope, replicated) or 0. `gemmInputBytes`: bytes per saved GEMM-input element (2 in bf16;
 * 1 under FP8, where Transformer Engine saves the FP8-cast input for the weight gradient).
 */
export function attentionActivationBytes(tokens: number, hidden: number, qkvoWidthLocal: number,
  latentWidth: number, tp: number, sp: boolean, gemmInputBytes: number): number {
  const tokStored = sp ? tokens / tp : tokens;
  return tokStored * hidden * (2 * 2 + gemmInputBytes) + 2 * tokens * qkvoWidthLocal + 2 * tokStored * latentWidth;
}

/**
 * Dense-MLP activation bytes: norm output (SP-split) and activation output (F/TP), both GEMM inputs
 * (`gemmInputBytes` each), and the FC1 output (GLU: 2·F/TP, bf16).
 */
export function mlpActivationBytes(tokens: number, hidden: number, ffnLocal: number, glu: number, tp: number,
  sp: boolean, gemmInputBytes: number): number {
  const tokStored = sp ? tokens / tp : tokens;
  return gemmInputBytes * (tokStored * hidden + tokens * ffnLocal) + 2 * tokens * glu * ffnLocal;
}

/**
 * MoE-layer activation bytes: norm output and router probabilities (fp32) for the `tokensIn` tokens entering the
 * layer; per routed row (`rows` = tokens × top-k × ETP, balanced: a rank is hot in some layers and cold in others,
 * so the in-flight total follows the mean load) the permuted input (h) and activation output (F_e/ETP), both GEMM
 * inputs, the FC1 output (GLU·F_e/ETP) and the expert output (h).
 */
export function moeActivationBytes(tokensIn: number, rows: number, hidden: number, numExperts: number,
  expertFfnLocal: number, glu: number, gemmInputBytes: number): number {
  return 2 * tokensIn * hidden + 8 * tokensIn * numExperts +
    rows * (gemmInputBytes * (hidden + expertFfnLocal) + 2 * (hidden + glu * expertFfnLocal));
}

/** Full recompute keeps only each layer's input (bf16, SP-split when SP is on). */
export function fullRecomputeBytesPerLayer(tokens: number, hidden: number, tp: number, sp: boolean): number {
  return 2 * (sp ? tokens / tp : tokens) * hidden;
}

/** fp32 logits and their gradient for `tokens` tokens over the local vocabulary shard. */
export function logitsBytes(tokens: number, vocabLocal: number): number {
  return tokens * vocabLocal * 4 * 2;
}
