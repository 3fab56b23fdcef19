/**
 * Context-parallel ring attention per layer per micro-batch on one rank, as Transformer Engine's p2p CP runs it
 * (transformer_engine/pytorch/attention/dot_product_attention/context_parallel.py, AttnFuncWithCPAndKVP2P; megatron.md
 * §2.2). The sequence is cut into 2·CP chunks and rank r holds chunks r and 2·CP − 1 − r (causal load balancing), so
 * every ring step computes the same FLOPs: the diagonal step a causal block on the local s/CP tokens, the others a
 * full block of half the queries or half the keys. The forward runs CP steps; during step i the rank sends the K/V
 * it holds to the next rank and receives the next step's (kvBytes = tokens × (g/TP)·(d_qk + d_v) × 2 B); the
 * backward runs CP steps sending K, V and the partial dK, dV (2·kvBytes). Each step corrects the running output
 * with the step's softmax LSE (forward) or accumulates dQ and dK/dV (backward), and pays launches and waits.
 *   exposed = Σ_{fwd, bwd} [ (CP − 1)·max(0, t_send − t_block) + CP·(t_step + t_corr) ],  t_block = t_flash / CP
 * The hidden share of the sends, (CP − 1)·min(t_send, t_block), steals SMs (overlap.sm_steal_fraction).
 */
import type { Calibration } from '../calibration.js';
import { p2pTimeS } from '../comm.js';
import { memoryBoundTimeS } from '../compute.js';

/** K/V bytes one CP rank sends per ring step: tokens × (g·d_qk + g·d_v) local widths × 2 B. */
export function cpKvBytes(tokens: number, kvHeadsLocal: number, dqk: number, dv: number): number {
  return tokens * (kvHeadsLocal * dqk + kvHeadsLocal * dv) * 2;
}

/**
 * Forward correction bytes per ring step: the running output is rescaled and merged with the step's output
 * (read out, read the step's out, write out: 3 × tokens × (a/TP)·d_v × 2 B) and the softmax LSE merged
 * (3 × tokens × a/TP × 4 B, fp32). Counted on all local queries each step (steps after the diagonal touch half).
 */
export function cpFwdCorrectionBytes(tokens: number, headsLocal: number, dv: number): number {
  return 3 * tokens * headsLocal * (2 * dv + 4);
}

/** Backward accumulation bytes per ring step: dQ += step dQ and dK/dV += step dK/dV (read, read, write; bf16). */
export function cpBwdCorrectionBytes(tokens: number, headsLocal: number, kvHeadsLocal: number, dqk: number,
  dv: number): number {
  return 3 * 2 * tokens * (headsLocal * dqk + kvHeadsLocal * (dqk + dv));
}

/** Seconds one K/V send takes (forward: kvBytes; backward: K/V plus dK/dV, 2·kvBytes). */
export function cpSendTimeS(bytes: number, interNode: boolean, gpusPerNode: number, cal: Calibration): number {
  return p2pTimeS(bytes, interNode, gpusPerNode, cal);
}

/**
 * Exposed seconds of one ring pass (forward or backward): (CP − 1)·max(0, t_send − t_block) + CP·t_fixed,
 * t_block = flashS/CP the step's block, t_fixed the per-step overhead plus correction; 0 when CP = 1.
 */
export function cpRingPassExposedTimeS(sendS: number, flashS: number, cp: number, fixedPerStepS: number): number {
  if (cp <= 1) return 0;
  const block = flashS / cp;
  return (cp - 1) * (sendS > block ? sendS - block : 0) + cp * fixedPerStepS;
}

/** Send seconds hidden behind the blocks in one pass: (CP − 1)·min(t_send, t_block). */
export function cpRingPassHiddenTimeS(sendS: number, flashS: number, cp: number): number {
  if (cp <= 1) return 0;
  const block = flashS / cp;
  return (cp - 1) * (sendS < block ? sendS : block);
}

/** Per-step fixed seconds: overlap.cp_step_overhead_s plus the memory-bound correction of `correctionBytes`. */
export function cpStepFixedTimeS(correctionBytes: number, cal: Calibration): number {
  return cal.cpStepOverheadS + memoryBoundTimeS(correctionBytes, cal);
}

/** SM-steal cost of the hidden sends. */
export function cpStealTimeS(hiddenS: number, cal: Calibration): number {
  return hiddenS * cal.smStealFraction;
}
