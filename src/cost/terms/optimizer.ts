/**
 * Optimizer step per training step on one rank: memory-bound, streaming optimizer.optimizer_bytes_per_param
 * (cost-models/*.yaml: master weights, Adam m, v, gradient, bf16 weight) for every parameter the rank owns
 * (memory.ts optimizerOwnedParams: sharded over DP×CP / EDP by the distributed optimizer):
 *   t_opt = owned · bytes/param / HBM bandwidth
 */
import type { Calibration } from '../calibration.js';

export function optimizerStepTimeS(ownedParams: number, cal: Calibration): number {
  return (ownedParams * cal.optimizerBytesPerParam) / cal.hbmBytesPerS;
}
