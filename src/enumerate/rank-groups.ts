/**
 * Megatron-Core's rank groups, rebuilt from the rule in parallel_state.py (HEAD,
 * `generate_masked_orthogonal_rank_groups` and `RankGenerator`, reference megatron.md §1.1):
 * ranks sit on a mixed-radix grid whose axes are the tokens of the order string; the leftmost token has
 * stride 1 (innermost), the rightmost is outermost. A group for a token set S holds the ranks that differ only
 * along the axes in S. Groups are listed with the first non-group axis varying fastest; inside a group the
 * first group axis varies fastest (the same order Megatron returns).
 *
 * One rule for both uses: axisStride() is the mixed-radix stride every group is built from. rankGroups() lists the
 * groups (arrays; tests, inspection); groupBlockStride() describes a group as a strided block without building it,
 * which is what the scorer's topology (cost/topology.ts) reads, once per mapping.
 */
import { dataParallelSize, expertDataParallelSize } from '../plan/layout.js';

export type Axis = 'tp' | 'cp' | 'ep' | 'dp' | 'pp';

/** Megatron's default order (initialize_model_parallel, L617; training/initialize.py:395). */
export const DEFAULT_ORDER = 'tp-cp-ep-dp-pp';
/** The order `--use-tp-pp-dp-mapping` selects. */
export const TP_PP_DP_ORDER = 'tp-cp-ep-pp-dp';

/** The axes, in the index order used by axis masks and size arrays (AXIS_TP … AXIS_PP). */
export const AXES: readonly Axis[] = ['tp', 'cp', 'ep', 'dp', 'pp'];
export const AXIS_TP = 0;
export const AXIS_CP = 1;
export const AXIS_EP = 2;
export const AXIS_DP = 3;
export const AXIS_PP = 4;

/** An order string parsed once: the AXES indices of its tokens, leftmost (innermost) first. */
export type RankOrder = Int8Array;

export function parseRankOrder(order: string): RankOrder {
  return Int8Array.from(parseTokens(order, 'order').map((a) => AXES.indexOf(a)));
}

/**
 * Mixed-radix stride of axis `axis` (an AXES index) on the grid `sizes` (indexed by AXES) laid out in `order`:
 * the product of the sizes of the axes left of it (global_rank = Σ idx_i · stride_i, megatron.md §1.1).
 * An axis the order omits must have size 1; its stride is then immaterial (returned as the grid size).
 */
export function axisStride(order: RankOrder, sizes: ArrayLike<number>, axis: number): number {
  let stride = 1;
  for (let i = 0; i < order.length; i++) {
    if (order[i] === axis) return stride;
    stride *= sizes[order[i]];
  }
  return stride;
}

/**
 * The groups over the axes in `mask` (bit 1 << AXES index) as strided blocks: when their axes of size > 1 are
 * adjacent on the grid (each stride = the previous stride × size), every group is the ranks base + stride·j,
 * j < Π sizes, and this returns that stride (1 for a group of one rank). Returns −1 when they are not (a group with
 * holes, e.g. dp-cp under 'tp-cp-ep-pp-dp' with PP > 1).
 */
export function groupBlockStride(order: RankOrder, sizes: ArrayLike<number>, mask: number): number {
  let first = -1;
  let next = -1;
  let stride = 1;
  for (let i = 0; i < order.length; i++) {
    const a = order[i];
    const n = sizes[a];
    if ((mask & (1 << a)) !== 0 && n > 1) {
      if (first < 0) first = stride;
      else if (stride !== next) return -1;
      next = stride * n;
    }
    stride *= n;
  }
  return first < 0 ? 1 : first;
}

function parseTokens(text: string, what: string): Axis[] {
  const tokens = text.toLowerCase().split('-');
  for (const t of tokens) {
    if (!(AXES as readonly string[]).includes(t)) throw new Error(`rankGroups: unknown ${what} token '${t}' in '${text}'`);
  }
  if (new Set(tokens).size !== tokens.length) throw new Error(`rankGroups: repeated token in ${what} '${text}'`);
  return tokens as Axis[];
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
