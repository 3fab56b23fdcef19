/**
 * Pipeline send/recv per micro-batch on one stage: the activation forward and its gradient backward
 * (tokens stored per rank × h × 2 B, SP-split), once per model chunk (VPP), over NVLink or a NIC (comm.ts p2pTimeS):
 *   t_pp = 2·VPP·p2p(bytes)·(1 − overlap.pp_overlap_fraction)
 */
import type { Calibration } from '../calibration.js';
import { p2pTimeS } from '../comm.js';

/** Exposed send/recv time per micro-batch; 0 when PP = 1. */
export function ppSendRecvExposedTimeS(activationBytes: number, pp: number, vpp: number, interNode: boolean,
  gpusPerNode: number, cal: Calibration): number {
  if (pp <= 1) return 0;
  return 2 * vpp * p2pTimeS(activationBytes, interNode, gpusPerNode, cal) * (1 - cal.ppOverlapFraction);
}
