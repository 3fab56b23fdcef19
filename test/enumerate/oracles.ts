/**
 * Test oracles: plain restatements of facts the enumerator and the scorer compute another way, kept out of src/
 * because only tests use them. The rank groups are Megatron's RankGenerator enumerated explicitly from the same
 * mixed-radix rule (axisStride) the scorer's topology reads: the tests check one against the other.
 */
import {
  AXES, DEFAULT_ORDER, axisStride, parseRankOrder, parseTokens, type Axis,
} from '../../src/enumerate/rank-groups.js';
import { dataParallelSize, expertDataParallelSize } from '../../src/plan/layout.js';
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
  const below = r.mbs.length * r.ep.length * (r.etpFollowsTp ? 1 : r.etp.length)
    * r.dispatcher.length * r.recompute.length * r.distributedOptimizer.length;
  // a layout pairs with its own VPP only; every other split with each VPP of the list
  let splitVpps = 0;
  for (const only of r.splitVpp) for (const v of only) splitVpps += v === 0 ? r.vpp.length : 1;
  // sequence parallel is a choice with TP > 1 only
  let tpSp = 0;
  for (const tp of r.tp) tpSp += tp > 1 ? r.sequenceParallel.length : 1;
  return tpSp * r.cp.length * splitVpps * below;
}

/**
 * The rank groups for `groupTokens` (e.g. 'tp', 'dp-cp', 'tp-ep') on a grid of `sizes` laid out in `order`.
 * Axes missing from `sizes` have size 1. Like RankGenerator, an axis of size > 1 that the order omits is an
 * error, and the product of the sizes must equal `world`.
 */
export function rankGroups(world: number, sizes: Partial<Record<Axis, number>>, order: string,
  groupTokens: string): number[][] {
  const orderAxes = parseTokens(order, 'order');
  for (const a of AXES) {
    const s = sizes[a] ?? 1;
    if (!Number.isInteger(s) || s < 1) throw new Error(`rankGroups: size of ${a} must be an integer >= 1 (got ${s})`);
    if (s !== 1 && !orderAxes.includes(a)) throw new Error(`rankGroups: ${a} has size ${s} but the order '${order}' omits it`);
  }
  const shape = orderAxes.map((a) => sizes[a] ?? 1);
  const product = shape.reduce((x, y) => x * y, 1);
  if (product !== world) throw new Error(`rankGroups: sizes multiply to ${product}, not the world size ${world}`);
  const inGroup = new Set(parseTokens(groupTokens, 'group'));
  for (const t of inGroup) {
    if (!orderAxes.includes(t)) throw new Error(`rankGroups: group token '${t}' is not in the order '${order}'`);
  }

  const parsed = parseRankOrder(order);
  const sizeByAxis = AXES.map((a) => sizes[a] ?? 1);
  const stride = orderAxes.map((a) => axisStride(parsed, sizeByAxis, AXES.indexOf(a)));
  const maskedShape: number[] = []; const maskedStride: number[] = [];
  const freeShape: number[] = []; const freeStride: number[] = [];
  orderAxes.forEach((a, i) => {
    if (inGroup.has(a)) { maskedShape.push(shape[i]); maskedStride.push(stride[i]); } else { freeShape.push(shape[i]); freeStride.push(stride[i]); }
  });
  const groupSize = maskedShape.reduce((x, y) => x * y, 1);
  const numGroups = world / groupSize;

  // index -> offset on the grid, first axis fastest
  const offset = (index: number, dims: number[], strides: number[]): number => {
    let off = 0;
    for (let i = 0; i < dims.length; i++) { off += (index % dims[i]) * strides[i]; index = Math.floor(index / dims[i]); }
    return off;
  };
  const groups: number[][] = [];
  for (let g = 0; g < numGroups; g++) {
    const base = offset(g, freeShape, freeStride);
    const ranks: number[] = [];
    for (let k = 0; k < groupSize; k++) ranks.push(base + offset(k, maskedShape, maskedStride));
    groups.push(ranks);
  }
  return groups;
}

/** Attention (dense) groups: the grid TP × CP × DP × PP (EP = 1), as Megatron's first generator builds it. */
export function attentionGroups(world: number, tp: number, cp: number, pp: number, groupTokens: string,
  order = DEFAULT_ORDER): number[][] {
  return rankGroups(world, { tp, cp, dp: dataParallelSize(world, tp, cp, pp), pp }, order, groupTokens);
}

/** Expert groups: the grid ETP × EP × EDP × PP (CP = 1), as Megatron's expert generator builds it ('tp' = ETP, 'dp' = EDP). */
export function expertGroups(world: number, etp: number, ep: number, pp: number, groupTokens: string,
  order = DEFAULT_ORDER): number[][] {
  return rankGroups(world, { tp: etp, ep, dp: expertDataParallelSize(world, etp, ep, pp), pp }, order, groupTokens);
}
