/**
 * Activation memory: what backward needs, per layer per micro-batch on one rank, with flash attention (no s² term),
 * divided by what SP/TP/CP divide (Korthikanti et al. 2022, restated per tensor; megatron.md §3.3 gives Megatron's
 * own formula, which has no MoE terms and ignores CP). `tokens` = s·b/CP GEMM rows; with SP the norm inputs/outputs
 * and the residual are split over TP as well. `gemmInputBytes` per saved GEMM-input element: 2 in bf16, 1 under FP8
 * (Transformer Engine saves the FP8-cast input for the weight gradient). Then the stage total over its in-flight
 * micro-batches (pipeline.ts inflightMicrobatches).
 *
 * TP without sequence parallel: the norm inputs/outputs, the residual and the dropout masks are replicated on every TP
 * rank (`tokStored` = tokens, not tokens/TP, in each term below); the Q/K/V, attention output and MLP inner tensors are
 * split over TP either way.
 * Dropout: with hidden_dropout > 0 Megatron's bias-dropout-add after attention and after the MLP
 * (fusions/fused_bias_dropout.py, torch.nn.functional.dropout) keeps a bool mask, 1 B per element of the stored
 * residual stream (dropoutMaskBytes); the embedding dropout keeps one more on the first stage. attention_dropout
 * costs no memory: the attention Megatron runs for the plans moefold emits is Transformer Engine's flash / cuDNN fused
 * attention (--attention-backend auto, causal mask, head dim <= 256), which saves the RNG seed and offset and
 * regenerates its dropout in the backward (flash-attention saves rng_state, no mask). For the same reason there is no
 * s² score / softmax buffer: unfused attention is not a backend moefold's jobs or exports select (no stack field, no
 * --attention-backend flag in the export).
 */

/**
 * Attention block: norm input and output, Q, K, V (local heads), the attention output O (projection input) and the
 * residual feeding the next norm. `qkvoWidthLocal` = (q + k + v + o widths)/TP; `latentWidth` = MLA latents
 * (q-LoRA + kv-LoRA + rope, replicated) or 0.
 */
export function attentionActivationBytes(tokens: number, hidden: number, qkvoWidthLocal: number,
  latentWidth: number, tp: number, sp: boolean, gemmInputBytes: number): number {
  const tokStored = sp ? tokens / tp : tokens;
  return tokStored * hidden * (2 * 2 + gemmInputBytes) + 2 * tokens * qkvoWidthLocal + 2 * tokStored * latentWidth;
}

/**
 * What selective recompute frees in the attention block (MLA only): the input-norm output (layernorm; the GQA norm
 * is fused into the QKV GEMM, which keeps its input) and the up-projected Q/K/V (mla_up_proj; the latents stay).
 */
export function attentionSelectiveSavedBytes(layernorm: number, mlaUpProj: number, tokens: number,
  tokensStored: number, hidden: number, qkvWidthLocal: number, gemmInputBytes: number): number {
  return layernorm * gemmInputBytes * tokensStored * hidden + mlaUpProj * 2 * tokens * qkvWidthLocal;
}

/**
 * Dense MLP: norm output (SP-split) and activation output (F/TP), both GEMM inputs, and the FC1 output
 * (GLU: 2·F/TP, bf16).
 */
export function mlpActivationBytes(tokens: number, hidden: number, ffnLocal: number, glu: number, tp: number,
  sp: boolean, gemmInputBytes: number): number {
  const tokStored = sp ? tokens / tp : tokens;
  return gemmInputBytes * (tokStored * hidden + tokens * ffnLocal) + 2 * tokens * glu * ffnLocal;
}

/**
 * MoE MLP: norm output (bf16, the router's and dispatcher's input) and router logits and probabilities (fp32) for
 * the `tokensIn` tokens entering the layer; per routed row (`rows` = tokens × top-k × ETP, balanced: a rank is hot in
 * some layers and cold in others, so the in-flight total follows the mean load) the permuted FC1 input (h) and the
 * activation output (F_e/ETP), both GEMM inputs, and the FC1 output (GLU·F_e/ETP, bf16) that the
 * probability-weighted activation needs. The expert output is not saved: Megatron-Core applies the router
 * probabilities inside the activation since core v0.13 (experts.py), so unpermute keeps no per-row tensor.
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
 * A dense layer: attention block − what selective frees there + the MLP; selective 'mlp' keeps only the MLP input
 * (the residual, counted with attention): the fused norm's output, the FC1 output and the activation output go.
 */
export function denseLayerActivationBytes(attentionBytes: number, attentionSavedBytes: number, mlpBytes: number,
  dropMlp: boolean): number {
  return attentionBytes - attentionSavedBytes + (dropMlp ? 0 : mlpBytes);
}

/**
 * An MoE layer: attention block − what selective frees there + the pre-MLP norm output (2·tokens/TP·h, dropped by
 * selective layernorm) + the rest of the MoE MLP (moeActivationBytes less its norm output, plus the shared expert's
 * MLP less its input, which is that norm output; dropped by selective moe, less the activation output per routed
 * row by selective moe_act). `tokensMoe` = tokens/TP enter the router, `tokens` run the shared expert.
 */
export function moeLayerActivationBytes(attentionBytes: number, attentionSavedBytes: number, tokensMoe: number,
  tokens: number, tokensStored: number, hidden: number, numExperts: number, topk: number, etp: number,
  expertFfnLocal: number, glu: number, sharedFfnLocal: number, tp: number, sp: boolean, gemmInputBytes: number,
  dropNorm: boolean, dropMoe: boolean, dropActivation: boolean): number {
  let moeIn = 2 * tokensMoe * hidden;
  let moeInner = moeActivationBytes(tokensMoe, tokensMoe * topk * etp, hidden, numExperts, expertFfnLocal, glu,
    gemmInputBytes) - moeIn;
  if (sharedFfnLocal > 0) {
    moeInner += mlpActivationBytes(tokens, hidden, sharedFfnLocal, glu, tp, sp, gemmInputBytes) -
      gemmInputBytes * tokensStored * hidden;
  }
  if (dropNorm) moeIn = 0;
  if (dropMoe) moeInner = 0;
  else if (dropActivation) moeInner -= tokensMoe * topk * etp * gemmInputBytes * expertFfnLocal;
  return attentionBytes - attentionSavedBytes + moeIn + moeInner;
}

/**
 * Activations a stage holds at its peak: `inflight` micro-batches × its layers; under full recompute only each
 * layer's input per in-flight micro-batch, plus one layer's full activations (the one being recomputed: the larger
 * kind present).
 */
export function stageActivationBytes(inflight: number, nDense: number, nMoe: number, denseLayerBytes: number,
  moeLayerBytes: number, layerInputBytes: number, fullRecompute: boolean): number {
  if (fullRecompute) {
    return inflight * (nDense + nMoe) * layerInputBytes +
      (nMoe > 0 && moeLayerBytes > denseLayerBytes ? moeLayerBytes : denseLayerBytes);
  }
  return inflight * (nDense * denseLayerBytes + nMoe * moeLayerBytes);
}

/** Bool dropout mask bytes per element (torch.nn.functional.dropout saves a torch.bool mask for backward). */
export const DROPOUT_MASK_BYTES_PER_ELEMENT = 1;

/** Bias-dropout-add masks per transformer layer: after the attention block and after the MLP / MoE block. */
export const DROPOUT_MASKS_PER_LAYER = 2;

/**
 * Dropout masks: masks × tokStored × h × 1 B when hidden_dropout > 0, else 0 (`tokStored` = tokens/TP with sequence
 * parallel, tokens otherwise).
 */
export function dropoutMaskBytes(tokensStored: number, hidden: number, masks: number, hiddenDropout: number): number {
  return hiddenDropout > 0 ? masks * tokensStored * hidden * DROPOUT_MASK_BYTES_PER_ELEMENT : 0;
}
