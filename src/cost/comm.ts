/**
 * Alpha-beta collective costs. A collective over n ranks spanning `nodes` NVLink domains (p = n/nodes members each;
 * a domain is a node on HGX/DGX, a rack of trays on GB200 NVL72: topology.ts):
 *  - inside one node: t = alpha_nvlink + S·f / busbw_nvlink(kind);
 *  - across nodes (hierarchical, NIC-bound): only (nodes−1)/nodes of the data crosses the network, spread over
 *    the p members' NICs (one NIC per GPU), so busbw_eff = min(busbw_nvlink, nic·(n−1)/(nodes−1))
 *    (h100.md §4.3, [S2-net] conversion);
 *  with f = (n−1)/n for all-gather / reduce-scatter (S = the full gathered buffer) and 2(n−1)/n for all-reduce.
 *  All-to-all has no reduction: the share of a rank's send buffer bound for other nodes goes through its own NIC.
 *  `gpusPerNode` is the physical node (the NICs are per node: a GB200 compute tray has 4 GPUs and 4 NICs).
 */
import type { Calibration } from './calibration.js';

export const enum CollectiveKind { AllReduce = 0, AllGather = 1, ReduceScatter = 2 }

function nvlinkBusbw(kind: CollectiveKind, cal: Calibration): number {
  return kind === CollectiveKind.AllReduce ? cal.nvlinkAllreduceBusbw
    : kind === CollectiveKind.AllGather ? cal.nvlinkAllgatherBusbw : cal.nvlinkReducescatterBusbw;
}

/** NIC bandwidth available to one GPU (NICs shared when a physical node has fewer NICs than GPUs). */
export function nicBytesPerSPerGpu(gpusPerNode: number, cal: Calibration): number {
  const share = cal.nicsPerNode >= gpusPerNode ? 1 : cal.nicsPerNode / gpusPerNode;
  return cal.nicBytesPerS * share;
}

/** Latency term of a collective spanning `nodes` nodes. */
export function collectiveAlphaS(nodes: number, cal: Calibration): number {
  if (nodes <= 1) return cal.nvlinkAlphaS;
  // log2 without Math.log2 for the usual power-of-two node counts (hot path)
  const l = (nodes & (nodes - 1)) === 0 ? 31 - Math.clz32(nodes) : Math.log2(nodes);
  return cal.ibAlphaBaseS + cal.ibAlphaPerLog2NodeS * l;
}

/** Effective bus bandwidth (bytes/s) of a ring/hierarchical collective over n ranks on `nodes` nodes. */
export function collectiveBusbw(kind: CollectiveKind, n: number, nodes: number, gpusPerNode: number,
  cal: Calibration): number {
  const nvl = nvlinkBusbw(kind, cal);
  if (nodes <= 1) return nvl;
  const net = (nicBytesPerSPerGpu(gpusPerNode, cal) * (n - 1)) / (nodes - 1);
  return net < nvl ? net : nvl;
}

/** All-gather producing a `bytes` buffer on each of n ranks: alpha + bytes·(n−1)/n / busbw. */
export function ringAllGatherTimeS(bytes: number, n: number, nodes: number, gpusPerNode: number,
  cal: Calibration): number {
  if (n <= 1 || bytes <= 0) return 0;
  return collectiveAlphaS(nodes, cal) +
    (bytes * (n - 1)) / n / collectiveBusbw(CollectiveKind.AllGather, n, nodes, gpusPerNode, cal);
}

/** Reduce-scatter of a `bytes` buffer (input size) over n ranks: alpha + bytes·(n−1)/n / busbw. */
export function ringReduceScatterTimeS(bytes: number, n: number, nodes: number, gpusPerNode: number,
  cal: Calibration): number {
  if (n <= 1 || bytes <= 0) return 0;
  return collectiveAlphaS(nodes, cal) +
    (bytes * (n - 1)) / n / collectiveBusbw(CollectiveKind.ReduceScatter, n, nodes, gpusPerNode, cal);
}

/** All-reduce of a `bytes` buffer over n ranks: alpha + bytes·2(n−1)/n / busbw. */
export function ringAllReduceTimeS(bytes: number, n: number, nodes: number, gpusPerNode: number,
  cal: Calibration): number {
  if (n <= 1 || bytes <= 0) return 0;
  return collectiveAlphaS(nodes, cal) +
    (bytes * 2 * (n - 1)) / n / collectiveBusbw(CollectiveKind.AllReduce, n, nodes, gpusPerNode, cal);
}

/**
 * All-to-all where each rank sends `bytesPerRank` (its whole send buffer, uniform over destinations) to n ranks,
 * `perNode` of them in its own node. Intra-node share (perNode−1)/n moves over NVLink at the all-to-all busbw,
 * the inter-node share (n−perNode)/n through the rank's NIC at `nicBytesPerS`; the two proceed concurrently.
 */
export function allToAllTimeS(bytesPerRank: number, n: number, perNode: number, nvlBusbw: number,
  nicBytesPerS: number, alphaS: number): number {
  if (n <= 1 || bytesPerRank <= 0) return 0;
  const intra = (bytesPerRank * (perNode - 1)) / n / nvlBusbw;
  const inter = (bytesPerRank * (n - perNode)) / n / nicBytesPerS;
  return alphaS + (intra > inter ? intra : inter);
}

/** Point-to-point send of `bytes` (pipeline activations), over NVLink or a NIC. */
export function p2pTimeS(bytes: number, interNode: boolean, gpusPerNode: number, cal: Calibration): number {
  if (bytes <= 0) return 0;
  return interNode ? cal.ibAlphaBaseS + bytes / nicBytesPerSPerGpu(gpusPerNode, cal)
    : cal.nvlinkAlphaS + bytes / cal.nvlinkP2pBytesPerS;
}

/** Exposed part of an overlappable collective of `t` seconds with `window` seconds of compute to hide behind. */
export function exposedOverlapS(t: number, window: number, maxFraction: number): number {
  const floor = t * (1 - maxFraction);
  const rest = t - window;
  return rest > floor ? rest : floor;
}

/**
 * NCCL's latency of one ring collective, Simple protocol (nccl src/graph/tuning.cc, ncclTopoTuneModel; h100.md
 * §4.2 [S20]), over n ranks on `nodes` nodes:
 *   nsteps = 2(n−1) (all-reduce) or n−1 (reduce-scatter / all-gather); nInter = 2(nodes−1) or nodes−1 (0 in a node)
 *   t = base + (nsteps − nInter)·intra + nInter·net,  intra = max(NVLink step, 3·net overhead) when nodes > 1
 * so it grows with the ring length n, not with log(nodes). 0 for one rank.
 */
export function ncclRingLatencyS(kind: CollectiveKind, n: number, nodes: number, cal: Calibration): number {
  if (n <= 1) return 0;
  const ar = kind === CollectiveKind.AllReduce;
  const nsteps = ar ? 2 * (n - 1) : n - 1;
  const nInter = nodes <= 1 ? 0 : ar ? 2 * (nodes - 1) : nodes - 1;
  let intra = cal.ncclNvlinkStepLatencyRingSimpleS;
  if (nodes > 1 && 3 * cal.ncclNetOverheadS > intra) intra = 3 * cal.ncclNetOverheadS;
  return cal.ncclBaseLatencySimpleS + (nsteps - nInter) * intra + nInter * cal.ncclNetStepLatencySimpleS;
}

/**
 * NCCL's latency of one tree all-reduce, Simple protocol (tuning.cc, [S20]): base + 2·((n/nodes − 1)·NVLink tree
 * step + log2(nodes)·net step): logarithmic in the node count, the algorithm NCCL picks at large n for small
 * messages. 0 for one rank.
 */
export function ncclTreeAllReduceLatencyS(n: number, nodes: number, cal: Calibration): number {
  if (n <= 1) return 0;
  const ppn = nodes > 1 ? n / nodes : n;
  const l = nodes <= 1 ? 0 : (nodes & (nodes - 1)) === 0 ? 31 - Math.clz32(nodes) : Math.floor(Math.log2(nodes));
  return cal.ncclBaseLatencySimpleS + 2 * ((ppn - 1) * cal.ncclNvlinkStepLatencyTreeSimpleS +
    l * cal.ncclNetStepLatencySimpleS);
}
