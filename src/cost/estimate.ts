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
}

/** Peak memory per GPU on the most loaded pipeline stage, in bytes. */
export interface MemoryBreakdown {
  weightsBytes: number;
  gradientsBytes: number;
  optimizerStatesBytes: number;
  activationsBytes: number;
  /** Output logits / loss buffers (fp32) on the last stage, when it is the most loaded. */
  logitsBytes: number;
  commBuffersBytes: number;
  /** CUDA context, allocator fragmentation, workspace (from the calibration file). */
  overheadBytes: number;
}

export interface Estimate {
  stepTimeS: number;
  tokensPerSPerGpu: number;
  /** Model TFLOP/s per GPU (Megatron's FLOPs convention, causal attention). */
  tflopsPerGpu: number;
  /** Model FLOPs utilisation against the GPU's dense peak for the run's precision. */
  mfu: number;
  peakMemBytes: number;
  /** Usable memory of the GPU (capacity minus what the calibration reserves). */
  usableMemBytes: number;
  fits: boolean;
  time: TimeBreakdown;
  mem: MemoryBreakdown;
}

export function newEstimate(): Estimate {
  return {
    stepTimeS: 0, tokensPerSPerGpu: 0, tflopsPerGpu: 0, mfu: 0, peakMemBytes: 0, usableMemBytes: 0, fits: false,
    time: {
      attentionS: 0, denseMlpS: 0, expertsS: 0, otherComputeS: 0, recomputeS: 0,
      tpCommS: 0, cpCommS: 0, epCommS: 0, dpCommS: 0, ppCommS: 0, bubbleS: 0, optimizerS: 0,
    },
    mem: {
      weightsBytes: 0, gradientsBytes: 0, optimizerStatesBytes: 0, activationsBytes: 0, logitsBytes: 0,
      commBuffersBytes: 0, overheadBytes: 0,
    },
  };
}

export function copyEstimate(from: Estimate, to: Estimate): Estimate {
  to.stepTimeS = from.stepTimeS; to.tokensPerSPerGpu = from.tokensPerSPerGpu; to.tflopsPerGpu = from.tflopsPerGpu;
  to.mfu = from.mfu; to.peakMemBytes = from.peakMemBytes; to.usableMemBytes = from.usableMemBytes; to.fits = from.fits;
  Object.assign(to.time, from.time);
  Object.assign(to.mem, from.mem);
  return to;
}
