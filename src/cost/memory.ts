/**
 * Memory per GPU of one pipeline stage, other than activations (terms/activations.ts) and logits
 * (terms/edge-stages.ts).
 * Model state: bf16 weights (2 B/param, + FP8 copies under FP8), main gradients (fp32, 4 B/param, Megatron-LM's
 * default with --bf16; 2 B when a run reduces in bf16), fp32 master weights + Adam m, v (12 B/param) sharded by the
 * distributed optimizer over DP×CP for dense parameters and EDP for expert parameters (the real sharding; Megatron's
 * report formula divides by DP only, megatron.md §3.2).
 * Buffers and overhead: memory.comm_buffer_bytes (+ the MoE dispatcher's buffers, terms/ep-dispatch.ts),
 * memory.framework_overhead_bytes and memory.allocator_fragmentation_fraction of the activations and logits.
 */
import type { Calibration } from './calibration.js';

/** fp32 master weights + Adam first and second moments per parameter (sharded by the distributed optimizer). */
export const ADAM_FP32_STATE_BYTES_PER_PARAM = 12;

/** Parameters whose optimizer state a rank owns: dense/(DP·CP) + expert/EDP with the distributed optimizer, else all. */
export function optimizerOwnedParams(denseParams: number, expertParams: number, dpcp: number, edp: number,
  distributedOptimizer: boolean): number {
  return distributedOptimizer ? denseParams / dpcp + expertParams / edp : denseParams + expertParams;
}

/** Bytes of model state of one rank. */
export interface ModelStateBytes { weights: number; gradients: number; optimizer: number }

/**
 * weights = P·w, gradients = P·g, optimizer = o·owned, for `params` = P parameters held (dense + expert) of which
 * the rank owns the optimizer state of `ownedParams` (optimizerOwnedParams). Writes `out` (no allocation).
 */
export function modelStateBytes(params: number, ownedParams: number, weightBytesPerParam: number,
  gradBytesPerParam: number, optimizerStateBytesPerParam: number, out: ModelStateBytes): ModelStateBytes {
  out.weights = params * weightBytesPerParam;
  out.gradients = params * gradBytesPerParam;
  out.optimizer = optimizerStateBytesPerParam * ownedParams;
  return out;
}

/** Communication buffers: memory.comm_buffer_bytes plus the MoE dispatcher's (0 on a stage without MoE layers). */
export function commBufferBytes(dispatchBufferBytes: number, cal: Calibration): number {
  return cal.commBufferBytes + dispatchBufferBytes;
}

/** CUDA context / workspace plus allocator fragmentation of the activations and logits. */
export function frameworkOverheadBytes(activationBytes: number, logitsBytes: number, cal: Calibration): number {
  return cal.frameworkOverheadBytes + cal.allocatorFragmentationFraction * (activationBytes + logitsBytes);
}
