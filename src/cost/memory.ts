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
import type { StackSpec } from '../job/types.js';

/** fp32 master weights + Adam first and second moments per parameter (sharded by the distributed optimizer). */
export const ADAM_FP32_STATE_BYTES_PER_PARAM = 12;

/** Bytes per element of the dtypes the precision-aware optimizer may keep. */
const DTYPE_BYTES: Readonly<Record<string, number>> = { fp32: 4, fp16: 2, bf16: 2, fp8: 1 };

/**
 * Optimizer-state bytes per parameter before sharding: fp32 master + Adam m, v unless the precision-aware optimizer
 * (--use-precision-aware-optimizer) keeps them in --main-params-dtype, --exp-avg-dtype, --exp-avg-sq-dtype. Its
 * store_param_remainders (on by default with TE >= 2.1) is not modelled: an fp32 master counts 4 B.
 */
export function optimizerStateBytesPerParam(s: Pick<StackSpec, 'use_precision_aware_optimizer' | 'main_params_dtype'
  | 'exp_avg_dtype' | 'exp_avg_sq_dtype'>): number {
  if (!s.use_precision_aware_optimizer) return ADAM_FP32_STATE_BYTES_PER_PARAM;
  return DTYPE_BYTES[s.main_params_dtype] + DTYPE_BYTES[s.exp_avg_dtype] + DTYPE_BYTES[s.exp_avg_sq_dtype];
}

/** Main gradients kept and reduced in bf16 (--grad-reduce-in-bf16). */
export const BF16_GRAD_BYTES_PER_PARAM = 2;

/** The distributed optimizer all-gathers fp8 parameters (--fp8-param-gather). */
export const FP8_PARAM_GATHER_BYTES_PER_PARAM = 1;

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
