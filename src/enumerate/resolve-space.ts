import type { Dispatcher, Job, ModelShape, Recompute } from '../job/types.js';
import type { IntDimension, SearchSpace } from './search-space.js';
import type { Plan } from './plan.js';
import { newPlan } from './plan.js';
import type { RuleLevel } from './rules.js';
import { firstBroken, pruneRulesAt } from './rules.js';
import { accountedLayerCount, accountedSplit, evenStageLayers } from '../plan/layout.js';
import { balancedLayoutStages, formatLayout, layoutOf, rankDecoderCount } from '../plan/pipeline-layout.js';

/**
 * A search space with every `auto` list turned into numbers for one job (done once per job, never per candidate).
 *
 * `auto` means "every value that can be valid": values that pass the rules which depend on that value alone
 * (and the job): the rule table's rules of that value's level (RuleLevel), asked here, never restated. So an explicit list can be pruned by, say, heads-divisible-by-tp, while tp: auto never offers
 * a TP that does not divide the heads. Per dimension:
 *   tp   divisors of the world size that divide the heads, fit the query groups (HEAD rule), divide
 *        ffn_hidden_size (when there are dense MLP layers) and the shared-expert size;
 *   cp   divisors of the world size; CP > 1 only when seq_length % (2·CP) == 0;
 *   pp   divisors of the world size, at most num_layers, that have an even split, an uneven first/last split
 *        (uneven stages on), an accounted split (accounted splits on) or a balanced layout for some VPP > 1 up to
 *        the vpp limit (layouts on);
 *   vpp  1, and each v >= 2 that some PP > 1 of the resolved pp list can split its layers into (even, uneven,
 *        accounted, or its balanced layout with that VPP); without a max, at most num_layers / 2;
 *   ep   MoE: divisors of num_experts that divide the world size; dense: [1];
 *   etp  MoE: divisors of the world size that divide moe_ffn_hidden_size; dense: not a dimension (ETP = TP);
 *   micro_batch_size  divisors of global_batch_size.
 * Every auto list also stops at its `max`. Explicit lists are used as given (sorted, without repeats).
 * Dense models have no dispatcher dimension ('alltoall' is recorded) and no etp dimension.
 */
export interface ResolvedSpace {
  world: number;
  tp: number[];
  cp: number[];
  pp: number[];
  vpp: number[];
  ep: number[];
  /** Empty when etpFollowsTp (dense models). */
  etp: number[];
  etpFollowsTp: boolean;
  mbs: number[];
  recompute: Recompute[];
  dispatcher: Dispatcher[];
  distributedOptimizer: boolean[];
  /** Sequence parallel where it is a choice (dense models, TP > 1); MoE models: [true] (Megatron requires it). */
  sequenceParallel: boolean[];
  /**
   * Pipeline splits per pp value (same index as `pp`): first-stage and last-stage decoder layer counts, what the
   * split counts (ACCOUNT_EMBEDDING | ACCOUNT_LOSS) and its layout ('' none). Entry 0 is the even split
   * (num_layers/pp on each stage, or 0/0 when num_layers % pp != 0, which pp-layer-split prunes); then the uneven
   * splits (see unevenSplits); then the accounted splits whose count PP divides; then the balanced layouts, one
   * per VPP > 1 of the vpp list (see pipelineSplits).
   */
  splitFirst: Int32Array[];
  splitLast: Int32Array[];
  splitAccount: Uint8Array[];
  splitLayout: string[][];
  /**
   * The one VPP a split is tried with (a layout states its VPP), or 0: every VPP of the list. The space's size
   * counts a layout once, with its own VPP.
   */
  splitVpp: Int32Array[];
}

export const ACCOUNT_EMBEDDING = 1;
export const ACCOUNT_LOSS = 2;
/** The accounted splits tried, in order: embedding and loss, loss only, embedding only. */
const ACCOUNT_VARIANTS = [ACCOUNT_EMBEDDING | ACCOUNT_LOSS, ACCOUNT_LOSS, ACCOUNT_EMBEDDING] as const;

/** Divisors of n (n >= 1), ascending. */
export function divisors(n: number): number[] {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d === 0) {
      lo.push(d);
      if (d * d !== n) hi.push(n / d);
    }
  }
  return lo.concat(hi.reverse());
}

/**
 * The uneven first/last splits generated for `pp` stages, as [first, last] pairs. With middle stages
 * (pp >= 3) each holds m layers, and first = m − r1, last = m − r2 with 0 <= r1, r2 <= maxReduction, not both
 * 0, first, last >= 1 and first + last + (pp−2)·m = num_layers. With pp = 2: first + last = num_layers,
 * 1 <= |first − last| <= maxReduction. Ordered by m, then by first descending. Every pair satisfies Megatron's
 * uneven rules without VPP; with VPP, uneven-stage-split prunes the ones that do not divide.
 * (DeepSeek-V3, 61 layers on PP16: m = 4 gives 4/1, 3/2, 2/3, 1/4.)
 */
export function unevenSplits(numLayers: number, pp: number, maxReduction: number): [number, number][] {
  const out: [number, number][] = [];
  if (pp < 2 || maxReduction < 1) return out;
  if (pp === 2) {
    for (let m = Math.ceil(numLayers / 2); m < numLayers; m++) {
      const other = numLayers - m;
      const d = m - other;
      if (d < 1) continue;
      if (d > maxReduction || other < 1) break;
      out.push([m, other], [other, m]);
    }
    return out;
  }
  for (let m = Math.ceil(numLayers / pp); ; m++) {
    const sum = numLayers - (pp - 2) * m; // first + last
    const lo = Math.max(1, m - maxReduction);
    if (sum < 2 * lo) break; // sum falls and lo rises with m
    for (let a = Math.min(m, sum - lo); a >= Math.max(lo, sum - m); a--) {
      const b = sum - a;
      if (a === m && b === m) continue; // the even split
      out.push([a, b]);
    }
  }
  return out;
}

function dimValues(dim: IntDimension, autoValues: () => number[]): number[] {
  if (dim.kind === 'list') return dim.values.slice();
  const all = autoValues();
  return dim.max === null ? all : all.filter((v) => v <= (dim.max as number));
}

/** Whether the probe plan passes every 'prune' rule of these levels. */
function passes(levels: Int32Array, job: Job, shape: ModelShape, probe: Plan): boolean {
  return firstBroken(levels, job, shape, probe) < 0;
}

const rulesOf = (...levels: RuleLevel[]) => pruneRulesAt(...levels);
const TP_RULES = rulesOf('tp');
const CP_RULES = rulesOf('cp');
const SPLIT_RULES = rulesOf('split');
const SPLIT_VPP_RULES = rulesOf('split', 'vpp');
const EP_RULES = rulesOf('ep');
const ETP_RULES = rulesOf('etp');

/** The pipeline splits of one PP value (see ResolvedSpace). */
interface Splits {
  first: Int32Array;
  last: Int32Array;
  account: Uint8Array;
  layout: string[];
  vpp: Int32Array;
}

/**
 * The pipeline splits generated for `pp` stages: the even split first (0/0 when PP does not divide), then
 * unevenSplits, then (accounted on) each accounted split whose count PP divides, then (layouts on) the balanced
 * layout of each VPP > 1 in `vpps` that is not the same stages as the accounted embedding-and-loss split.
 */
export function pipelineSplits(L: number, mtp: number, pp: number, uneven: number, accounted: boolean,
  layouts: boolean, vpps: readonly number[]): Splits {
  const first: number[] = [];
  const last: number[] = [];
  const account: number[] = [];
  const layout: string[] = [];
  const only: number[] = [];
  const push = (a: number, b: number, acc: number, lay: string, v = 0) => {
    first.push(a); last.push(b); account.push(acc); layout.push(lay); only.push(v);
  };
  const even = evenStageLayers(L, pp);
  push(even, even, 0, '');
  for (const [a, b] of unevenSplits(L, pp, uneven)) push(a, b, 0, '');
  if (accounted && pp > 1) {
    for (const acc of ACCOUNT_VARIANTS) {
      const e = (acc & ACCOUNT_EMBEDDING) !== 0;
      const l = (acc & ACCOUNT_LOSS) !== 0;
      if (accountedLayerCount(L, e, l) % pp !== 0) continue;
      const [a, b] = accountedSplit(L, pp, e, l);
      push(a, b, acc, '');
    }
  }
  if (layouts && pp > 1) {
    for (const v of vpps) {
      if (v < 2) continue;
      const st = balancedLayoutStages(L, mtp, pp, v);
      if (st === null) continue;
      // without MTP and with T % S == 0 the balanced layout is the accounted embedding-and-loss split
      const n = accountedLayerCount(L, true, true);
      if (accounted && mtp === 0 && n % (pp * v) === 0) continue;
      // first/last: the decoder layers of PP rank 0 and the last rank, as deriveLayout reads them from the layout
      const text = formatLayout(st);
      const lay = layoutOf(text, L, mtp, pp);
      if (typeof lay === 'string') throw new Error(`balanced layout ${text}: ${lay}`); // a generator bug
      push(rankDecoderCount(lay, pp, 0), rankDecoderCount(lay, pp, pp - 1), 0, text, v);
    }
  }
  return {
    first: Int32Array.from(first), last: Int32Array.from(last), account: Uint8Array.from(account), layout,
    vpp: Int32Array.from(only),
  };
}

/** Sets a probe plan's split to entry `k` of `sp`. */
export function setSplit(probe: Plan, sp: Omit<Splits, 'vpp'>, k: number): void {
  probe.firstStageLayers = sp.first[k]; probe.lastStageLayers = sp.last[k];
  probe.accountEmbedding = (sp.account[k] & ACCOUNT_EMBEDDING) !== 0;
  probe.accountLoss = (sp.account[k] & ACCOUNT_LOSS) !== 0;
  probe.layout = sp.layout[k];
}

/** Whether some split of `pp` (with VPP `vpp`) passes the rules `levels`; the probe gets pp, vpp and the split. */
function someSplitPasses(levels: Int32Array, job: Job, shape: ModelShape, probe: Plan, pp: number, vpp: number,
  sp: Splits): boolean {
  probe.pp = pp; probe.vpp = vpp;
  for (let k = 0; k < sp.first.length; k++) {
    if (sp.vpp[k] !== 0 && sp.vpp[k] !== vpp) continue;
    setSplit(probe, sp, k);
    if (passes(levels, job, shape, probe)) return true;
  }
  return false;
}

/** Resolves a space for a job. Cheap (divisor lists); call once per enumeration. */
export function resolveSpace(job: Job, shape: ModelShape, space: SearchSpace): ResolvedSpace {
  const W = job.cluster.gpus;
  const m = job.model;
  const L = m.num_layers;
  const gbs = job.training.global_batch_size;
  const worldDivs = divisors(W);
  const uneven = space.uneven.enabled ? space.uneven.maxFirstLastReduction : 0;
  // the plan the rules are asked about; the fields a level does not read keep their defaults
  const probe = newPlan();
  const only = (levels: Int32Array, set: (v: number) => void) => (v: number) => { set(v); return passes(levels, job, shape, probe); };

  const tp = dimValues(space.tp, () => worldDivs.filter(only(TP_RULES, (v) => { probe.tp = v; })));
  const cp = dimValues(space.cp, () => worldDivs.filter(only(CP_RULES, (v) => { probe.cp = v; })));
  const mtp = m.mtp_num_layers;
  const acc = space.accountedSplits;
  const lay = space.layouts;
  // the VPP values a layout may be generated for before the vpp list is known: 2 … the vpp limit
  const vppTop = space.vpp.kind === 'auto' ? (space.vpp.max !== null ? space.vpp.max : Math.max(1, Math.floor(L / 2)))
    : Math.max(1, ...space.vpp.values);
  const vppCandidates: number[] = [];
  for (let v = 1; v <= vppTop; v++) vppCandidates.push(v);
  const vppWanted = space.vpp.kind === 'list' ? space.vpp.values : vppCandidates;
  const pp = dimValues(space.pp, () => worldDivs.filter((d) => {
    if (d > L) return false;
    const base = pipelineSplits(L, mtp, d, uneven, acc, false, []);
    if (someSplitPasses(SPLIT_RULES, job, shape, probe, d, 1, base)) return true;
    return lay && d > 1 && vppWanted.some((v) => v > 1 && balancedLayoutStages(L, mtp, d, v) !== null);
  }));

  // VPP values: a v passes when some PP > 1 of the list splits with it (base splits, or its balanced layout)
  const vpp = dimValues(space.vpp, () => {
    const out = [1];
    for (let v = 2; v <= vppTop; v++) {
      let fits = false;
      for (let i = 0; i < pp.length && !fits; i++) {
        if (pp[i] < 2) continue;
        fits = someSplitPasses(SPLIT_VPP_RULES, job, shape, probe, pp[i], v, pipelineSplits(L, mtp, pp[i], uneven, acc, lay, [v]));
      }
      if (fits) out.push(v);
    }
    return out;
  });
  probe.pp = 1; probe.vpp = 1; probe.layout = ''; probe.accountEmbedding = false; probe.accountLoss = false;

  const splitFirst: Int32Array[] = [];
  const splitLast: Int32Array[] = [];
  const splitAccount: Uint8Array[] = [];
  const splitLayout: string[][] = [];
  const splitVpp: Int32Array[] = [];
  for (const p of pp) {
    const sp = pipelineSplits(L, mtp, p, uneven, acc, lay, vpp);
    splitFirst.push(sp.first); splitLast.push(sp.last); splitAccount.push(sp.account); splitLayout.push(sp.layout);
    splitVpp.push(sp.vpp);
  }

  // ep-level rules see ETP = TP (a dense model's ETP follows TP)
  probe.tp = 1; probe.etp = 1;
  const ep = dimValues(space.ep, () => worldDivs.filter(only(EP_RULES, (v) => { probe.ep = v; })));
  const etpFollowsTp = !shape.isMoe;
  const etp = etpFollowsTp ? [] : dimValues(space.etp, () => worldDivs.filter(only(ETP_RULES, (v) => { probe.etp = v; })));
  const mbs = dimValues(space.microBatchSize, () => divisors(gbs));

  return {
    world: W, tp, cp, pp, vpp, ep, etp, etpFollowsTp, mbs,
    recompute: space.recompute.slice(),
    dispatcher: shape.isMoe ? space.dispatcher.slice() : ['alltoall'],
    distributedOptimizer: space.distributedOptimizer.slice(),
    sequenceParallel: shape.isMoe ? [true] : space.sequenceParallel.slice(),
    splitFirst, splitLast, splitAccount, splitLayout, splitVpp,
  };
}
