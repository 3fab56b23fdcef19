/**
 * What the scorer returns for one plan. Fixed numeric fields only, so one Estimate object can be reused
 * across millions of plans (scorePlan writes into it; it allocates nothing per call).
 * Times are seconds per training step (one global batch) on the critical path of the slowest pipeline
 * stage; communication terms are the exposed (not overlapped) part.
 */
export interface TimeBreakdown {
  /** QKV / output projections and core attention (forward + backward). */
  attentionS: number;
  /** Dense MLP layers. */
  denseMlpS: number;
  /** Router, routed experts (grouped GEMMs), shared experts, permute/unpermute. */
  expertsS: number;
  /** Embedding, output layer and loss, norms and other memory-bound work. */
  otherComputeS: number;
  /** Extra forward work under selective/full recompute. */
  recomputeS: number;
  tpCommS: number;
  cpCommS: number;
  epCommS: number;
  dpCommS: number;
  ppCommS: number;
  /** Pipeline bubble: (pp−1)/(m·vpp) of the steady-state time, plus stage imbalance. */
  bubbleS: number;
  /** Optimizer step (memory-bound). */
  optimizerS: number;
  /** Fine-tuning: the LoRA adapters' GEMMs (forward + backward). */
  adaptersS: number;
  /** Fine-tuning: decoding compressed base weights for every GEMM (per_gemm decode). */
  baseDecodeS: number;
}

/**
 * Peak memory per GPU on the most loaded pipeline stage (the one with the largest device figure), in bytes. All
 * terms sum to Estimate.peakMemBytes; the allocator-side ones (MEMORY_TERM_SIDE) to that stage's allocator figure,
 * which Estimate.allocatedPeakBytes (the largest over all stages) equals unless another stage allocates more.
 */
export interface MemoryBreakdown {
  /** bf16 weights (FP8 primary GEMM weights with --fp8-param-gather). */
  weightsBytes: number;
  /** Transformer Engine's cached FP8 weight copies (row-wise + transpose) on FP8 plans. */
  fp8WeightCopiesBytes: number;
  gradientsBytes: number;
  optimizerStatesBytes: number;
  /** Activations of the in-flight micro-batches, dropout masks included. */
  activationsBytes: number;
  /** Output logits / loss buffers (fp32) on the last stage, when it is the most loaded. */
  logitsBytes: number;
  /** The MoE dispatcher's send/receive buffers. */
  dispatchBuffersBytes: number;
  /** cuBLAS / Transformer Engine workspaces and Megatron's global memory buffer. */
  workspacesBytes: number;
  /** Device side: the CUDA context. */
  cudaContextBytes: number;
  /** Device side: NCCL's buffers of the plan's communicators. */
  ncclBuffersBytes: number;
  /** Device side: Transformer Engine's userbuffers (--tp-comm-overlap). */
  userBuffersBytes: number;
  /** Device side: the caching allocator's reserved-but-unallocated memory (fragmentation). */
  allocatorReserveBytes: number;
}

/**
 * Which figure each memory term belongs to: 'allocator' terms are PyTorch caching-allocator memory (Megatron's
 * "max allocated"); 'device' terms are outside it but must fit on the GPU as well.
 */
export const MEMORY_TERM_SIDE: Readonly<Record<keyof MemoryBreakdown, 'allocator' | 'device'>> = {
  weightsBytes: 'allocator', fp8WeightCopiesBytes: 'allocator', gradientsBytes: 'allocator',
  optimizerStatesBytes: 'allocator', activationsBytes: 'allocator', logitsBytes: 'allocator',
  dispatchBuffersBytes: 'allocator', workspacesBytes: 'allocator',
  cudaContextBytes: 'device', ncclBuffersBytes: 'device', userBuffersBytes: 'device', allocatorReserveBytes: 'device',
};

export interface Estimate {
  stepTimeS: number;
  tokensPerSPerGpu: number;
  /** Model TFLOP/s per GPU (Megatron's FLOPs convention, causal attention). */
  tflopsPerGpu: number;
  /** Model FLOPs utilisation against the GPU's dense peak for the run's precision. */
  mfu: number;
  /**
   * What Megatron logs as "max allocated" (torch.cuda.max_memory_allocated): the largest allocator figure over the
   * pipeline stages (Megatron prints the maximum over ranks).
   */
  allocatedPeakBytes: number;
  /** Device figure, what must fit: allocatedPeakBytes + CUDA context, NCCL buffers, userbuffers, allocator reserve. */
  peakMemBytes: number;
  /** Usable memory of the GPU (capacity minus what the calibration reserves); `fits` compares peakMemBytes to it. */
  usableMemBytes: number;
  fits: boolean;
  time: TimeBreakdown;
  mem: MemoryBreakdown;
}

/** Free memory a plan leaves on its most loaded GPU: usable − peak (device figure). */
export function headroomBytes(e: Estimate): number {
  return e.usableMemBytes - e.peakMemBytes;
}

export function newEstimate(): Estimate {
  return {
    stepTimeS: 0, tokensPerSPerGpu: 0, tflopsPerGpu: 0, mfu: 0, allocatedPeakBytes: 0, peakMemBytes: 0, usableMemBytes: 0, fits: false,
    time: {
      attentionS: 0, denseMlpS: 0, expertsS: 0, otherComputeS: 0, recomputeS: 0,
      tpCommS: 0, cpCommS: 0, epCommS: 0, dpCommS: 0, ppCommS: 0, bubbleS: 0, optimizerS: 0, adaptersS: 0,
      baseDecodeS: 0,
    },
    mem: {
      weightsBytes: 0, fp8WeightCopiesBytes: 0, gradientsBytes: 0, optimizerStatesBytes: 0, activationsBytes: 0,
      logitsBytes: 0, dispatchBuffersBytes: 0, workspacesBytes: 0, cudaContextBytes: 0, ncclBuffersBytes: 0,
      userBuffersBytes: 0, allocatorReserveBytes: 0,
    },
  };
}

export function copyEstimate(from: Estimate, to: Estimate): Estimate {
  to.stepTimeS = from.stepTimeS; to.tokensPerSPerGpu = from.tokensPerSPerGpu; to.tflopsPerGpu = from.tflopsPerGpu;
  to.mfu = from.mfu; to.allocatedPeakBytes = from.allocatedPeakBytes; to.peakMemBytes = from.peakMemBytes; to.usableMemBytes = from.usableMemBytes; to.fits = from.fits;
  Object.assign(to.time, from.time);
  Object.assign(to.mem, from.mem);
  return to;
}
