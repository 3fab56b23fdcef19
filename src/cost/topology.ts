/**
 * Which parallel groups stay inside an NVLink domain ("node" below), derived from Megatron's rank generator (enumerate/rank-groups.ts:
 * mixed-radix strides over the order string, megatron.md §1.1). Two grids share the order (§1.2):
 *   attention: TP × CP × DP × PP (EP = 1);  experts: ETP × EP × EDP × PP (CP = 1, 'tp' = ETP, 'dp' = EDP).
 * With the default 'tp-cp-ep-dp-pp' (§1.3) that gives TP stride 1, CP stride TP, DP×CP a block at stride TP, PP
 * stride world/PP; ETP stride 1, EP stride ETP, EDP stride ETP·EP.
 * Every group the scorer prices is a strided block (rank-groups.ts groupBlockStride): (stride, size). With nodes of
 * G GPUs it has membersPerNode = min(size, G/stride) members in each node it touches (1 when stride ≥ G) and spans
 * size/membersPerNode nodes. Sizes and G are assumed to be such that blocks do not straddle node boundaries
 * unevenly (powers of two, or blocks dividing G); otherwise the count is rounded up (conservative).
 * What decides NVLink against the network is the NVLink domain, not the physical node: on HGX/DGX the two are the
 * same (8 GPUs), on GB200 NVL72 a domain is a rack of compute trays (cluster nvlink_domain: 64 or 72 GPUs, trays
 * of 4), so the callers pass the domain size (ScoreContext.nvlinkDomainGpus) as `G`; what is per physical node
 * (the NIC share) stays with gpus_per_node in comm.ts.
 * Computed once per mapping (on a memo miss), written in place.
 */
import type { Plan } from '../enumerate/plan.js';
import {
  AXIS_CP, AXIS_DP, AXIS_EP, AXIS_PP, AXIS_TP, DEFAULT_ORDER, groupBlockStride, parseRankOrder, type RankOrder,
} from '../enumerate/rank-groups.js';

export { DEFAULT_ORDER, parseRankOrder, type RankOrder } from '../enumerate/rank-groups.js';

/** Members of a (stride, size) rank group that share one NVLink domain of `domainGpus` GPUs. */
export function membersPerNode(stride: number, size: number, domainGpus: number): number {
  if (size <= 1) return 1;
  if (stride >= domainGpus) return 1;
  const fit = Math.floor(domainGpus / stride);
  if (fit < 1) return 1;
  // A contiguous block (stride 1) that does not divide the node straddles a boundary: count the worst node.
  return size < fit ? size : fit;
}

/**
 * Number of NVLink domains of `domainGpus` GPUs a (stride, size) rank group spans (e.g. EP64 at stride 1: 1 domain
 * of 64, 2 domains of 72 (ranks 64..127 cross a rack), 16 nodes of 4).
 */
export function nodesSpanned(stride: number, size: number, domainGpus: number): number {
  if (size <= 1) return 1;
  const per = membersPerNode(stride, size, domainGpus);
  let nodes = Math.ceil(size / per);
  // A block that fits in a domain but does not divide it can cross a domain boundary.
  if (nodes === 1 && stride * size <= domainGpus && domainGpus % (stride * size) !== 0) nodes = 2;
  return nodes;
}

/** Node spans of every group a plan uses (written in place; no allocation per plan). */
export interface GroupTopology {
  tpNodes: number; tpPerNode: number;
  cpNodes: number; cpPerNode: number;
  /** DP×CP (dense gradients / parameters under the distributed optimizer). */
  dpcpNodes: number; dpcpPerNode: number;
  epNodes: number; epPerNode: number;
  etpNodes: number; etpPerNode: number;
  /** ETP×EP (the allgather dispatcher's group). */
  etpEpNodes: number;
  edpNodes: number; edpPerNode: number;
  /** Whether a pipeline P2P neighbour is in another NVLink domain. */
  ppInterNode: boolean;
  /** Grid sizes by AXES index (scratch). */
  sizes: Int32Array;
}

export function newGroupTopology(): GroupTopology {
  return {
    tpNodes: 1, tpPerNode: 1, cpNodes: 1, cpPerNode: 1, dpcpNodes: 1, dpcpPerNode: 1,
    epNodes: 1, epPerNode: 1, etpNodes: 1, etpPerNode: 1, etpEpNodes: 1, edpNodes: 1, edpPerNode: 1,
    ppInterNode: false, sizes: new Int32Array(5),
  };
}

const DEFAULT_RANK_ORDER = parseRankOrder(DEFAULT_ORDER);

/** Stride of the (block) groups over `mask` on the grid in out.sizes. */
function blockStride(order: RankOrder, sizes: Int32Array, mask: number): number {
  const stride = groupBlockStride(order, sizes, mask);
  if (stride < 0) throw new Error('topology: a priced group is not a strided block under this rank order');
  return stride;
}

/**
 * Fills `out` for `plan` on a cluster with NVLink domains of `domainGpus` GPUs (gpus_per_node unless the cluster
 * sets nvlink_domain), ranks laid out in `order`. The *Nodes fields count domains.
 */
export function groupTopology(plan: Plan, domainGpus: number, out: GroupTopology,
  order: RankOrder = DEFAULT_RANK_ORDER): GroupTopology {
  const G = domainGpus;
  const z = out.sizes;
  // attention grid
  z[AXIS_TP] = plan.tp; z[AXIS_CP] = plan.cp; z[AXIS_EP] = 1; z[AXIS_DP] = plan.dp; z[AXIS_PP] = plan.pp;
  const tpS = blockStride(order, z, 1 << AXIS_TP);
  out.tpNodes = nodesSpanned(tpS, plan.tp, G); out.tpPerNode = membersPerNode(tpS, plan.tp, G);
  const cpS = blockStride(order, z, 1 << AXIS_CP);
  out.cpNodes = nodesSpanned(cpS, plan.cp, G); out.cpPerNode = membersPerNode(cpS, plan.cp, G);
  const dpcp = plan.dp * plan.cp;
  const dpcpS = blockStride(order, z, (1 << AXIS_DP) | (1 << AXIS_CP));
  out.dpcpNodes = nodesSpanned(dpcpS, dpcp, G); out.dpcpPerNode = membersPerNode(dpcpS, dpcp, G);
  const ppS = blockStride(order, z, 1 << AXIS_PP);
  out.ppInterNode = plan.pp > 1 && (ppS >= G || nodesSpanned(ppS, plan.pp, G) > 1);
  // expert grid
  z[AXIS_TP] = plan.etp; z[AXIS_CP] = 1; z[AXIS_EP] = plan.ep; z[AXIS_DP] = plan.edp;
  const etpS = blockStride(order, z, 1 << AXIS_TP);
  out.etpNodes = nodesSpanned(etpS, plan.etp, G); out.etpPerNode = membersPerNode(etpS, plan.etp, G);
  const epS = blockStride(order, z, 1 << AXIS_EP);
  out.epNodes = nodesSpanned(epS, plan.ep, G); out.epPerNode = membersPerNode(epS, plan.ep, G);
  const etpEpS = blockStride(order, z, (1 << AXIS_TP) | (1 << AXIS_EP));
  out.etpEpNodes = nodesSpanned(etpEpS, plan.etp * plan.ep, G);
  const edpS = blockStride(order, z, 1 << AXIS_DP);
  out.edpNodes = nodesSpanned(edpS, plan.edp, G); out.edpPerNode = membersPerNode(edpS, plan.edp, G);
  return out;
}
