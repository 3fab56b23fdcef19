import type { Dispatcher, Job, ModelShape, Recompute } from '../job/types.js';
import type { Plan } from './plan.js';
import { newPlan } from './plan.js';
import type { SearchSpace } from './search-space.js';
import type { ResolvedSpace } from './resolve-space.js';
import { resolveSpace } from './resolve-space.js';
import { RULES, firstBroken, pruneRulesAt } from './rules.js';
import { ACCOUNT_EMBEDDING, ACCOUNT_LOSS, setSplit } from './resolve-space.js';
import { dataParallelSize, expertDataParallelSize, microBatchCount, smallestMbGroup } from '../plan/layout.js';

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

/**
 * The rule table, split by the loop that checks it (RULES order within each; see RuleLevel). Only 'prune' rules:
 * the enumerator builds plans that satisfy the 'construction' ones.
 */
const JOB_RULES = pruneRulesAt('job');
const TP_RULES = pruneRulesAt('tp');
const CP_RULES = pruneRulesAt('cp');
const COMBO_RULES = pruneRulesAt('combo');
const SPLIT_RULES = pruneRulesAt('split');
const VPP_RULES = pruneRulesAt('vpp');
const MBS_RULES = pruneRulesAt('mbs');
const EP_RULES = pruneRulesAt('ep');
const ETP_RULES = pruneRulesAt('etp');
const PAIR_RULES = pruneRulesAt('pair');
const DISPATCHER_RULES = pruneRulesAt('dispatcher');
/** The rules of the ep / etp / pair / dispatcher levels, counted in bulk per micro-batch node (see below). */
const EXPERT_RULES = pruneRulesAt('ep', 'etp', 'pair', 'dispatcher');

/** The smaller of two rule indices where -1 means none (the first broken rule in RULES order). */
function firstOf(a: number, b: number): number {
  return a < 0 ? b : b < 0 ? a : a < b ? a : b;
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
  readonly pruned = new Float64Array(RULES.length);
  enumerated = 0;

  // valid pipeline nodes of the current combo
  nodeCount = 0;
  private readonly nodeSplit: Int32Array;
  private readonly nodeGroup: Int32Array;
  private readonly nodeVpp: Int32Array;
  private readonly nodeMbs: Int32Array;
  private readonly nodeMicro: Float64Array;
  // valid expert pairs of the current combo
  pairCount = 0;
  private readonly pairEp: Int32Array;
  private readonly pairEtp: Int32Array;
  private readonly pairEdp: Float64Array;
  /** Bit d set: dispatcher d breaks a dispatcher-level rule for this pair. */
  private readonly pairSkip: Uint8Array;
  /** What the ep / etp / pair / dispatcher rules prune below one pipeline node of the current combo, per rule index. */
  private readonly expertPruned = new Float64Array(RULES.length);
  /** The plan the rule predicates are asked about while the walker checks a level (never yielded). */
  private readonly probe: Plan = newPlan();

  private readonly job: Job;
  private readonly shape: ModelShape;
  private readonly r: ResolvedSpace;
  /** First broken rule of each single-value level, per value (-1: none). */
  private readonly tpFail: Int32Array;
  private readonly cpFail: Int32Array;
  private readonly epFail: Int32Array;
  /** Per etp value; unused when ETP follows TP (then the etp rules are asked per combo). */
  private readonly etpFail: Int32Array;
  /** Per pp index: first broken split-level rule per split, or -1. */
  private readonly splitFail: Int32Array[];
  /** Per pp index: first broken vpp-level rule per (split, vpp), or -1. */
  private readonly vppFail: Int32Array[];
  /** Per pp index: the (split, vpp) pairs of a combo (a layout pairs with its own VPP only). */
  private readonly splitVppPairs: Float64Array;
  private readonly jobFail: number;
  private readonly nEtp: number;
  private readonly belowDisp: number;
  private readonly belowEtp: number;
  private readonly belowEp: number;
  private readonly belowMbs: number;
  private readonly belowVpp: number;
  private readonly world: number;
  private readonly gbs: number;
  private readonly shardIndex: number;
  private readonly shardCount: number;
  // walk position: the next combo is (pi, ti, ci) with running index `combo`
  private pi = 0;
  private ti = 0;
  private ci = 0;
  private si = 0;
  private combo = 0;
  /** The pp index of the combo whose nodes are listed (applyNode reads its splits). */
  private nodePi = 0;

  constructor(job: Job, shape: ModelShape, space: SearchSpace, shardIndex: number, shardCount: number) {
    const r = resolveSpace(job, shape, space);
    this.job = job;
    this.shape = shape;
    this.r = r;
    this.shardIndex = shardIndex;
    this.shardCount = shardCount;
    this.world = r.world;
    this.gbs = job.training.global_batch_size;
    this.plan.precision = job.training.precision;
    this.probe.precision = job.training.precision;
    this.dispatchers = r.dispatcher;
    this.recomputes = r.recompute;
    this.distOpts = r.distributedOptimizer;
    this.nEtp = r.etpFollowsTp ? 1 : r.etp.length;
    if (this.dispatchers.length > 8) throw new RangeError('enumeratePlans: more than 8 dispatchers');

    // subtree sizes below each level
    this.belowDisp = r.recompute.length * r.distributedOptimizer.length;
    this.belowEtp = r.dispatcher.length * this.belowDisp;
    this.belowEp = this.nEtp * this.belowEtp;
    this.belowMbs = r.ep.length * this.belowEp;
    this.belowVpp = r.mbs.length * this.belowMbs;

    // rules of one value, asked once per value
    const q = this.probe;
    this.jobFail = firstBroken(JOB_RULES, job, shape, q);
    this.tpFail = Int32Array.from(r.tp, (tp) => { q.tp = tp; return firstBroken(TP_RULES, job, shape, q); });
    this.cpFail = Int32Array.from(r.cp, (cp) => { q.cp = cp; return firstBroken(CP_RULES, job, shape, q); });
    // ep-level rules see ETP = TP (what a dense model, whose ETP follows TP, gets)
    q.tp = 1; q.etp = 1;
    this.epFail = Int32Array.from(r.ep, (ep) => { q.ep = ep; return firstBroken(EP_RULES, job, shape, q); });
    this.etpFail = Int32Array.from(r.etp, (etp) => { q.etp = etp; return firstBroken(ETP_RULES, job, shape, q); });

    // pipeline rules depend on (pp, split, vpp) only
    const nV = r.vpp.length;
    let maxSplits = 0;
    this.splitFail = [];
    this.vppFail = [];
    this.splitVppPairs = new Float64Array(r.pp.length);
    r.pp.forEach((pp, pi) => {
      const first = r.splitFirst[pi];
      const last = r.splitLast[pi];
      maxSplits = Math.max(maxSplits, first.length);
      const sf = new Int32Array(first.length);
      const vf = new Int32Array(first.length * nV);
      q.pp = pp;
      const splits = { first, last, account: r.splitAccount[pi], layout: r.splitLayout[pi] };
      let pairs = 0;
      for (let si = 0; si < first.length; si++) {
        pairs += r.splitVpp[pi][si] === 0 ? nV : 1;
        setSplit(q, splits, si);
        sf[si] = firstBroken(SPLIT_RULES, job, shape, q);
        for (let vi = 0; vi < nV; vi++) {
          q.vpp = r.vpp[vi];
          vf[si * nV + vi] = firstBroken(VPP_RULES, job, shape, q);
        }
      }
      this.splitFail.push(sf);
      this.vppFail.push(vf);
      this.splitVppPairs[pi] = pairs;
    });
    q.layout = ''; q.accountEmbedding = false; q.accountLoss = false;

    const maxNodes = maxSplits * nV * r.mbs.length;
    this.nodeSplit = new Int32Array(maxNodes);
    this.nodeGroup = new Int32Array(maxNodes);
    this.nodeVpp = new Int32Array(maxNodes);
    this.nodeMbs = new Int32Array(maxNodes);
    this.nodeMicro = new Float64Array(maxNodes);
    const maxPairs = r.ep.length * this.nEtp;
    this.pairEp = new Int32Array(maxPairs);
    this.pairEtp = new Int32Array(maxPairs);
    this.pairEdp = new Float64Array(maxPairs);
    this.pairSkip = new Uint8Array(maxPairs);
  }

  /**
   * Moves to the next combo of this shard whose combo-level rules hold, and lists its nodes and pairs (the plan's
   * tp, cp, pp, dp and sequenceParallel are set). Combos on the way are counted. False when the walk is over.
   */
  nextCombo(): boolean {
    const r = this.r;
    const TP = r.tp, CP = r.cp, PP = r.pp, SP = r.sequenceParallel;
    const q = this.probe;
    while (this.pi < PP.length) {
      const pi = this.pi, ti = this.ti, ci = this.ci, si = this.si;
      const combo = this.combo;
      const tpNow = TP[ti];
      // sequence parallel is a choice only with TP > 1 (and then only for dense models: r.sequenceParallel)
      const nSp = tpNow > 1 ? SP.length : 1;
      // advance the position first (sp fastest, then cp, then tp, then pp)
      this.combo++;
      if (++this.si >= nSp) {
        this.si = 0;
        if (++this.ci === CP.length) {
          this.ci = 0;
          if (++this.ti === TP.length) { this.ti = 0; this.pi++; }
        }
      }
      if (combo % this.shardCount !== this.shardIndex) continue;

      const pp = PP[pi], tp = tpNow, cp = CP[ci];
      const comboSize = this.splitVppPairs[pi] * this.belowVpp;
      this.enumerated += comboSize;
      const sp = tp > 1 && SP[si];
      q.tp = tp; q.cp = cp; q.pp = pp; q.sequenceParallel = sp;
      let fail = firstOf(this.jobFail, firstOf(this.tpFail[ti], this.cpFail[ci]));
      if (fail < 0 || fail > COMBO_RULES[0]) fail = firstOf(fail, firstBroken(COMBO_RULES, this.job, this.shape, q));
      if (fail >= 0) { this.pruned[fail] += comboSize; continue; }

      const dp = dataParallelSize(this.world, tp, cp, pp);
      const plan = this.plan;
      plan.tp = tp; plan.cp = cp; plan.pp = pp; plan.dp = dp; plan.sequenceParallel = sp;
      q.dp = dp;
      this.listPairs(tp, pp);
      this.listNodes(pi);
      if (this.nodeCount > 0) {
        for (let k = 0; k < EXPERT_RULES.length; k++) {
          const rule = EXPERT_RULES[k];
          this.pruned[rule] += this.expertPruned[rule] * this.nodeCount;
        }
      }
      if (this.nodeCount > 0 && this.pairCount > 0) return true;
    }
    return false;
  }

  /** Valid (split, vpp, micro-batch) nodes of a combo; counts the pruned ones. The probe holds tp, cp, pp, dp. */
  private listNodes(pi: number): void {
    const r = this.r;
    const first = r.splitFirst[pi];
    const only = r.splitVpp[pi];
    const splitFail = this.splitFail[pi], vppFail = this.vppFail[pi];
    this.nodePi = pi;
    const VPP = r.vpp, MBS = r.mbs, nV = VPP.length, gbs = this.gbs;
    const q = this.probe, job = this.job, shape = this.shape;
    const dp = q.dp;
    let n = 0;
    for (let si = 0; si < first.length; si++) {
      const v1 = only[si];
      if (splitFail[si] >= 0) { this.pruned[splitFail[si]] += (v1 === 0 ? nV : 1) * this.belowVpp; continue; }
      for (let vi = 0; vi < nV; vi++) {
        if (v1 !== 0 && VPP[vi] !== v1) continue;
        const f = vppFail[si * nV + vi];
        if (f >= 0) { this.pruned[f] += this.belowVpp; continue; }
        const vpp = VPP[vi];
        q.vpp = vpp;
        for (let mi = 0; mi < MBS.length; mi++) {
          const mbs = MBS[mi];
          const micro = microBatchCount(gbs, mbs, dp);
          q.microBatchSize = mbs;
          q.numMicroBatches = micro;
          // the micro-batch group: Megatron's default PP where it runs, else the smallest group that does
          const group = vpp > 1 && Number.isInteger(micro) ? smallestMbGroup(q.pp, micro) : q.pp;
          q.mbGroup = group;
          const mf = firstBroken(MBS_RULES, job, shape, q);
          if (mf >= 0) { this.pruned[mf] += this.belowMbs; continue; }
          this.nodeSplit[n] = si; this.nodeGroup[n] = group; this.nodeVpp[n] = vpp;
          this.nodeMbs[n] = mbs; this.nodeMicro[n] = micro;
          n++;
        }
      }
    }
    q.vpp = 1; q.microBatchSize = 1; q.mbGroup = 1;
    this.nodeCount = n;
  }

  /** Valid (ep, etp) pairs of a combo, and what the expert rules prune below one node. The probe holds tp, cp, pp. */
  private listPairs(tp: number, pp: number): void {
    const r = this.r;
    const EP = r.ep, DISP = this.dispatchers;
    const q = this.probe, job = this.job, shape = this.shape;
    const follows = r.etpFollowsTp;
    this.expertPruned.fill(0);
    // with ETP following TP, the etp rules are asked once per combo
    let followFail = -1;
    if (follows) { q.etp = tp; followFail = firstBroken(ETP_RULES, job, shape, q); }
    let n = 0;
    for (let ei = 0; ei < EP.length; ei++) {
      const ef = this.epFail[ei];
      if (ef >= 0) { this.expertPruned[ef] += this.belowEp; continue; }
      const ep = EP[ei];
      q.ep = ep;
      for (let xi = 0; xi < this.nEtp; xi++) {
        const xf = follows ? followFail : this.etpFail[xi];
        if (xf >= 0) { this.expertPruned[xf] += this.belowEtp; continue; }
        const etp = follows ? tp : r.etp[xi];
        q.etp = etp;
        const pf = firstBroken(PAIR_RULES, job, shape, q);
        if (pf >= 0) { this.expertPruned[pf] += this.belowEtp; continue; }
        let skip = 0;
        for (let d = 0; d < DISP.length; d++) {
          q.dispatcher = DISP[d];
          const df = firstBroken(DISPATCHER_RULES, job, shape, q);
          if (df >= 0) { this.expertPruned[df] += this.belowDisp; skip |= 1 << d; }
        }
        this.pairEp[n] = ep; this.pairEtp[n] = etp; this.pairEdp[n] = expertDataParallelSize(this.world, etp, ep, pp);
        this.pairSkip[n] = skip;
        n++;
      }
    }
    this.pairCount = n;
  }

  applyNode(k: number): void {
    const plan = this.plan;
    const r = this.r;
    const pi = this.nodePi;
    const si = this.nodeSplit[k];
    plan.firstStageLayers = r.splitFirst[pi][si]; plan.lastStageLayers = r.splitLast[pi][si];
    const acc = r.splitAccount[pi][si];
    plan.accountEmbedding = (acc & ACCOUNT_EMBEDDING) !== 0; plan.accountLoss = (acc & ACCOUNT_LOSS) !== 0;
    plan.layout = r.splitLayout[pi][si];
    plan.mbGroup = this.nodeGroup[k];
    plan.vpp = this.nodeVpp[k]; plan.microBatchSize = this.nodeMbs[k]; plan.numMicroBatches = this.nodeMicro[k];
  }

  /** Sets ep, etp, edp; returns the dispatchers to skip as a bit set (bit d: dispatcher index d), 0 for none. */
  applyPair(q: number): number {
    const plan = this.plan;
    plan.ep = this.pairEp[q]; plan.etp = this.pairEtp[q]; plan.edp = this.pairEdp[q];
    return this.pairSkip[q];
  }

  /** The valid plans of the current combo (its nodes × pairs × the dispatchers each pair allows × recompute × dist-opt). */
  comboValid(): number {
    const nD = this.dispatchers.length;
    let perNode = 0;
    for (let q = 0; q < this.pairCount; q++) {
      const skip = this.pairSkip[q];
      for (let d = 0; d < nD; d++) if (((skip >>> d) & 1) === 0) perNode++;
    }
    return this.nodeCount * perNode * this.belowDisp;
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
            if ((skip >>> d) & 1) continue; // breaks a dispatcher rule (flex with ETP·EP == 1): counted by the walker
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

/**
 * The counts enumeratePlans would report for this shard (valid plans, and what each rule pruned), without building
 * a plan: the walk stops at the combo level and multiplies (a few milliseconds where enumerating takes tenths of a
 * second). The size of the work before a search starts (see search/pool-choice.ts).
 */
export function countPlans(job: Job, shape: ModelShape, space: SearchSpace, opts: EnumerateOptions = {}): EnumStats {
  const w = new PlanWalker(job, shape, space, opts.shardIndex ?? 0, opts.shardCount ?? 1);
  let valid = 0;
  while (w.nextCombo()) valid += w.comboValid();
  const stats = newEnumStats();
  w.flush(stats, valid);
  return stats;
}
