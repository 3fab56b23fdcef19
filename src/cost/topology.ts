/**
 * Which parallel groups stay inside a node. Megatron's default rank order 'tp-cp-ep-dp-pp' (megatron.md §1.1/§1.3)
 * puts the leftmost axis innermost:
 *   attention: TP stride 1, CP stride TP, DP stride TP·CP, PP stride world/PP (a TP·CP block is contiguous);
 *   experts:   ETP stride 1, EP stride ETP, EDP stride ETP·EP, PP stride world/PP (an ETP·EP block is contiguous).
 * The distributed optimizer shards dense parameters over the DP×CP group: CP and DP axes together, i.e. ranks at
 * stride TP, DP·CP of them. A group is described by (stride, size); with nodes of G GPUs it has
 * membersPerNode = min(size, G/stride) members in each node it touches (1 when stride ≥ G) and spans
 * size/membersPerNode nodes. Sizes and G are assumed to be such that blocks do not straddle node boundaries
 * unevenly (powers of two, or blocks dividing G); otherwise the count is rounded up (conservative).
 */
import type { Plan } from '../enumerate/plan.js';

/** Members of a (stride, size) rank group that share one node of `gpusPerNode` GPUs. */
export function membersPerNode(stride: number, size: number, gpusPerNode: number): number {
  if (size <= 1) return 1;
  if (stride >= gpusPerNode) return 1;
  const fit = Math.floor(gpusPerNode / stride);
  if (fit < 1) return 1;
  // A contiguous block (stride 1) that does not divide the node straddles a boundary: count the worst node.
  return size < fit ? size : fit;
}

/** Number of nodes a (stride, size) rank group spans. */
export function nodesSpanned(stride: number, size: number, gpusPerNode: number): number {
  if (size <= 1) return 1;
  const per = membersPerNode(stride, size, gpusPerNode);
  let nodes = Math.ceil(size / per);
  // A block that fits in a node but does not divide it can cross a node boundary.
  if (nodes === 1 && stride * size <= gpusPerNode && gpusPerNode % (stride * size) !== 0) nodes = 2;
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
  edpNodes: number; edpPerNode: number;
  /** Whether a pipeline P2P neighbour is on another node. */
  ppInterNode: boolean;
}

export function newGroupTopology(): GroupTopology {
  return {
    tpNodes: 1, tpPerNode: 1, cpNodes: 1, cpPerNode: 1, dpcpNodes: 1, dpcpPerNode: 1,
    epNodes: 1, epPerNode: 1, etpNodes: 1, etpPerNode: 1, edpNodes: 1, edpPerNode: 1, ppInterNode: false,
  };
}

/** Fills `out` for `plan` on a cluster with `gpusPerNode` GPUs per node, rank order tp-cp-ep-dp-pp. */
export function groupTopology(plan: Plan, gpusPerNode: number, out: GroupTopology): GroupTopology {
  const G = gpusPerNode;
  const world = plan.tp * plan.cp * plan.dp * plan.pp;
  out.tpNodes = nodesSpanned(1, plan.tp, G); out.tpPerNode = membersPerNode(1, plan.tp, G);
  out.cpNodes = nodesSpanned(plan.tp, plan.cp, G); out.cpPerNode = membersPerNode(plan.tp, plan.cp, G);
  const dpcp = plan.dp * plan.cp;
  out.dpcpNodes = nodesSpanned(plan.tp, dpcp, G); out.dpcpPerNode = membersPerNode(plan.tp, dpcp, G);
  out.etpNodes = nodesSpanned(1, plan.etp, G); out.etpPerNode = membersPerNode(1, plan.etp, G);
  out.epNodes = nodesSpanned(plan.etp, plan.ep, G); out.epPerNode = membersPerNode(plan.etp, plan.ep, G);
  out.edpNodes = nodesSpanned(plan.etp * plan.ep, plan.edp, G);
  out.edpPerNode = membersPerNode(plan.etp * plan.ep, plan.edp, G);
  out.ppInterNode = plan.pp > 1 && world / plan.pp >= G ? true : plan.pp > 1 && nodesSpanned(world / plan.pp, plan.pp, G) > 1;
  return out;
}
