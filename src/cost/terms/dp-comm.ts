/**
 * Data-parallel gradient / parameter collectives per training step on one stage (megatron.md §2.5): dense
 * parameters over the DP×CP group, expert parameters over EDP; with the distributed optimizer a reduce-scatter of
 * the gradients (grad bytes/param) and an all-gather of the parameters (param_gather_bytes_per_param), without it
 * one all-reduce (ring or tree, whichever NCCL's model makes faster).
 *
 * Collectives (Megatron-LM, megatron/training/training.py resolve_ddp_bucket_size / get_model and
 * megatron/core/distributed/distributed_data_parallel.py): the gradient buffer of each model chunk is cut into
 * buckets of max(40e6, 1e6·|DP×CP|) parameters, but only on chunk 0 of pipeline rank 0; every other chunk, and
 * every chunk of a later pipeline rank, is one bucket (dense and expert parameters have separate buffers). Each
 * bucket is one collective paying NCCL's ring latency (comm.ts ncclRingLatencyS: linear in the ring length):
 *   T = n_coll·alpha + bytes·c,  n_coll = b0 + (vpp − 1),  b0 = ⌈P/vpp / bucket⌉ on stage 0, else 1.
 *
 * Window (megatron/core/pipeline_parallel/schedules.py; overlap-grad-reduce, overlap-param-gather and the
 * align-grad-reduce / align-param-gather defaults):
 *  - interleaved (VPP): chunk c's gradient reduce is launched after its last micro-batch's backward
 *    (backward_step_helper_postprocess, grad_sync_func per chunk); in the last round the chunks' backwards run
 *    G micro-batches each (G = the micro-batch group, PP by default), chunk 0 last, so the compute left behind chunk
 *    c is c·G chunk backwards; the reduces queue on one stream. Chunk 0 (1/vpp of the bytes) has nothing left
 *    behind it, the rest hides behind (vpp − 1)·G chunk backwards:
 *      exposed = max(T_chunk0, T − (vpp − 1)·G·t_bwd/vpp).
 *    The all-gather mirrors it: chunks 0 and 1 are dispatched at the step's start, chunk c + 1 during chunk c's
 *    first forward (forward_step_helper_preprocess, param_sync_func), each needed G chunk forwards later:
 *      exposed = max(T_chunk0, T − (vpp − 1)·G·t_fwd/vpp).
 *  - 1F1B / no PP, stage 0 (b buckets): each bucket's reduce starts when its gradients are ready in the last
 *    backward (backward hooks, register_grad_ready), the all-gather prefetches one bucket ahead in the first
 *    forward (forward pre-hooks, finish_param_sync): exposed = max(T/b, T − (b − 1)/b·t_pass).
 *  - 1F1B, stage r > 0 (one bucket): the reduce starts after its loop (forward_backward_pipelining_without_
 *    interleaving), r backwards before stage 0 finishes; its all-gather runs in the r forwards it waits for its
 *    first input: exposed = max(0, T − r·t_pass).
 * t_bwd = 2/3 and t_fwd = 1/3 of the stage's micro-batch time; the windows count compute only (the pipeline
 * bubble's idle time would hide more: conservative). At most overlap.dp_overlap_max_fraction of T hides
 * (comm.ts exposedOverlapS); the hidden part steals SMs (overlap.sm_steal_fraction). A collective's time is linear
 * in its bytes for a given group, t = alpha + bytes·c (comm.ts), so the scorer keeps (alpha, c) per mapping.
 */
import type { Calibration } from '../calibration.js';
import {
  CollectiveKind, collectiveAlphaS, exposedOverlapS, ncclRingLatencyS, ncclTreeAllReduceLatencyS, ringAllGatherTimeS,
  ringAllReduceTimeS, ringReduceScatterTimeS,
} from '../comm.js';

export const enum DpCollective { ReduceScatter = 0, AllGather = 1, AllReduce = 2 }

/** Megatron's default DDP bucket floor (training.py resolve_ddp_bucket_size): 40e6 parameters. */
export const DDP_BUCKET_MIN_PARAMS = 40e6;
/** … and its growth with the DP×CP size: 1e6 parameters per rank (larger buckets stay bandwidth-bound). */
export const DDP_BUCKET_PARAMS_PER_RANK = 1e6;

/** Seconds per byte c of a ring collective over n ranks on `nodes` nodes: t(1 byte) − alpha; 0 when n = 1. */
export function dpCollectivePerByteS(kind: DpCollective, n: number, nodes: number, gpusPerNode: number,
  cal: Calibration): number {
  if (n <= 1) return 0;
  const t1 = kind === DpCollective.ReduceScatter ? ringReduceScatterTimeS(1, n, nodes, gpusPerNode, cal)
    : kind === DpCollective.AllGather ? ringAllGatherTimeS(1, n, nodes, gpusPerNode, cal)
      : ringAllReduceTimeS(1, n, nodes, gpusPerNode, cal);
  return t1 - collectiveAlphaS(nodes, cal);
}

/** NCCL ring latency of one DP collective over n ranks on `nodes` nodes (comm.ts ncclRingLatencyS); 0 when n = 1. */
export function dpCollectiveAlphaS(kind: DpCollective, n: number, nodes: number, cal: Calibration): number {
  const k = kind === DpCollective.AllReduce ? CollectiveKind.AllReduce
    : kind === DpCollective.AllGather ? CollectiveKind.AllGather : CollectiveKind.ReduceScatter;
  return ncclRingLatencyS(k, n, nodes, cal);
}

/** Latency of one tree all-reduce over n ranks (comm.ts ncclTreeAllReduceLatencyS); 0 when n = 1. */
export function dpTreeAllReduceAlphaS(n: number, nodes: number, cal: Calibration): number {
  return ncclTreeAllReduceLatencyS(n, nodes, cal);
}

/** Seconds per byte of the tree all-reduce: the ring's c / network.nccl_tree_allreduce_bw_fraction. */
export function dpTreeAllReducePerByteS(ringPerByteS: number, cal: Calibration): number {
  return ringPerByteS / cal.ncclTreeAllreduceBwFraction;
}

/** Megatron's default bucket size in parameters: max(40e6, 1e6·|DP×CP|). */
export function ddpBucketParams(dpcp: number): number {
  const b = DDP_BUCKET_PARAMS_PER_RANK * dpcp;
  return b > DDP_BUCKET_MIN_PARAMS ? b : DDP_BUCKET_MIN_PARAMS;
}

/** Buckets of chunk 0 on pipeline stage `stage`: ⌈(params/vpp)/bucket⌉ on stage 0, else 1; 0 without parameters. */
export function dpFirstChunkBuckets(params: number, vpp: number, stage: number, bucketParams: number): number {
  if (params <= 0) return 0;
  if (stage !== 0) return 1;
  const b = Math.ceil(params / vpp / bucketParams);
  return b > 1 ? b : 1;
}

/** One DP phase of a stage: (b0 + vpp − 1)·alpha + params·bytes/param·c; 0 without parameters or with one rank. */
export function dpPhaseTimeS(alphaS: number, perByteS: number, params: number, bytesPerParam: number, vpp: number,
  firstChunkBuckets: number): number {
  if (params <= 0 || (alphaS === 0 && perByteS === 0)) return 0;
  return (firstChunkBuckets + vpp - 1) * alphaS + params * bytesPerParam * perByteS;
}

/**
 * The part of a DP phase no compute can hide: under VPP chunk 0's collectives (b0·alpha + 1/vpp of the bytes); on
 * stage 0 without VPP the last bucket (alpha + 1/b0 of the bytes); on a later 1F1B stage none.
 */
export function dpUnhideableTimeS(alphaS: number, perByteS: number, params: number, bytesPerParam: number,
  vpp: number, firstChunkBuckets: number, stage: number): number {
  if (params <= 0 || (alphaS === 0 && perByteS === 0)) return 0;
  const bytesS = params * bytesPerParam * perByteS;
  if (vpp > 1) return firstChunkBuckets * alphaS + bytesS / vpp;
  if (stage === 0) return alphaS + bytesS / firstChunkBuckets;
  return 0;
}

/**
 * Compute left to hide a DP phase behind, given `passS` (the stage's backward, for the reduce, or forward, for
 * the gather, of one micro-batch over all its chunks): VPP (vpp − 1)·G·passS/vpp; stage 0 without VPP
 * (b − 1)/b·passS over its b buckets; a later 1F1B stage r: r·passS.
 */
export function dpWindowS(passS: number, vpp: number, group: number, stage: number, buckets: number): number {
  if (vpp > 1) return ((vpp - 1) * group * passS) / vpp;
  if (stage === 0) return buckets > 1 ? ((buckets - 1) * passS) / buckets : 0;
  return stage * passS;
}

/** Exposed tail of a DP phase of `totalS`: max(unhideable, totalS − window, (1 − dp_overlap_max_fraction)·totalS). */
export function dpTailExposedTimeS(totalS: number, unhideableS: number, windowS: number, cal: Calibration): number {
  if (totalS <= 0) return 0;
  const ex = exposedOverlapS(totalS, windowS, cal.dpOverlapMaxFraction);
  const floor = unhideableS < totalS ? unhideableS : totalS;
  return ex > floor ? ex : floor;
}

/** Exposed DP time of one or two phases plus the SM steal of their hidden parts: Σ exposed + hidden·steal. */
export function dpExposedWithStealTimeS(totalS: number, exposedS: number, cal: Calibration): number {
  return exposedS + (totalS - exposedS) * cal.smStealFraction;
}
