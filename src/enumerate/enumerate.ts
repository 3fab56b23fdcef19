import type { Dispatcher, Job, ModelShape, Recompute } from '../spec/types.js';
import type { Plan } from './plan.js';
import { newPlan } from './plan.js';
import type { SearchSpace } from './search-space.js';
import type { ResolvedSpace } from './resolve-space.js';
import { resolveSpace } from './resolve-space.js';
import {
  RULES, ruleIndex, headsDivisibleByTp, queryGroupsFitTp, ffnDivisibleByTp, sharedExpertDivisibleByTp,
  cpSeqDivisible, cpTpSeqDivisible, unevenSplitProblem,
} from './rules.js';

/**
 * Counts of one enumeration. `enumerated` is the size of the cartesian product of the (per-job resolved) space;
 * `valid` the plans yielded; `pruned[rule]` the candidates whose first broken rule (in RULES order) is `rule`.
 * sum(pruned) == enumerated − valid, and the stats of all shards of a space add up to the unsharded stats.
 */
export interface EnumStats {
  enumerated: number;
  valid: number;
  pruned: Record<string, number>;
}

/** Empty stats with a zero for every rule, keyed in RULES order. */
export function newEnumStats(): EnumStats {
  const pruned: Record<string, number> = {};
  for (const r of RULES) pruned[r.name] = 0;
  return { enumerated: 0, valid: 0, pruned };
}

/** Adds `from` into `into` (returns `into`). */
export function mergeEnumStats(into: EnumStats, from: EnumStats): EnumStats {
  into.enumerated += from.enumerated;
  into.valid += from.valid;
  for (const [k, v] of Object.entries(from.pruned)) into.pruned[k] = (into.pruned[k] ?? 0) + v;
  return into;
}

export interface EnumerateOptions {
  /** This shard's index in [0, shardCount). */
  shardIndex?: number;
  shardCount?: number;
}

const R_JOB = ruleIndex('max-position-covers-seq');
const R_ATTN_WORLD = ruleIndex('attn-world-divisible');
const R_HEADS = ruleIndex('heads-divisible-by-tp');
const R_GROUPS = ruleIndex('query-groups-vs-tp');
const R_FFN = ruleIndex('ffn-divisible-by-tp');
const R_SHARED = ruleIndex('shared-expert-divisible-by-tp');
const R_CP_SEQ = ruleIndex('cp-seq-divisible');
const R_CP_TP_SEQ = ruleIndex('cp-tp-seq-divisible');
const R_PP_SPLIT = ruleIndex('pp-layer-split');
const R_VPP_PP = ruleIndex('vpp-needs-pp');
const R_VPP_SPLIT = ruleIndex('vpp-layer-split');
const R_UNEVEN = ruleIndex('uneven-stage-split');
const R_GBS = ruleIndex('gbs-divisible-by-mbs-dp');
const R_VPP_MB = ruleIndex('vpp-microbatches');
const R_DENSE_EP = ruleIndex('dense-model-no-ep');
const R_EXPERTS = ruleIndex('experts-divisible-by-ep');
const R_MOE_FFN = ruleIndex('moe-ffn-divisible-by-etp');
const R_EXPERT_WORLD = ruleIndex('expert-world-divisible');
const R_FLEX = ruleIndex('flex-needs-ep-etp');
/** The rules of the ep / etp / dispatcher levels, counted in bulk per micro-batch node (see below). */
const EXPERT_RULES = [R_DENSE_EP, R_EXPERTS, R_MOE_FFN, R_EXPERT_WORLD, R_FLEX];

/** First failing TP-only rule for a TP value, or -1 (rule order: heads, groups, ffn, shared). */
function tpRuleFailure(job: Job, shape: ModelShape, tp: number): number {
  const m = job.model;
  if (!headsDivisibleByTp(m, tp)) return R_HEADS;
  if (!queryGroupsFitTp(m, tp)) return R_GROUPS;
  if (!ffnDivisibleByTp(m, shape, tp)) return R_FFN;
  if (!sharedExpertDivisibleByTp(m, shape, tp)) return R_SHARED;
  return -1;
}

/**
 * The enumerator's state: everything precomputed once per enumeration, and the walk over outer combos. For each
 * combo of this shard it either counts the combo as pruned or lists the combo's valid pipeline nodes (split,
 * vpp, micro-batch) and valid expert pairs (ep, etp); the generator below then crosses nodes × pairs ×
 * dispatcher × recompute × dist-opt. Keeping the walk here keeps the generator's frame small: V8 saves and
 * restores a generator's live locals on every yield, so fewer locals there means a cheaper yield.
 * Memory is bounded by one combo's nodes and pairs (never the whole space).
 */
class PlanWalker {
  readonly plan: Plan = newPlan();
  readonly dispatchers: Dispatcher[];
  readonly recomputes: Recompute[];
  readonly distOpts: boolean[];
  /** Index of 'flex' in `dispatchers`, or -1. */
  readonly flexIndex: number;
  readonly pruned = new Float64Array(RULES.length);
  enumerated = 0;

  // valid pipeline nodes of the current combo
  nodeCount = 0;
  private readonly nodeFirst: Int32Array;
  private readonly nodeLast: Int32Array;
  private readonly nodeVpp: Int32Array;
  private readonly nodeMbs: Int32Array;
  private readonly nodeMicro: Float64Array;
  // valid expert pairs of the current combo
  pairCount = 0;
  private readonly pairEp: Int32Array;
  private readonly pairEtp: Int32Array;
  private readonly pairEdp: Float64Array;
  private readonly pairFlexBad: Uint8Array;
  /** What the ep / etp / dispatcher rules prune below one pipeline node of the current combo. */
  private readonly expertPruned = new Float64Array(EXPERT_RULES.length);

  private readonly r: ResolvedSpace;
  private readonly tpFail: Int32Array;
  private readonly cpFail: Int32Array;
  private readonly epFail: Int32Array;
  private readonly etpFail: Int32Array;
  /** Per pp index: first failing pipeline rule per (split, vpp), or -1. */
  private readonly splitVppFail: Int32Array[];
  private readonly jobFails: boolean;
  private readonly nEtp: number;
  private readonly belowDisp: number;
  private readonly belowEtp: number;
  private readonly belowEp: number;
  private readonly belowMbs: number;
  private readonly belowVpp: number;
  private readonly belowSplit: number;
  private readonly world: number;
  private readonly numLayers: number;
  private readonly seq: number;
  private readonly gbs: number;
  private readonly isMoe: boolean;
  private readonly shardIndex: number;
  private readonly shardCount: number;
  // walk position: the next combo is (pi, ti, ci) with running index `combo`
  private pi = 0;
  private ti = 0;
  private ci = 0;
  private combo = 0;

  constructor(job: Job, shape: ModelShape, space: SearchSpace, shardIndex: number, shardCount: number) {
    const r = resolveSpace(job, shape, space);
    this.r = r;
    this.shardIndex = shardIndex;
    this.shardCount = shardCount;
    this.world = r.world;
    this.numLayers = job.model.num_layers;
    this.seq = job.training.seq_length;
    this.gbs = job.training.global_batch_size;
    this.isMoe = shape.isMoe;
    this.plan.precision = job.training.precision;
    this.dispatchers = r.dispatcher;
    this.recomputes = r.recompute;
    this.distOpts = r.distributedOptimizer;
    this.flexIndex = this.isMoe ? r.dispatcher.indexOf('flex') : -1;
    this.nEtp = r.etpFollowsTp ? 1 : r.etp.length;
    this.jobFails = job.model.max_position_embeddings < this.seq;

    // subtree sizes below each level
    this.belowDisp = r.recompute.length * r.distributedOptimizer.length;
    this.belowEtp = r.dispatcher.length * this.belowDisp;
    this.belowEp = this.nEtp * this.belowEtp;
    this.belowMbs = r.ep.length * this.belowEp;
    this.belowVpp = r.mbs.length * this.belowMbs;
    this.belowSplit = r.vpp.length * this.belowVpp;

    // rules of one value, checked once per value
    this.tpFail = Int32Array.from(r.tp, (tp) => tpRuleFailure(job, shape, tp));
    this.cpFail = Int32Array.from(r.cp, (cp) => (cpSeqDivisible(this.seq, cp) ? -1 : R_CP_SEQ));
    const E = job.model.num_experts;
    this.epFail = Int32Array.from(r.ep, (ep) => (!this.isMoe ? (ep === 1 ? -1 : R_DENSE_EP) : (E % ep === 0 ? -1 : R_EXPERTS)));
    const Fe = job.model.moe_ffn_hidden_size;
    this.etpFail = r.etpFollowsTp ? new Int32Array(1).fill(-1) : Int32Array.from(r.etp, (etp) => (Fe % etp === 0 ? -1 : R_MOE_FFN));

    // pipeline rules depend on (pp, split, vpp) only
    const L = this.numLayers;
    const nV = r.vpp.length;
    let maxSplits = 0;
    this.splitVppFail = r.pp.map((pp, pi) => {
      const first = r.splitFirst[pi];
      const last = r.splitLast[pi];
      maxSplits = Math.max(maxSplits, first.length);
      const fails = new Int32Array(first.length * nV);
      for (let si = 0; si < first.length; si++) {
        for (let vi = 0; vi < nV; vi++) {
          const vpp = r.vpp[vi];
          let f = -1;
          if (si === 0 && L % pp !== 0) f = R_PP_SPLIT;
          else if (vpp > 1 && pp === 1) f = R_VPP_PP;
          else if (vpp > 1 && si === 0 && (L / pp) % vpp !== 0) f = R_VPP_SPLIT;
          else if (vpp > 1 && si > 0 && unevenSplitProblem(L, pp, vpp, first[si], last[si]) !== null) f = R_UNEVEN;
          fails[si * nV + vi] = f;
        }
      }
      return fails;
    });

    const maxNodes = maxSplits * nV * r.mbs.length;
    this.nodeFirst = new Int32Array(maxNodes);
    this.nodeLast = new Int32Array(maxNodes);
    this.nodeVpp = new Int32Array(maxNodes);
    this.nodeMbs = new Int32Array(maxNodes);
    this.nodeMicro = new Float64Array(maxNodes);
    const maxPairs = r.ep.length * this.nEtp;
    this.pairEp = new Int32Array(maxPairs);
    this.pairEtp = new Int32Array(maxPairs);
    this.pairEdp = new Float64Array(maxPairs);
    this.pairFlexBad = new Uint8Array(maxPairs);
  }

  /**
   * Moves to the next combo of this shard whose combo-level rules hold, and lists its nodes and pairs (the plan's
   * tp, cp, pp, dp and sequenceParallel are set). Combos on the way are counted. False when the walk is over.
   */
  nextCombo(): boolean {
    const r = this.r;
    const TP = r.tp, CP = r.cp, PP = r.pp;
    while (this.pi < PP.length) {
      const pi = this.pi, ti = this.ti, ci = this.ci;
      const combo = this.combo;
      // advance the position first (cp fastest, then tp, then pp)
      this.combo++;
      if (++this.ci === CP.length) {
        this.ci = 0;
        if (++this.ti === TP.length) { this.ti = 0; this.pi++; }
      }
      if (combo % this.shardCount !== this.shardIndex) continue;

      const pp = PP[pi], tp = TP[ti], cp = CP[ci];
      const nSplits = r.splitFirst[pi].length;
      const comboSize = nSplits * this.belowSplit;
      this.enumerated += comboSize;
      const sp = tp > 1;
      let fail = -1;
      if (this.jobFails) fail = R_JOB;
      else if (this.world % (tp * cp * pp) !== 0) fail = R_ATTN_WORLD;
      else if (this.tpFail[ti] >= 0) fail = this.tpFail[ti];
      else if (this.cpFail[ci] >= 0) fail = this.cpFail[ci];
      else if (!cpTpSeqDivisible(this.seq, cp, tp, sp)) fail = R_CP_TP_SEQ;
      if (fail >= 0) { this.pruned[fail] += comboSize; continue; }

      const dp = this.world / (tp * cp * pp);
      const plan = this.plan;
      plan.tp = tp; plan.cp = cp; plan.pp = pp; plan.dp = dp; plan.sequenceParallel = sp;
      this.listPairs(tp, pp);
      this.listNodes(pi, pp, dp);
      if (this.nodeCount > 0) {
        for (let k = 0; k < EXPERT_RULES.length; k++) this.pruned[EXPERT_RULES[k]] += this.expertPruned[k] * this.nodeCount;
      }
      if (this.nodeCount > 0 && this.pairCount > 0) return true;
    }
    return false;
  }

  /** Valid (split, vpp, micro-batch) nodes of a combo; counts the pruned ones. */
  private listNodes(pi: number, pp: number, dp: number): void {
    const r = this.r;
    const first = r.splitFirst[pi], last = r.splitLast[pi], fails = this.splitVppFail[pi];
    const VPP = r.vpp, MBS = r.mbs, nV = VPP.length, gbs = this.gbs;
    let n = 0;
    for (let si = 0; si < first.length; si++) {
      if (fails[si * nV] === R_PP_SPLIT) { this.pruned[R_PP_SPLIT] += this.belowSplit; continue; }
      for (let vi = 0; vi < nV; vi++) {
        const f = fails[si * nV + vi];
        if (f >= 0) { this.pruned[f] += this.belowVpp; continue; }
        const vpp = VPP[vi];
        for (let mi = 0; mi < MBS.length; mi++) {
          const mbs = MBS[mi];
          if (gbs % (mbs * dp) !== 0) { this.pruned[R_GBS] += this.belowMbs; continue; }
          const micro = gbs / (mbs * dp);
          if (vpp > 1 && (micro < pp || micro % pp !== 0)) { this.pruned[R_VPP_MB] += this.belowMbs; continue; }
          this.nodeFirst[n] = first[si]; this.nodeLast[n] = last[si]; this.nodeVpp[n] = vpp;
          this.nodeMbs[n] = mbs; this.nodeMicro[n] = micro;
          n++;
        }
      }
    }
    this.nodeCount = n;
  }

  /** Valid (ep, etp) pairs of a combo, and what the expert rules prune below one node. */
  private listPairs(tp: number, pp: number): void {
    const r = this.r;
    const EP = r.ep;
    this.expertPruned.fill(0);
    let n = 0;
    for (let ei = 0; ei < EP.length; ei++) {
      const ef = this.epFail[ei];
      if (ef >= 0) { this.expertPruned[ef === R_DENSE_EP ? 0 : 1] += this.belowEp; continue; }
      const ep = EP[ei];
      for (let xi = 0; xi < this.nEtp; xi++) {
        if (this.etpFail[xi] >= 0) { this.expertPruned[2] += this.belowEtp; continue; }
        const etp = r.etpFollowsTp ? tp : r.etp[xi];
        if (this.world % (etp * ep * pp) !== 0) { this.expertPruned[3] += this.belowEtp; continue; }
        const flexBad = this.flexIndex >= 0 && etp * ep === 1;
        if (flexBad) this.expertPruned[4] += this.belowDisp;
        this.pairEp[n] = ep; this.pairEtp[n] = etp; this.pairEdp[n] = this.world / (etp * ep * pp);
        this.pairFlexBad[n] = flexBad ? 1 : 0;
        n++;
      }
    }
    this.pairCount = n;
  }

  applyNode(k: number): void {
    const plan = this.plan;
    plan.firstStageLayers = this.nodeFirst[k]; plan.lastStageLayers = this.nodeLast[k];
    plan.vpp = this.nodeVpp[k]; plan.microBatchSize = this.nodeMbs[k]; plan.numMicroBatches = this.nodeMicro[k];
  }

  /** Sets ep, etp, edp; returns the dispatcher index to skip (flex when ETP·EP == 1), or -1. */
  applyPair(q: number): number {
    const plan = this.plan;
    plan.ep = this.pairEp[q]; plan.etp = this.pairEtp[q]; plan.edp = this.pairEdp[q];
    return this.pairFlexBad[q] === 1 ? this.flexIndex : -1;
  }

  flush(stats: EnumStats, valid: number): void {
    stats.enumerated += this.enumerated;
    stats.valid += valid;
    for (let i = 0; i < RULES.length; i++) {
      if (this.pruned[i] !== 0) stats.pruned[RULES[i].name] = (stats.pruned[RULES[i].name] ?? 0) + this.pruned[i];
    }
  }
}

/**
 * Every folded mapping of the space that Megatron-Core accepts for this job, in a fixed order: outer combos
 * pp → tp → cp (each list ascending), then pipeline split (even first, then uneven), vpp, micro-batch size, ep,
 * etp, dispatcher, recompute, distributed optimizer.
 *
 * Yields ONE Plan object, rewritten in place between yields: read it, copy what you keep (clonePlan/copyPlan),
 * never modify it.
 *
 * Sharding: outer combo k (in the order above) belongs to shard k % shardCount. A shard counts `enumerated`,
 * `valid` and `pruned` for its own combos only. Invalid subtrees are counted arithmetically, not visited: each
 * rule is checked at the outermost loop where its inputs are fixed, and a failure adds the subtree size to that
 * rule. `stats` is complete once the generator has run to its end (it is also flushed if the caller stops early:
 * then `enumerated` covers the combos begun).
 */
export function* enumeratePlans(job: Job, shape: ModelShape, space: SearchSpace, opts: EnumerateOptions = {},
  stats?: EnumStats): Generator<Plan, void, undefined> {
  const shardIndex = opts.shardIndex ?? 0;
  const shardCount = opts.shardCount ?? 1;
  if (!Number.isInteger(shardCount) || shardCount < 1 || !Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex >= shardCount) {
    throw new RangeError(`enumeratePlans: shard ${shardIndex} of ${shardCount} is not a valid shard`);
  }
  const w = new PlanWalker(job, shape, space, shardIndex, shardCount);
  const plan = w.plan;
  const DISP = w.dispatchers, REC = w.recomputes, DOPT = w.distOpts;
  let valid = 0;
  try {
    while (w.nextCombo()) {
      const nNodes = w.nodeCount;
      const nPairs = w.pairCount;
      for (let k = 0; k < nNodes; k++) {
        w.applyNode(k);
        for (let q = 0; q < nPairs; q++) {
          const skip = w.applyPair(q);
          for (let d = 0; d < DISP.length; d++) {
            if (d === skip) continue; // flex with ETP·EP == 1: counted by the walker
            plan.dispatcher = DISP[d];
            for (let ri = 0; ri < REC.length; ri++) {
              plan.recompute = REC[ri];
              for (let oi = 0; oi < DOPT.length; oi++) {
                plan.distributedOptimizer = DOPT[oi];
                valid++;
                yield plan;
              }
            }
          }
        }
      }
    }
  } finally {
    if (stats) w.flush(stats, valid);
  }
}
