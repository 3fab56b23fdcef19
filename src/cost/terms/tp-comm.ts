/**
 * Tensor-parallel collectives per layer per micro-batch on one rank (megatron.md §2.5). Each TP-split block
 * (attention, dense MLP, shared expert) has one forward "in + out" pair on the full gathered activation
 * (tokens × h × 2 B): all-gather + reduce-scatter with sequence parallelism, two all-reduces' worth without
 * (one all-reduce of the pair, comm.ts). Backward mirrors the forward.
 *   dense layer: 2 blocks × (fwd + bwd) = 4 pairs;  MoE layer: 2 × (attention pair + shared-expert pair)
 * With --tp-comm-overlap and sequence parallel a share `hidden` (overlap.tp_overlap_fraction) hides behind GEMMs and
 * steals SMs (overlap.sm_steal_fraction); without it nothing is hidden (hidden = 0).
 */
import type { Calibration } from '../calibration.js';
import { ringAllGatherTimeS, ringAllReduceTimeS, ringReduceScatterTimeS } from '../comm.js';

/** One forward in + out pair of a TP block over `tp` ranks on `tpNodes` nodes; 0 when TP = 1. */
export function tpCollectivePairTimeS(activationBytes: number, tp: number, tpNodes: number, sp: boolean,
  gpusPerNode: number, cal: Calibration): number {
  if (tp <= 1) return 0;
  return sp
    ? ringAllGatherTimeS(activationBytes, tp, tpNodes, gpusPerNode, cal) +
      ringReduceScatterTimeS(activationBytes, tp, tpNodes, gpusPerNode, cal)
    : ringAllReduceTimeS(activationBytes, tp, tpNodes, gpusPerNode, cal);
}

/** Exposed part of `pairs` TP pairs with a share `hidden` overlapped: pairs·t_pair·(1 − hidden). */
export function tpExposedTimeS(pairs: number, pairS: number, hidden: number): number {
  return pairs * pairS * (1 - hidden);
}

/** SM-steal cost of the hidden part of `pairs` TP pairs: pairs·t_pair·hidden·sm_steal_fraction. */
export function tpStealTimeS(pairs: number, pairS: number, hidden: number, cal: Calibration): number {
  return pairs * pairS * hidden * cal.smStealFraction;
}
