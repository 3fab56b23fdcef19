/**
 * Expert-parallel dispatch + combine per MoE layer per micro-batch on one rank, one function per dispatcher
 * (--moe-token-dispatcher-type, megatron.md §2.7), and the dispatcher's buffers.
 * Send volume on the most loaded rank: S = tokens/TP × top-k × h × 2 B × (1 + imbalance).
 *  - alltoall (NCCL): dispatch and combine are each one all-to-all of S over EP (comm.ts allToAllTimeS: the intra-node
 *    share over NVLink at nvlink_alltoall_busbw, the inter-node share through the NIC at ep_a2a_nic_bytes_per_s_nccl
 *    of the line rate, concurrently), alpha = ep_a2a_alpha_s (+ the inter-node collective alpha).
 *    Megatron's MoEAlltoAllTokenDispatcher (token_dispatcher.py) permutes num_out_tokens = tokens × top-k rows and
 *    all-to-alls them with per-rank input_splits: k copies per token, no de-duplication per node or per rank.
 *  - flex (DeepEP / HybridEP, hierarchical; DeepEP csrc/kernels/legacy/internode.cu): a token goes over RDMA once to
 *    each remote node it targets, to the GPU of the sender's own local index there, E[remote nodes] =
 *    (N − 1)·(1 − (1 − 1/N)^k) for k picks over N nodes (h100.md §4.4), at ep_a2a_nic_bytes_per_s_flex; in the
 *    destination node (and in the sender's own) the forwarders send it over NVLink once to each target GPU, so of
 *    the rows a GPU receives, E[target ranks] = ep·(1 − (1 − 1/ep)^k) per token, all but the (1/p) share whose
 *    forwarder is the target itself cross NVLink: NVLink leg = tokens·h·2·load·E[target ranks]·(p − 1)/p at
 *    ep_a2a_nvlink_busbw_flex (p = EP members per node; inside one node p = ep: the (ep − 1)/ep share). The RDMA
 *    and NVLink legs run pipelined (concurrent warps), so the slower one sets the time.
 *  - allgather: one all-gather of the ETP×EP group's tokens (gathered buffer tokens/TP·h·2·ETP·EP) and one
 *    reduce-scatter of the expert outputs, per forward; it covers ETP too.
 *  - ETP > 1 (alltoall, flex): the routed rows are gathered and reduce-scattered over ETP as well.
 * Forward = 2 transfers (dispatch + combine) per layer; backward mirrors the forward; a share epHiddenFraction
 * (cost-models *.yaml overlap.ep_overlap_fraction, or ep_a2a_overlap_fraction under
 * --overlap-moe-expert-parallel-comm) hides behind compute and steals SMs: NCCL's share overlap.sm_steal_fraction,
 * the flex kernels' explicit SM count (overlap.ep_flex_deepep_sms / ep_flex_hybridep_sms of overlap.gpu_sm_count:
 * compute concurrent with them runs on the remaining SMs).
 */
import type { Calibration } from '../calibration.js';
import type { Dispatcher } from '../../job/types.js';
import {
  allToAllTimeS, collectiveAlphaS, nicBytesPerSPerGpu, ringAllGatherTimeS, ringReduceScatterTimeS,
} from '../comm.js';

/** Latency of one EP all-to-all: the dispatcher's own alpha plus the collective alpha when EP spans nodes. */
export function epAlltoallAlphaS(epNodes: number, cal: Calibration): number {
  return cal.epA2aAlphaS + (epNodes > 1 ? collectiveAlphaS(epNodes, cal) : 0);
}

/** One NCCL all-to-all of `sendBytes` per rank over EP (`epPerNode` members per node, `epNodes` nodes). */
export function epAlltoallTimeS(sendBytes: number, ep: number, epNodes: number, epPerNode: number,
  gpusPerNode: number, cal: Calibration): number {
  if (ep <= 1) return 0;
  const rate = (nicBytesPerSPerGpu(gpusPerNode, cal) * cal.epA2aNicBytesPerSNccl) / cal.nicBytesPerS;
  return allToAllTimeS(sendBytes, ep, epPerNode, cal.nvlinkAlltoallBusbw, rate, epAlltoallAlphaS(epNodes, cal));
}

/**
 * One DeepEP / HybridEP (flex) dispatch or combine over EP of `tokens` tokens of `hidden` × 2 B × `loadFactor`
 * (= 1 + imbalance) with `topk` picks: the RDMA leg (one copy per remote node targeted) and the NVLink forwarding
 * leg (one copy per target GPU, (p − 1)/p of them over NVLink), concurrently: alpha + max(NVLink, RDMA).
 */
export function epFlexAlltoallTimeS(tokens: number, hidden: number, loadFactor: number,
  topk: number, ep: number, epNodes: number, epPerNode: number, gpusPerNode: number, cal: Calibration): number {
  if (ep <= 1) return 0;
  const tokenBytes = tokens * hidden * 2 * loadFactor;
  const targetRanks = ep * (1 - Math.pow(1 - 1 / ep, topk));
  const intra = epPerNode > 1 ? (tokenBytes * targetRanks * (epPerNode - 1)) / epPerNode / cal.epA2aNvlinkBusbwFlex : 0;
  let inter = 0;
  if (epNodes > 1) {
    const remoteNodes = (epNodes - 1) * (1 - Math.pow(1 - 1 / epNodes, topk));
    const rate = (nicBytesPerSPerGpu(gpusPerNode, cal) * cal.epA2aNicBytesPerSFlex) / cal.nicBytesPerS;
    inter = (tokenBytes * remoteNodes) / rate;
  }
  return epAlltoallAlphaS(epNodes, cal) + (intra > inter ? intra : inter);
}

/** The allgather dispatcher, one forward: all-gather + reduce-scatter of `tokens` × h × 2 B × n over ETP×EP = n. */
export function epAllgatherDispatchFwdTimeS(tokens: number, hidden: number, n: number, nodes: number,
  gpusPerNode: number, cal: Calibration): number {
  if (n <= 1) return 0;
  const buf = tokens * hidden * 2 * n;
  return ringAllGatherTimeS(buf, n, nodes, gpusPerNode, cal) + ringReduceScatterTimeS(buf, n, nodes, gpusPerNode, cal);
}

/** ETP gather + scatter of the routed rows (`rowBytes` = rows × h × 2 B), one forward (alltoall and flex). */
export function etpGatherScatterTimeS(rowBytes: number, etp: number, etpNodes: number, gpusPerNode: number,
  cal: Calibration): number {
  return ringAllGatherTimeS(rowBytes, etp, etpNodes, gpusPerNode, cal) +
    ringReduceScatterTimeS(rowBytes, etp, etpNodes, gpusPerNode, cal);
}

/**
 * EP communication of one MoE layer, forward: 2 × one all-to-all (dispatch + combine) for alltoall/flex plus the
 * ETP gather/scatter when ETP > 1; the allgather dispatcher's forward as is.
 */
export function epDispatchFwdTimeS(dispatcher: Dispatcher, alltoallS: number, allgatherFwdS: number,
  etpS: number, etp: number): number {
  if (dispatcher === 'allgather') return allgatherFwdS;
  let t = 2 * alltoallS;
  if (etp > 1) t += etpS;
  return t;
}

/** Exposed EP time of one layer, forward + backward: 2·t_f·(1 − hidden share). */
export function epExposedTimeS(fwdS: number, hiddenFraction: number): number {
  return 2 * fwdS * (1 - hiddenFraction);
}

/** SM-steal cost of the hidden EP share: 2·t_f·hidden share·sm_steal_fraction. */
export function epStealTimeS(fwdS: number, hiddenFraction: number, cal: Calibration): number {
  return 2 * fwdS * hiddenFraction * cal.smStealFraction;
}

/**
 * SM-steal cost of the hidden share of the flex dispatcher's EP time: the DeepEP / HybridEP kernels hold `sms` of
 * the GPU's overlap.gpu_sm_count SMs, so compute concurrent with them runs on (SMs − sms)/SMs:
 *   2·t_f·hidden share·sms/SMs.
 */
export function epFlexSmStealTimeS(fwdS: number, hiddenFraction: number, sms: number, cal: Calibration): number {
  const share = sms < cal.gpuSmCount ? sms / cal.gpuSmCount : 1;
  return 2 * fwdS * hiddenFraction * share;
}

/** SMs the flex dispatcher's kernels take: overlap.ep_flex_hybridep_sms for HybridEP, else ep_flex_deepep_sms. */
export function epFlexSms(backend: string, cal: Calibration): number {
  return backend === 'hybridep' ? cal.epFlexHybridepSms : cal.epFlexDeepepSms;
}

/**
 * Dispatcher buffers of the most loaded MoE layer: send + receive of the routed rows (2 × rows × h × 2 B), or the
 * allgather dispatcher's whole gathered group (tokens × h × 2 B × ETP·EP) when larger.
 */
export function epDispatchBufferBytes(dispatcher: Dispatcher, rows: number, tokens: number, hidden: number,
  ep: number, etp: number): number {
  const gatheredBytes = dispatcher === 'allgather' ? tokens * hidden * 2 * ep * etp : 0;
  return 2 * rows * hidden * 2 > gatheredBytes ? 2 * rows * hidden * 2 : gatheredBytes;
}

/** Exposed EP time of one forward alone, t_f·(1 − hidden share) (what recompute repeats). */
export function epExposedFwdTimeS(fwdS: number, hiddenFraction: number): number {
  return fwdS * (1 - hiddenFraction);
}
