/**
 * Memory terms per GPU. Model state: bf16 weights (2 B/param, + FP8 copies under FP8), main gradients
 * (fp32, 4 B/param, Megatron-LM's default with --bf16; 2 B when a run reduces in bf16), fp32 master weights + Adam
 * m, v (12 B/param) sharded by the distributed optimizer over DP×CP for dense parameters and EDP for expert
 * parameters (the real sharding; Megatron's report formula divides by DP only, megatron.md §3.2).
 * Activations: what backward needs per layer per micro-batch with flash attention (no s² term), divided by what
 * SP/TP/CP divide; MoE activations on the routed rows (top-k per token).
 */

/** fp32 master weights + Adam first and second moments per parameter (sharded by the distributed optimizer). */
export const ADAM_FP32_STATE_BYTES_PER_PARAM = 12;

/**
 * Peak bytes per logit element of Megatron's unfused vocab-parallel cross entropy (tensor_parallel/cross_entropy.py):
 * the logits are cast to fp32 and the fp32 softmax is saved for backward (4 B); the bf16 logits are alive next to it
 * in the forward, and the bf16 copy of the fp32 gradient in the backward (2 B).
 */
export const LOGITS_BYTES_PER_ELEMENT_UNFUSED = 6;

/** Bytes of model state for `denseParams` (sharded over `dpcp` by the optimizer) and `expertParams` (over `edp`). */
export interface ModelStateBytes { weights: number; gradients: number; optimizer: number }

export function modelStateBytes(denseParams: number, expertParams: number, dpcp: number, edp: number,
  distributedOptimizer: boolean, weightBytesPerParam: number, out: ModelStateBytes,
  gradBytesPerParam = 4, optimizerStateBytesPerParam = ADAM_FP32_STATE_BYTES_PER_PARAM): ModelStateBytes {
  const params = denseParams + expertParams;
  out.weights = params * weightBytesPerParam;
  out.gradients = params * gradBytesPerParam;
  out.optimizer = optimizerStateBytesPerParam *
    (distributedOptimizer ? denseParams / dpcp + expertParams / edp : params);
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
 * MoE-layer activation bytes: norm output (bf16, the router's and dispatcher's input) and router logits and
 * probabilities (fp32) for the `tokensIn` tokens entering the layer; per routed row (`rows` = tokens × top-k × ETP,
 * balanced: a rank is hot in some layers and cold in others, so the in-flight total follows the mean load) the
 * permuted FC1 input (h) and the activation output (F_e/ETP), both GEMM inputs, and the FC1 output (GLU·F_e/ETP,
 * bf16) that the probability-weighted activation needs. The expert output is not saved: Megatron-Core applies the
 * router probabilities inside the activation since core v0.13 (experts.py), so unpermute keeps no per-row tensor.
 */
export function moeActivationBytes(tokensIn: number, rows: number, hidden: number, numExperts: number,
  expertFfnLocal: number, glu: number, gemmInputBytes: number): number {
  return 2 * tokensIn * hidden + 8 * tokensIn * numExperts +
    rows * (gemmInputBytes * (hidden + expertFfnLocal) + 2 * glu * expertFfnLocal);
}

/** Full recompute keeps only each layer's input (bf16, SP-split when SP is on). */
export function fullRecomputeBytesPerLayer(tokens: number, hidden: number, tp: number, sp: boolean): number {
  return 2 * (sp ? tokens / tp : tokens) * hidden;
}

/**
 * Logits and loss buffers of one micro-batch for `tokens` tokens over the local vocabulary shard, at
 * `bytesPerElement` (LOGITS_BYTES_PER_ELEMENT_UNFUSED for Megatron's default loss; 2 with Transformer Engine's fused
 * cross entropy, which writes the gradient into the bf16 logits in place).
 */
export function logitsBytes(tokens: number, vocabLocal: number,
  bytesPerElement = LOGITS_BYTES_PER_ELEMENT_UNFUSED): number {
  return tokens * vocabLocal * bytesPerElement;
}
