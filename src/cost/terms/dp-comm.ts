/**
 * Data-parallel gradient / parameter collectives per training step on one stage (megatron.md §2.5): dense
 * parameters over the DP×CP group, expert parameters over EDP.
 *  - distributed optimizer: reduce-scatter of the gradients (grad bytes/param) + all-gather of the parameters
 *    (optimizer.param_gather_bytes_per_param); the gradients hide behind the last micro-batch's backward (~2/3 of a
 *    stage's micro-batch time), the parameters behind the first forward (~1/3);
 *  - without it: one all-reduce of the gradients (--overlap-grad-reduce, behind the last backward).
 * Hidden at most overlap.dp_overlap_max_fraction (comm.ts exposedOverlapS); the hidden part steals SMs
 * (overlap.sm_steal_fraction). A collective's time is linear in its bytes for a given group, t = alpha + bytes·c
 * (comm.ts), so the scorer keeps (alpha, c) per mapping and evaluates it per stage.
 */
import type { Calibration } from '../calibration.js';
import {
  collectiveAlphaS, exposedOverlapS, ringAllGatherTimeS, ringAllReduceTimeS, ringReduceScatterTimeS,
} from '../comm.js';

export const enum DpCollective { ReduceScatter = 0, AllGather = 1, AllReduce = 2 }

/** Seconds per byte c of a ring collective over n ranks on `nodes` nodes: t(1 byte) − alpha; 0 when n = 1. */
export function dpCollectivePerByteS(kind: DpCollective, n: number, nodes: number, gpusPerNode: number,
  cal: Calibration): number {
  if (n <= 1) return 0;
  const t1 = kind === DpCollective.ReduceScatter ? ringReduceScatterTimeS(1, n, nodes, gpusPerNode, cal)
    : kind === DpCollective.AllGather ? ringAllGatherTimeS(1, n, nodes, gpusPerNode, cal)
      : ringAllReduceTimeS(1, n, nodes, gpusPerNode, cal);
  return t1 - collectiveAlphaS(nodes, cal);
}

/** Latency alpha of a DP collective over n ranks on `nodes` nodes; 0 when n = 1. */
export function dpCollectiveAlphaS(n: number, nodes: number, cal: Calibration): number {
  return n > 1 ? collectiveAlphaS(nodes, cal) : 0;
}

/** One collective over `params` parameters at `bytesPerParam`: alpha + params·bytes/param·c; 0 for no parameters. */
export function dpCollectiveTimeS(alphaS: number, perByteS: number, params: number, bytesPerParam: number): number {
  return params > 0 ? alphaS + params * bytesPerParam * perByteS : 0;
}

/**
 * Exposed DP time with the distributed optimizer: reduce-scatter `rsS` behind 2/3 and all-gather `agS` behind 1/3
 * of the stage's micro-batch time `stageS`, plus the SM steal of the hidden parts.
 */
export function dpDistributedOptimizerExposedTimeS(rsS: number, agS: number, stageS: number,
  cal: Calibration): number {
  const exRs = exposedOverlapS(rsS, (2 / 3) * stageS, cal.dpOverlapMaxFraction);
  const exAg = exposedOverlapS(agS, (1 / 3) * stageS, cal.dpOverlapMaxFraction);
  return exRs + exAg + (rsS + agS - exRs - exAg) * cal.smStealFraction;
}

/** Exposed DP time of the plain DDP all-reduce `arS` behind 2/3 of `stageS`, plus the SM steal of the hidden part. */
export function dpAllReduceExposedTimeS(arS: number, stageS: number, cal: Calibration): number {
  const exAr = exposedOverlapS(arS, (2 / 3) * stageS, cal.dpOverlapMaxFraction);
  return exAr + (arS - exAr) * cal.smStealFraction;
}
