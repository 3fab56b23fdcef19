/**
 * Context-parallel K/V ring exchange per layer per micro-batch on one rank (megatron.md §2.2, p2p ring attention):
 * CP − 1 steps, each a forward send of the local K and V (kvBytes = tokens × (g/TP)·(d_qk + d_v) × 2 B) and a
 * backward send of K, V and their gradients (2·kvBytes):
 *   t_cp = (CP − 1)·(p2p(kvBytes) + p2p(2·kvBytes))
 * hidden behind up to overlap.cp_overlap_fraction of the flash-attention time (forward + backward); the hidden part
 * steals SMs (overlap.sm_steal_fraction).
 */
import type { Calibration } from '../calibration.js';
import { p2pTimeS } from '../comm.js';

/** K/V bytes one CP rank sends per ring step: tokens × (g·d_qk + g·d_v) local widths × 2 B. */
export function cpKvBytes(tokens: number, kvHeadsLocal: number, dqk: number, dv: number): number {
  return tokens * (kvHeadsLocal * dqk + kvHeadsLocal * dv) * 2;
}

/** Ring exchange time of one layer, forward + backward; 0 when CP = 1. */
export function cpRingExchangeTimeS(kvBytes: number, cp: number, interNode: boolean, gpusPerNode: number,
  cal: Calibration): number {
  if (cp <= 1) return 0;
  return (cp - 1) * (p2pTimeS(kvBytes, interNode, gpusPerNode, cal) + p2pTimeS(2 * kvBytes, interNode, gpusPerNode, cal));
}

/** Exposed ring time: max(0, t_cp − cp_overlap_fraction·(t_flash,f + t_flash,b)). */
export function cpExposedTimeS(ringS: number, flashFwdBwdS: number, cal: Calibration): number {
  const hide = cal.cpOverlapFraction * flashFwdBwdS;
  return ringS > hide ? ringS - hide : 0;
}

/** SM-steal cost of the hidden ring time. */
export function cpStealTimeS(ringS: number, exposedS: number, cal: Calibration): number {
  return (ringS - exposedS) * cal.smStealFraction;
}
