/**
 * Work only the edge pipeline stages do, per micro-batch on one rank: the embedding (first stage); the final norm,
 * output layer, loss and the multi-token-prediction (MTP) heads (last stage), and the logits buffers the loss holds.
 *  - embedding: a lookup, forward + backward ≈ 3 passes over tokens_stored × h × 2 B (memory-bound);
 *  - output + loss: 3 × GEMM(tokens × V/TP × h) + the fp32 loss over the local vocabulary (4 passes of 4 B per logit)
 *    + 3 passes over the final norm (memory-bound); with SP one more TP pair (gather before the output GEMM,
 *    tp-comm.ts);
 *  - MTP, per MTP layer beyond its transformer layer (counted as a layer of the last stage): eh_proj
 *    (3 × GEMM(tokens × h × 2h)) + its own output layer and loss;
 *  - logits: tokens × V/TP × bytes per element (cost-models: 6 for Megatron's unfused cross entropy, 2 fused).
 * V/TP is the local shard of the padded vocabulary (job/params.ts paddedVocabSize).
 */
import type { Calibration } from '../calibration.js';
import { gemmTimeS } from '../gemm.js';
import { memoryBoundTimeS } from '../compute.js';

/**
 * Peak bytes per logit element of Megatron's unfused vocab-parallel cross entropy (tensor_parallel/cross_entropy.py):
 * the logits are cast to fp32 and the fp32 softmax is saved for backward (4 B); the bf16 logits are alive next to it
 * in the forward, and the bf16 copy of the fp32 gradient in the backward (2 B).
 */
export const LOGITS_BYTES_PER_ELEMENT_UNFUSED = 6;

/** With --cross-entropy-loss-fusion the loss is computed in place on the bf16 logits: 2 B per element. */
export const LOGITS_BYTES_PER_ELEMENT_FUSED = 2;

/** Embedding lookup forward + backward on the first stage (memory-bound). */
export function embeddingTimeS(tokensStored: number, hidden: number, cal: Calibration): number {
  return memoryBoundTimeS(3 * 2 * tokensStored * hidden, cal);
}

/**
 * Output layer + loss forward + backward on the last stage. The output layer is Megatron's plain BF16
 * ColumnParallelLinear under FP8 too (gpt_model.py builds it outside Transformer Engine's FP8 autocast), so its GEMM
 * runs at the BF16 rate with no quantisation.
 */
export function outputLayerTimeS(tokens: number, tokensStored: number, vocabLocal: number, hidden: number,
  cal: Calibration): number {
  const outGemm = outputLayerGemmFwdTimeS(tokens, vocabLocal, hidden, cal);
  const lossBytes = tokens * vocabLocal * 4 * 4;
  return 3 * outGemm + memoryBoundTimeS(lossBytes + 3 * 2 * tokensStored * hidden, cal);
}

/** The output layer's forward GEMM (tokens × vocab/TP × h, bf16). */
export function outputLayerGemmFwdTimeS(tokens: number, vocabLocal: number, hidden: number, cal: Calibration): number {
  return gemmTimeS(tokens, vocabLocal, hidden, false, cal);
}

/** The MTP heads' extra work: per MTP layer, eh_proj forward + backward + an output layer, loss and its TP pair. */
export function mtpExtraTimeS(mtpLayers: number, tokens: number, hidden: number, outputLayerS: number,
  outputTpS: number, fp8: boolean, cal: Calibration): number {
  return mtpLayers * (3 * gemmTimeS(tokens, hidden, 2 * hidden, fp8, cal) + outputLayerS + outputTpS);
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
