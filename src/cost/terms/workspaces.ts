/**
 * Workspaces and persistent buffers outside the model state and the activations.
 * Allocator side (torch.empty / the caching allocator, so inside Megatron's "max allocated"):
 *  - cuBLAS workspaces: PyTorch keeps one per (cuBLAS handle, stream) from its caching allocator
 *    (aten/src/ATen/cuda/CublasHandlePool.cpp getNewWorkspace; memory.cublas_workspace_bytes each), and training
 *    uses two handles (the forward thread and autograd's backward thread); Transformer Engine caches its own
 *    (te/pytorch/cpp_extensions/gemm.py get_cublas_workspace, memory.te_cublas_workspace_bytes each): one for its
 *    GEMMs, one per compute stream (4, te/common/util/multi_stream.cpp) for the grouped GEMM of MoE layers, and
 *    _NUM_MAX_UB_STREAMS (3) more with --tp-comm-overlap;
 *  - Megatron's GlobalMemoryBuffer ("mpu" tensor, parallel_state.get_global_memory_buffer): the output layer's
 *    sequence-parallel all-gather of its input (tensor_parallel/layers.py), tokens × h × 2 B on the last stage.
 * Device side (registered with cudaMalloc/cuMem by Transformer Engine, outside the allocator):
 *  - userbuffers of --tp-comm-overlap (te/pytorch/module/base.py initialize_ub): one buffer of Megatron's
 *    input_shape [(seq·mbs)/CP, h] (training/initialize.py) per overlapped GEMM that is not "external": 4 ring-exchange
 *    all-gathers, 2 pipelined reduce-scatters, 4 bulk (10 buffers); all-gather buffers are FP8 under FP8
 *    (fp8_buf for qkv_fprop, qkv_dgrad, proj_dgrad, fc1_fprop, fc1_dgrad, fc2_dgrad: 6 of them).
 */
import type { Calibration } from '../calibration.js';

/** cuBLAS handles with a PyTorch workspace in training: the main thread and autograd's backward thread. */
export const TORCH_CUBLAS_HANDLES_TRAINING = 2;

/** Transformer Engine's compute streams for grouped GEMMs (nvte_get_num_compute_streams). */
export const TE_GROUPED_GEMM_STREAMS = 4;

/** Transformer Engine's userbuffer GEMM streams (_NUM_MAX_UB_STREAMS in cpp_extensions/gemm.py). */
export const TE_UB_STREAMS = 3;

/** Userbuffer bytes per (token × hidden) element: 10 bf16 buffers; under FP8, 6 FP8 all-gather + 4 bf16 buffers. */
export const UB_BYTES_PER_ELEMENT_BF16 = 10 * 2;
export const UB_BYTES_PER_ELEMENT_FP8 = 6 * 1 + 4 * 2;

/**
 * cuBLAS workspaces of a rank (allocator side):
 *   W = 2 · cublas_workspace_bytes + te_cublas_workspace_bytes · (1 + 4·[MoE layers] + 3·[tp-comm-overlap]).
 */
export function cublasWorkspaceBytes(hasMoe: boolean, tpCommOverlap: boolean, cal: Calibration): number {
  return TORCH_CUBLAS_HANDLES_TRAINING * cal.cublasWorkspaceBytes +
    cal.teCublasWorkspaceBytes * (1 + (hasMoe ? TE_GROUPED_GEMM_STREAMS : 0) + (tpCommOverlap ? TE_UB_STREAMS : 0));
}

/**
 * Megatron's GlobalMemoryBuffer on the last stage: the output layer's gathered input, tokens × h × 2 B with sequence
 * parallel (TP > 1), else 0 (allocator side).
 */
export function globalMemoryBufferBytes(tokens: number, hidden: number, sequenceParallel: boolean,
  lastStage: boolean): number {
  return sequenceParallel && lastStage ? 2 * tokens * hidden : 0;
}

/**
 * Transformer Engine's userbuffers with --tp-comm-overlap (TP > 1, sequence parallel), device side:
 *   U = tokens × h × (20 in bf16, 14 under FP8), tokens = seq·mbs/CP.
 */
export function userBufferBytes(tokens: number, hidden: number, fp8: boolean, active: boolean): number {
  if (!active) return 0;
  return tokens * hidden * (fp8 ? UB_BYTES_PER_ELEMENT_FP8 : UB_BYTES_PER_ELEMENT_BF16);
}
