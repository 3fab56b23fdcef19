/**
 * Dense MLP time per layer per micro-batch on one rank (also the shared expert of an MoE layer):
 *   forward t_f = GEMM(tokens × GLU·F/TP × h) + GEMM(tokens × h × F/TP) + activation (memory-bound)
 *   fwd+bwd t   = 3·t_f (backward = dgrad + wgrad, 2× the forward)
 * GLU = 2 for SwiGLU (FC1 produces gate and up), 1 otherwise (megatron.md §3.1).
 */
import type { Calibration } from '../calibration.js';
import { gemmTimeS } from '../gemm.js';
import { activationFnBytes, memoryBoundTimeS } from '../compute.js';

/** MLP forward of width `ffnLocal` (= F/TP) on `tokens` GEMM rows. */
export function denseMlpFwdTimeS(tokens: number, hidden: number, ffnLocal: number, glu: number, fp8: boolean,
  cal: Calibration): number {
  return denseMlpGemmsFwdTimeS(tokens, hidden, ffnLocal, glu, fp8, cal) +
    memoryBoundTimeS(activationFnBytes(tokens, ffnLocal, glu), cal);
}

/** The two GEMMs of the MLP forward (FC1, FC2), without the activation. */
export function denseMlpGemmsFwdTimeS(tokens: number, hidden: number, ffnLocal: number, glu: number, fp8: boolean,
  cal: Calibration): number {
  return gemmTimeS(tokens, glu * ffnLocal, hidden, fp8, cal) + gemmTimeS(tokens, hidden, ffnLocal, fp8, cal);
}

/** MLP forward + backward: 3·t_f. */
export function denseMlpTimeS(fwdS: number): number {
  return 3 * fwdS;
}
