/**
 * The neighbours of a plan: one step up and down on each axis, for the sensitivity table (`score --sensitivity`,
 * `tune --sensitivity`). The world size stays: a neighbour is built from its sizes by deriveLayout (the one home
 * of DP, EDP and the micro-batch count), so DP and EDP absorb a change of TP, CP, PP, EP or ETP. Every neighbour is
 * checked with checkPlan; a refused one keeps the rules it breaks (the table lists it as refused).
 *
 * One step: ×2 / ÷2 for tp, cp, pp, ep, etp and the micro-batch size; for VPP the nearest value below and above
 * that Megatron accepts with this PP; recompute to the next level (none ↔ selective ↔ full); the other
 * dispatchers; the distributed optimizer toggled. A PP or VPP step keeps the kind of split where it can: an
 * explicit layout becomes the balanced layout of the new PP·VPP, an accounted split stays accounted, an uneven
 * split keeps its first/last stages while PP stays; failing that, the even split, then the first uneven
 * first/last split Megatron accepts (a refused step reports the rules of the first split tried).
 */
import type { Job, ModelShape } from '../job/types.js';
import type { Plan } from '../enumerate/plan.js';
import { newPlan } from '../enumerate/plan.js';
import type { RuleViolation } from '../enumerate/rules.js';
import { checkPlan } from '../enumerate/rules.js';
import { unevenSplits } from '../enumerate/resolve-space.js';
import { DISPATCHER_VALUES, RECOMPUTE_VALUES } from '../enumerate/search-space.js';
import type { LayoutSizes } from '../plan/layout.js';
import { deriveLayout, mbGroupProblem, smallestMbGroup, splitKind } from '../plan/layout.js';
import { balancedLayoutStages, formatLayout } from '../plan/pipeline-layout.js';
import type { ScoreContext } from '../cost/score.js';
import { scorePlan } from '../cost/score.js';
import type { Estimate } from '../cost/estimate.js';
import { newEstimate } from '../cost/estimate.js';

export const SENSITIVITY_AXES = ['tp', 'cp', 'pp', 'vpp', 'ep', 'etp', 'mbs', 'recompute', 'dispatcher', 'distopt'] as const;
export type SensitivityAxis = typeof SENSITIVITY_AXES[number];

export interface Neighbour {
  axis: SensitivityAxis;
  /** "TP 2 → 4" */
  change: string;
  plan: Plan;
  /** The rules Megatron would refuse it by (empty: it runs). */
  refused: RuleViolation[];
}

export interface NeighbourOptions {
  /** The largest first/last-stage reduction tried for an uneven split after a PP step (the space's). */
  maxFirstLastReduction: number;
}

type SplitSizes = Pick<LayoutSizes, 'firstStageLayers' | 'lastStageLayers' | 'accountEmbedding' | 'accountLoss' | 'layout' | 'vpp'>;

/** The split of `base` as it is (for steps that do not touch PP or VPP). */
function sameSplit(base: Plan): SplitSizes {
  if (base.layout !== '') return { layout: base.layout, vpp: base.vpp };
  if (base.accountEmbedding || base.accountLoss) return { accountEmbedding: base.accountEmbedding, accountLoss: base.accountLoss, vpp: base.vpp };
  return { firstStageLayers: base.firstStageLayers, lastStageLayers: base.lastStageLayers, vpp: base.vpp };
}

/** The splits tried, in order, for `base` moved to `pp` stages with `vpp` virtual stages each. */
function splitsFor(job: Job, base: Plan, pp: number, vpp: number, o: NeighbourOptions): SplitSizes[] {
  const L = job.model.num_layers;
  const kind = splitKind(base, L);
  if (pp === 1) return [{ vpp }];
  const out: SplitSizes[] = [];
  if (kind === 'layout') {
    const st = balancedLayoutStages(L, job.model.mtp_num_layers, pp, vpp);
    if (st !== null) out.push({ layout: formatLayout(st), vpp });
  }
  if (kind === 'accounted') out.push({ accountEmbedding: base.accountEmbedding, accountLoss: base.accountLoss, vpp });
  if (pp === base.pp && kind === 'uneven') out.push({ firstStageLayers: base.firstStageLayers, lastStageLayers: base.lastStageLayers, vpp });
  // then (and when the kind of split cannot be kept) the even split and the uneven first/last splits
  out.push({ vpp });
  for (const [a, b] of unevenSplits(L, pp, o.maxFirstLastReduction)) out.push({ firstStageLayers: a, lastStageLayers: b, vpp });
  return out;
}

/** Sizes of `base` with `over` applied, built by deriveLayout (run options copied from `base`). */
function build(job: Job, shape: ModelShape, base: Plan, over: Partial<LayoutSizes>, split: SplitSizes,
  run: Partial<Pick<Plan, 'recompute' | 'dispatcher' | 'distributedOptimizer'>> = {}): Plan {
  const tp = over.tp ?? base.tp;
  const out = newPlan();
  out.recompute = run.recompute ?? base.recompute;
  out.dispatcher = run.dispatcher ?? base.dispatcher;
  out.distributedOptimizer = run.distributedOptimizer ?? base.distributedOptimizer;
  out.precision = base.precision;
  deriveLayout(job, {
    tp, cp: over.cp ?? base.cp, pp: over.pp ?? base.pp, ep: over.ep ?? base.ep,
    // a dense model's ETP follows TP
    etp: shape.isMoe ? over.etp ?? base.etp : tp,
    microBatchSize: over.microBatchSize ?? base.microBatchSize,
    // TP 1 runs without sequence parallel; from TP 1 up, the default (on: MoE models require it)
    sequenceParallel: tp === 1 ? false : base.tp === 1 ? undefined : base.sequenceParallel,
    ...split,
  }, out);
  // the micro-batch group: the base's while it still runs, else the enumerator's choice
  const m = out.numMicroBatches;
  if (out.vpp > 1 && Number.isInteger(m)) {
    out.mbGroup = out.pp === base.pp && mbGroupProblem(out.pp, m, base.mbGroup) === null ? base.mbGroup : smallestMbGroup(out.pp, m);
  } else {
    out.mbGroup = out.pp;
  }
  return out;
}

/** The first of the candidate plans Megatron accepts, else the first candidate with its violations; null: none. */
function firstAccepted(job: Job, shape: ModelShape, candidates: Plan[]): { plan: Plan; refused: RuleViolation[] } | null {
  let first: { plan: Plan; refused: RuleViolation[] } | null = null;
  for (const plan of candidates) {
    const refused = checkPlan(job, shape, plan);
    if (refused.length === 0) return { plan, refused };
    first ??= { plan, refused };
  }
  return first;
}

const LABEL: Record<SensitivityAxis, string> = {
  tp: 'TP', cp: 'CP', pp: 'PP', vpp: 'VPP', ep: 'EP', etp: 'ETP', mbs: 'MBS', recompute: 'recompute',
  dispatcher: 'dispatcher', distopt: 'distributed optimizer',
};

const onOff = (b: boolean) => (b ? 'on' : 'off');

/** One step up and down on each axis (see the file comment); axes a model does not have (dense: EP, ETP, dispatcher) are left out. */
export function planNeighbours(job: Job, shape: ModelShape, base: Plan, o: NeighbourOptions): Neighbour[] {
  const out: Neighbour[] = [];
  const add = (axis: SensitivityAxis, from: string | number, to: string | number, found: { plan: Plan; refused: RuleViolation[] } | null) => {
    if (found) out.push({ axis, change: `${LABEL[axis]} ${from} → ${to}`, plan: found.plan, refused: found.refused });
  };
  const pow2 = (axis: SensitivityAxis, key: 'tp' | 'cp' | 'pp' | 'ep' | 'etp' | 'microBatchSize') => {
    const v = base[key];
    for (const next of [v / 2, v * 2]) {
      if (!Number.isInteger(next) || next < 1) continue;
      const over = { [key]: next } as Partial<LayoutSizes>;
      const splits = key === 'pp' ? splitsFor(job, base, next, next === 1 ? 1 : base.vpp, o) : [sameSplit(base)];
      add(axis, v, next, firstAccepted(job, shape, splits.map((s) => build(job, shape, base, over, s))));
    }
  };
  pow2('tp', 'tp');
  pow2('cp', 'cp');
  pow2('pp', 'pp');
  if (base.pp > 1) {
    // VPP: the nearest value Megatron accepts with this PP, below and above
    const top = Math.floor((job.model.num_layers + 2 + job.model.mtp_num_layers) / base.pp);
    for (const dir of [-1, 1]) {
      for (let v = base.vpp + dir; v >= 1 && v <= top; v += dir) {
        const found = firstAccepted(job, shape, splitsFor(job, base, base.pp, v, o).map((s) => build(job, shape, base, {}, s)));
        if (found && found.refused.length === 0) { add('vpp', base.vpp, v, found); break; }
      }
    }
  }
  if (shape.isMoe) {
    pow2('ep', 'ep');
    pow2('etp', 'etp');
  }
  pow2('mbs', 'microBatchSize');
  const ri = RECOMPUTE_VALUES.indexOf(base.recompute);
  for (const j of [ri - 1, ri + 1]) {
    const r = RECOMPUTE_VALUES[j];
    if (r === undefined) continue;
    add('recompute', base.recompute, r, firstAccepted(job, shape, [build(job, shape, base, {}, sameSplit(base), { recompute: r })]));
  }
  if (shape.isMoe) {
    for (const d of DISPATCHER_VALUES) {
      if (d === base.dispatcher) continue;
      add('dispatcher', base.dispatcher, d, firstAccepted(job, shape, [build(job, shape, base, {}, sameSplit(base), { dispatcher: d })]));
    }
  }
  const dOpt = !base.distributedOptimizer;
  add('distopt', onOff(base.distributedOptimizer), onOff(dOpt),
    firstAccepted(job, shape, [build(job, shape, base, {}, sameSplit(base), { distributedOptimizer: dOpt })]));
  return out;
}

export interface SensitivityRow extends Neighbour {
  /** Null when the neighbour is refused (never scored). */
  estimate: Estimate | null;
}

export interface Sensitivity {
  plan: Plan;
  estimate: Estimate;
  rows: SensitivityRow[];
}

/** Scores `plan` and each of its neighbours Megatron accepts (a few dozen plans: not a hot path). */
export function sensitivityOf(job: Job, shape: ModelShape, ctx: ScoreContext, plan: Plan, o: NeighbourOptions): Sensitivity {
  const estimate = scorePlan(ctx, plan, newEstimate());
  const rows = planNeighbours(job, shape, plan, o).map((n) => ({
    ...n, estimate: n.refused.length === 0 ? scorePlan(ctx, n.plan, newEstimate()) : null,
  }));
  return { plan, estimate, rows };
}
