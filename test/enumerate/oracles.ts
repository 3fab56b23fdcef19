/**
 * Test oracles: plain restatements of facts the enumerator and the scorer compute another way, kept out of src/
 * because only tests use them.
 */
import { attentionGroups, DEFAULT_ORDER, expertGroups } from '../../src/enumerate/rank-groups.js';
import type { ResolvedSpace } from '../../src/enumerate/resolve-space.js';

/**
 * Whether the attention and expert generators give identical PP groups ([PS] L898–907). Both grids must exist
 * (world divisible by TP·CP·PP and by ETP·EP·PP). With the default order (PP outermost) this is always true;
 * with `--use-tp-pp-dp-mapping` and PP > 1 it needs ETP·EP == TP·CP (megatron.md §1.3).
 */
export function ppGroupsMatch(world: number, tp: number, cp: number, etp: number, ep: number, pp: number,
  order = DEFAULT_ORDER): boolean {
  const a = attentionGroups(world, tp, cp, pp, 'pp', order);
  const e = expertGroups(world, etp, ep, pp, 'pp', order);
  return a.length === e.length && a.every((g, i) => g.length === e[i].length && g.every((r, j) => r === e[i][j]));
}

/**
 * Whether every block of `blockSize` consecutive ranks, starting at multiples of blockSize, lies inside one node
 * of `gpusPerNode` GPUs. With the default order the attention TP and TP·CP groups and the expert ETP and ETP·EP
 * groups are such blocks (megatron.md §1.3). (The scorer uses the general strided-block rule of cost/topology.ts.)
 */
export function contiguousBlockInNode(blockSize: number, gpusPerNode: number): boolean {
  return blockSize <= gpusPerNode && gpusPerNode % blockSize === 0;
}

/** Whether every group lies inside one node (ranks r and s share a node iff floor(r/g) == floor(s/g)). */
export function groupsWithinNodes(groups: number[][], gpusPerNode: number): boolean {
  return groups.every((g) => g.every((r) => Math.floor(r / gpusPerNode) === Math.floor(g[0] / gpusPerNode)));
}

/** Number of candidates in a resolved space (the `enumerated` count of an unsharded run). */
export function spaceSize(r: ResolvedSpace): number {
  const below = r.vpp.length * r.mbs.length * r.ep.length * (r.etpFollowsTp ? 1 : r.etp.length)
    * r.dispatcher.length * r.recompute.length * r.distributedOptimizer.length;
  let splits = 0;
  for (const f of r.splitFirst) splits += f.length;
  return r.tp.length * r.cp.length * splits * below;
}
