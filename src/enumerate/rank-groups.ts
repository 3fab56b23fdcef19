/**
 * Megatron-Core's rank groups, rebuilt from the rule in parallel_state.py (HEAD,
 * `generate_masked_orthogonal_rank_groups` and `RankGenerator`, reference megatron.md §1.1):
 * ranks sit on a mixed-radix grid whose axes are the tokens of the order string; the leftmost token has
 * stride 1 (innermost), the rightmost is outermost. A group for a token set S holds the ranks that differ only
 * along the axes in S. Groups are listed with the first non-group axis varying fastest; inside a group the
 * first group axis varies fastest (the same order Megatron returns).
 *
 * One rule: axisStride() is the mixed-radix stride every group is built from; groupBlockStride() describes a group
 * as a strided block without building it, which is what the scorer's topology (cost/topology.ts) reads, once per
 * mapping. The tests list the groups explicitly from the same rule (test/enumerate/oracles.ts rankGroups) and check
 * them against Megatron's published examples and against the topology.
 */

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

export function parseTokens(text: string, what: string): Axis[] {
  const tokens = text.toLowerCase().split('-');
  for (const t of tokens) {
    if (!(AXES as readonly string[]).includes(t)) throw new Error(`rankGroups: unknown ${what} token '${t}' in '${text}'`);
  }
  if (new Set(tokens).size !== tokens.length) throw new Error(`rankGroups: repeated token in ${what} '${text}'`);
  return tokens as Axis[];
}
