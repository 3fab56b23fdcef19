/**
 * The final order of a search's plans (runSearch returns `top` in it; `top[0]` is the recommendation):
 *  1. The tie: every ranked plan whose objective is within `tie` (a fraction) of the best. The model's own error
 *     (its cross-validated median |error|, search/cross-validation.ts) is larger than the gaps between the top
 *     plans, so within the tie the order is by what the model knows better than speed:
 *       throughput objective: memory headroom (usable − peak) in HEADROOM_BAND_BYTES bands, saturating at
 *         HEADROOM_ENOUGH_BYTES (beyond it more free memory buys nothing, and near-equal headroom falls through);
 *       then simplicity: fewer dimensions > 1 (TP, CP, PP, VPP, EP, ETP), no CP at short sequences
 *         (≤ SHORT_SEQ_TOKENS), fewer nodes per EP group (an EP group inside a node before one across nodes);
 *       then throughput, then the stable plan order (order.ts).
 *     memory objective (ties within `tie` of the smallest peak): throughput, then simplicity, then plan order.
 *  2. The rest, by objective value, then plan order.
 *  3. Plans equal in effect collapse into the first of them in this order (its `alternatives`): the same
 *     TP, CP, DP, PP, VPP, EP, ETP, EDP, micro-batch size and recompute, and tokens/s/GPU within DEDUPE_EPSILON
 *     of it (they differ in the dispatcher, the distributed optimizer, the stage split or layout, the
 *     micro-batch group, sequence parallel).
 *  4. The first `topK` rows.
 * Runs once per search on at most a few thousand plans: allocation here is fine.
 */
import type { Plan } from '../enumerate/plan.js';
import { groupTopology, newGroupTopology, type RankOrder } from '../cost/topology.js';
import { GIB } from '../render/numbers.js';
import type { RankOptions } from './objective.js';
import { headroomBytes } from './objective.js';
import type { RankedPlan } from './ranked.js';
import { compareRanked } from './ranked.js';
import { comparePlans } from './order.js';
import { tieThreshold, type TieParts } from './ties.js';

export const HEADROOM_BAND_BYTES = 2 * GIB;
export const HEADROOM_ENOUGH_BYTES = 16 * GIB;
/** Sequences up to this length need no context parallelism (attention activations stay small). */
export const SHORT_SEQ_TOKENS = 8192;
/** Relative tokens/s/GPU difference below which two plans of the same mapping are equal in effect. */
export const DEDUPE_EPSILON = 0.005;

/** What the tie keys need to know about the job (the scorer's NVLink domain, which decides the EP span, and rank order). */
export interface RankContext {
  seqLength: number;
  nvlinkDomainGpus: number;
  rankOrder: RankOrder;
}

export interface TieSummary {
  /** The tolerance used (fraction). */
  fraction: number;
  /** Plans within the tie (before equal-in-effect plans collapse); 0 when nothing is ranked. */
  plans: number;
  /** Rows of the final list that are in the tie (after the collapse, before the top-K cut). */
  rows: number;
  /** The tie set filled up in a shard: the slower plans within the tie were not all seen by the tie order. */
  overflowed: boolean;
}

export interface FinalOrder {
  top: RankedPlan[];
  tie: TieSummary;
}

interface Keys { band: number; dims: number; shortCp: number; epNodes: number }

function planIdentity(p: Plan): string {
  return JSON.stringify(p);
}

/** Dimensions > 1 (a measure of how much a plan asks of the launch and of the people who debug it). */
export function dimensionsUsed(p: Plan): number {
  return Number(p.tp > 1) + Number(p.cp > 1) + Number(p.pp > 1) + Number(p.vpp > 1) + Number(p.ep > 1) + Number(p.etp > 1);
}

function tieKeys(r: RankedPlan, rc: RankContext): Keys {
  const p = r.plan;
  const headroom = Math.min(headroomBytes(r.estimate), HEADROOM_ENOUGH_BYTES);
  const epNodes = p.ep > 1 ? groupTopology(p, rc.nvlinkDomainGpus, newGroupTopology(), rc.rankOrder).epNodes : 1;
  return {
    band: Math.floor(headroom / HEADROOM_BAND_BYTES),
    dims: dimensionsUsed(p),
    shortCp: Number(p.cp > 1 && rc.seqLength <= SHORT_SEQ_TOKENS),
    epNodes,
  };
}

function simplicity(a: Keys, b: Keys): number {
  return (a.dims - b.dims) || (a.shortCp - b.shortCp) || (a.epNodes - b.epNodes);
}

/** Tie order (see the file comment); `keys` holds each plan's precomputed keys. */
function tieComparator(rank: RankOptions, keys: Map<RankedPlan, Keys>): (a: RankedPlan, b: RankedPlan) => number {
  return (a, b) => {
    const ka = keys.get(a) as Keys;
    const kb = keys.get(b) as Keys;
    const tps = b.estimate.tokensPerSPerGpu - a.estimate.tokensPerSPerGpu;
    if (rank.objective === 'memory') return tps || simplicity(ka, kb) || comparePlans(a.plan, b.plan);
    return (kb.band - ka.band) || simplicity(ka, kb) || tps || comparePlans(a.plan, b.plan);
  };
}

/** Same mapping in effect: everything but the options that may differ between alternatives. */
function effectKey(p: Plan): string {
  return `${p.tp},${p.cp},${p.dp},${p.pp},${p.vpp},${p.ep},${p.etp},${p.edp},${p.microBatchSize},${p.recompute}`;
}

export function equalInEffect(a: RankedPlan, b: RankedPlan): boolean {
  if (effectKey(a.plan) !== effectKey(b.plan)) return false;
  const ta = a.estimate.tokensPerSPerGpu;
  const tb = b.estimate.tokensPerSPerGpu;
  return Math.abs(ta - tb) <= DEDUPE_EPSILON * Math.max(ta, tb);
}

/** Collapses plans equal in effect into the first of them (which gets `alternatives`, in order). */
export function collapseEqual(ordered: RankedPlan[]): RankedPlan[] {
  const rows: RankedPlan[] = [];
  const byKey = new Map<string, RankedPlan[]>();
  for (const r of ordered) {
    const key = effectKey(r.plan);
    const reps = byKey.get(key) ?? [];
    const rep = reps.find((x) => equalInEffect(x, r));
    if (rep) {
      (rep.alternatives ??= []).push({ value: r.value, plan: r.plan, estimate: r.estimate, inTie: r.inTie });
      continue;
    }
    const row: RankedPlan = { value: r.value, plan: r.plan, estimate: r.estimate, inTie: r.inTie };
    reps.push(row);
    byKey.set(key, reps);
    rows.push(row);
  }
  return rows;
}

/** The final list from what the shards kept (`ties` and `top`), in the order described above. */
export function finalOrder(parts: TieParts & { top: RankedPlan[] }, rank: RankOptions, rc: RankContext): FinalOrder {
  const fraction = rank.tie ?? 0;
  const seen = new Map<string, RankedPlan>();
  for (const r of [...parts.ties, ...parts.top]) {
    if (Number.isNaN(r.value)) continue;
    const id = planIdentity(r.plan);
    if (!seen.has(id)) seen.set(id, r);
  }
  const all = [...seen.values()];
  if (all.length === 0) return { top: [], tie: { fraction, plans: 0, rows: 0, overflowed: parts.tieOverflowed } };
  let best = -Infinity;
  for (const r of all) if (r.value > best) best = r.value;
  const threshold = tieThreshold(best, fraction);
  const inTie = all.filter((r) => r.value >= threshold).map((r) => ({ ...r, inTie: true }));
  // Below the tie only the merged top-K: a shard's own tie set also holds plans within the tie of that shard's
  // best but not of the global one, and which those are depends on the sharding (the result must not).
  const inTop = new Set(parts.top.map((r) => planIdentity(r.plan)));
  const rest = all.filter((r) => r.value < threshold && inTop.has(planIdentity(r.plan)))
    .map((r) => ({ ...r, inTie: false })).sort(compareRanked);
  const keys = new Map<RankedPlan, Keys>();
  for (const r of inTie) keys.set(r, tieKeys(r, rc));
  inTie.sort(tieComparator(rank, keys));
  const rows = collapseEqual([...inTie, ...rest]);
  return {
    top: rows.slice(0, Math.max(0, rank.topK)),
    tie: { fraction, plans: inTie.length, rows: rows.filter((r) => r.inTie).length, overflowed: parts.tieOverflowed },
  };
}

/** One option of an alternative that differs from its representative, as JSON (snake_case, the plan JSON's names). */
export function mappingDelta(rep: Plan, alt: Plan): Record<string, string | number | boolean | null> {
  const d: Record<string, string | number | boolean | null> = {};
  if (alt.dispatcher !== rep.dispatcher) d.dispatcher = alt.dispatcher;
  if (alt.distributedOptimizer !== rep.distributedOptimizer) d.distributed_optimizer = alt.distributedOptimizer;
  if (alt.firstStageLayers !== rep.firstStageLayers) d.first_stage_layers = alt.firstStageLayers;
  if (alt.lastStageLayers !== rep.lastStageLayers) d.last_stage_layers = alt.lastStageLayers;
  if (alt.accountEmbedding !== rep.accountEmbedding) d.account_for_embedding = alt.accountEmbedding;
  if (alt.accountLoss !== rep.accountLoss) d.account_for_loss = alt.accountLoss;
  if (alt.layout !== rep.layout) d.layout = alt.layout === '' ? null : alt.layout;
  if (alt.mbGroup !== rep.mbGroup) d.microbatch_group = alt.mbGroup;
  if (alt.sequenceParallel !== rep.sequenceParallel) d.sequence_parallel = alt.sequenceParallel;
  return d;
}
