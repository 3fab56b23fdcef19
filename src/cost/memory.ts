/**
 * Memory per GPU of one pipeline stage, other than activations (terms/activations.ts) and logits
 * (terms/edge-stages.ts).
 * Model state: bf16 weights (2 B/param, + FP8 copies under FP8), main gradients (fp32, 4 B/param, Megatron-LM's
 * default with --bf16; 2 B when a run reduces in bf16), fp32 master weights + Adam m, v (12 B/param) sharded by the
 * distributed optimizer over DP×CP for dense parameters and EDP for expert parameters (the real sharding; Megatron's
 * report formula divides by DP only, megatron.md §3.2).
 * FP8 plans add Transformer Engine's cached FP8 copies of the GEMM weights (fp8WeightCopyBytes).
 *
 * Two memory figures (Estimate.allocatedPeakBytes, Estimate.peakMemBytes; MEMORY_TERM_SIDE in estimate.ts says which
 * side each term is on):
 *  - allocator side: what PyTorch's caching allocator hands out, i.e. what Megatron logs as "max allocated"
 *    (torch.cuda.max_memory_allocated, megatron/training/utils report_memory): model state, FP8 weight copies,
 *    activations, logits, dispatcher buffers, cuBLAS/TE workspaces and Megatron's global memory buffer
 *    (terms/workspaces.ts);
 *  - device side, outside the allocator: the CUDA context (memory.cuda_context_bytes), NCCL's buffers per
 *    communicator (terms/nccl-buffers.ts), Transformer Engine's userbuffers (terms/workspaces.ts) and the
 *    allocator's reserved-but-free memory (allocatorReserveBytes).
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
 * weights = weightBytes(P, P_gemm), gradients = P·g, optimizer = o·owned, for `params` = P parameters held (dense +
 * expert), `gemmParams` = P_gemm of them GEMM weights, of which the rank owns the optimizer state of `ownedParams`
 * (optimizerOwnedParams). Writes `out` (no allocation).
 */
export function modelStateBytes(params: number, gemmParams: number, ownedParams: number, fp8PrimaryWeights: boolean,
  gradBytesPerParam: number, optimizerStateBytesPerParam: number, out: ModelStateBytes): ModelStateBytes {
  out.weights = weightBytes(params, gemmParams, fp8PrimaryWeights);
  out.gradients = params * gradBytesPerParam;
  out.optimizer = optimizerStateBytesPerParam * ownedParams;
  return out;
}

/**
 * With --fp8-param-gather the GEMM weights are Transformer Engine FP8 tensors (fp8_model_init: the primary weight is
 * FP8, the fp32 master lives in the optimizer): 1 B/param instead of the bf16 2 B (te/pytorch/module/base.py
 * quantize_weight: an already-quantized weight is used as is, no workspace).
 */
export const FP8_PRIMARY_WEIGHT_BYTES_PER_PARAM = 1;

/**
 * The FP8 primary weight's column-wise (transposed) data, which Hopper's FP8 GEMMs need for dgrad/wgrad (TN layout
 * only) and which Transformer Engine keeps next to it (update_usage(columnwise_usage=True) in linear.py): 1 B/param.
 */
export const FP8_PRIMARY_TRANSPOSE_BYTES_PER_PARAM = 1;

/**
 * Bytes of the weights a rank holds: P·2 (bf16), except that with FP8 primary weights (fp8 plan and
 * --fp8-param-gather) the `gemmParams` GEMM weights take FP8_PRIMARY_WEIGHT_BYTES_PER_PARAM:
 *   w = 2·(P − P_gemm) + b·P_gemm, b = 1 with FP8 primary weights, else 2.
 */
export function weightBytes(params: number, gemmParams: number, fp8PrimaryWeights: boolean): number {
  return 2 * (params - gemmParams) +
    (fp8PrimaryWeights ? FP8_PRIMARY_WEIGHT_BYTES_PER_PARAM : 2) * gemmParams;
}

/**
 * Transformer Engine's FP8 copies of the GEMM weights on an FP8 plan (allocator side). TE quantizes each weight
 * once per step (is_first_microbatch, Megatron's TELinear / TEGroupedLinear unless
 * --disable-parameter-transpose-cache) and caches the result in the module's _fp8_workspaces across micro-batches
 * (te/pytorch/module/base.py quantize_weight, linear.py cache_weight): row-wise FP8 data for the forward and
 * column-wise (transposed) FP8 data for the backward, memory.fp8_weight_copy_bytes_per_param per GEMM parameter.
 * With --fp8-param-gather the weight itself is FP8 (weightBytes) and only its transpose is added.
 * Only GEMM weights (attention and MLP linears, experts, MLA down-projections, MTP eh_proj) are quantized; norms,
 * embedding, output layer and router stay bf16.
 *   copies = P_gemm · (primary ? FP8_PRIMARY_TRANSPOSE_BYTES_PER_PARAM : fp8_weight_copy_bytes_per_param), 0 in bf16.
 */
export function fp8WeightCopyBytes(gemmParams: number, fp8: boolean, fp8PrimaryWeights: boolean,
  cal: Calibration): number {
  if (!fp8) return 0;
  return gemmParams * (fp8PrimaryWeights ? FP8_PRIMARY_TRANSPOSE_BYTES_PER_PARAM : cal.fp8WeightCopyBytesPerParam);
}

/**
 * The caching allocator's reserved-but-unallocated memory at the peak (device side): fragmentation of the
 * per-micro-batch tensors, memory.allocator_fragmentation_fraction × (activations + logits).
 */
export function allocatorReserveBytes(activationBytes: number, logitsBytes: number, cal: Calibration): number {
  return cal.allocatorFragmentationFraction * (activationBytes + logitsBytes);
}
