/**
 * The one home of a plan's derived sizes and of its layer placement (after torchtitan's ParallelDims: the named
 * sizes are given once, everything else is derived here and nowhere else).
 *
 *   sizes    tp, cp, pp, vpp, ep, etp, micro-batch size, sequence parallel, pipeline split (first/last stage)
 *   derived  dp = world/(TP·CP·PP), edp = world/(ETP·EP·PP), micro-batches = GBS/(micro-batch·DP),
 *            layers per stage (first, middle, last) and per virtual stage
 *
 * Derived sizes are fractional when the sizes do not divide: the rule table (src/enumerate/rules.ts) reports that
 * (attn-world-divisible, expert-world-divisible, gbs-divisible-by-mbs-dp), so a layout is built first and checked
 * after (checkPlan). The carrier is the existing Plan; deriveLayout fills a caller's object, so the enumerator
 * (which reuses one Plan) and every reader of user plans share the constructor without allocating.
 */
import type { ClusterSpec, ModelSpec, TrainingSpec } from '../job/types.js';
import type { Plan } from '../enumerate/plan.js';
import { newPlan } from '../enumerate/plan.js';

/**
 * The job facts a layout and the rule table read: a Job is one, and so is what an argument list states
 * (megatron-argv-layout.ts), so both are checked by the same rules.
 */
export interface LayoutJob {
  model: Pick<ModelSpec, 'num_layers' | 'num_attention_heads' | 'num_query_groups' | 'ffn_hidden_size' | 'num_experts'
    | 'moe_ffn_hidden_size' | 'moe_shared_expert_intermediate_size' | 'max_position_embeddings'>;
  training: Pick<TrainingSpec, 'seq_length' | 'global_batch_size'>;
  cluster: Pick<ClusterSpec, 'gpus'>;
}

/** The sizes a layout is built from; everything else is derived. */
export interface LayoutSizes {
  tp: number;
  cp: number;
  pp: number;
  /** Virtual stages per PP rank; default 1. */
  vpp?: number;
  /** Default 1. */
  ep?: number;
  /** Default TP. */
  etp?: number;
  /** Default 1. */
  microBatchSize?: number;
  /** Default TP > 1. */
  sequenceParallel?: boolean;
  /**
   * Decoder layers on the first / last pipeline stage. Neither: the even split (evenStageLayers). One: the other
   * is the middle-stage size (num_layers − given)/(pp − 1) when that is whole (Megatron then sizes the remaining
   * stages evenly), else its floor.
   */
  firstStageLayers?: number;
  lastStageLayers?: number;
}

/** DP = world / (TP·CP·PP) ([PS] L825; CP is not part of DP). */
export function dataParallelSize(world: number, tp: number, cp: number, pp: number): number {
  return world / (tp * cp * pp);
}

/** EDP = world / (ETP·EP·PP) ([PS] L880). */
export function expertDataParallelSize(world: number, etp: number, ep: number, pp: number): number {
  return world / (etp * ep * pp);
}

/** Micro-batches per step and pipeline: GBS / (micro-batch · DP). */
export function microBatchCount(globalBatchSize: number, microBatchSize: number, dp: number): number {
  return globalBatchSize / (microBatchSize * dp);
}

/**
 * Layers on each stage of an even split: num_layers with PP 1, num_layers/PP when PP divides it, else 0 (0/0 is
 * "an even split was asked for but is not possible"; pp-layer-split reports it).
 */
export function evenStageLayers(numLayers: number, pp: number): number {
  return pp === 1 ? numLayers : numLayers % pp === 0 ? numLayers / pp : 0;
}

/** Layers on each middle stage of a split (PP >= 3): (num_layers − first − last)/(PP − 2); 0 without middle stages. */
export function middleStageLayers(numLayers: number, pp: number, first: number, last: number): number {
  return pp > 2 ? (numLayers - first - last) / (pp - 2) : 0;
}

/**
 * How a plan splits the layers. 'even': pp == 1 with num_layers on its one stage, or first == last ==
 * num_layers/pp, or first == last == 0 (an even split was asked for but num_layers % pp != 0; pp-layer-split
 * reports it). Anything else is 'uneven' (uneven-stage-split checks it).
 */
export function splitKind(plan: Plan, numLayers: number): 'even' | 'uneven' {
  const { pp, firstStageLayers: a, lastStageLayers: b } = plan;
  if (pp === 1) return a === numLayers && b === numLayers ? 'even' : 'uneven';
  if (a === 0 && b === 0) return 'even';
  if (numLayers % pp === 0 && a === numLayers / pp && b === numLayers / pp) return 'even';
  return 'uneven';
}

/**
 * True when the export must state the split (--decoder-first/last-pipeline-num-layers): PP > 1 and the first
 * or last stage differs from num_layers/PP. For every plan the rule table accepts this is splitKind == 'uneven';
 * the two differ only on splits the rules refuse (PP 1 with a split given; 0/0 when PP does not divide).
 */
export function isUnevenSplit(p: Plan, numLayers: number): boolean {
  if (p.pp === 1) return false;
  const even = numLayers % p.pp === 0 ? numLayers / p.pp : -1;
  return p.firstStageLayers !== even || p.lastStageLayers !== even;
}

/** First decoder layer of stage `stage` (stage = pp gives numLayers): Megatron's placement for a first/last split. */
export function stageLayerStart(stage: number, pp: number, numLayers: number, firstStageLayers: number,
  lastStageLayers: number): number {
  if (stage <= 0) return 0;
  if (stage >= pp) return numLayers;
  if (stage === pp - 1) return numLayers - lastStageLayers;
  const middle = middleStageLayers(numLayers, pp, firstStageLayers, lastStageLayers);
  return firstStageLayers + Math.floor((stage - 1) * middle);
}

/** Decoder layers on each PP rank (first, middle…, last). */
export function stageLayers(plan: Plan, numLayers: number): number[] {
  const { pp } = plan;
  const perRank: number[] = [];
  if (pp === 1) {
    perRank.push(numLayers);
  } else if (isUnevenSplit(plan, numLayers)) {
    const middle = middleStageLayers(numLayers, pp, plan.firstStageLayers, plan.lastStageLayers);
    for (let r = 0; r < pp; r++) perRank.push(r === 0 ? plan.firstStageLayers : r === pp - 1 ? plan.lastStageLayers : middle);
  } else {
    for (let r = 0; r < pp; r++) perRank.push(numLayers / pp);
  }
  return perRank;
}

/**
 * Decoder layers held by each virtual pipeline stage, in global stage order s = chunk * PP + rank, as Megatron
 * assigns them (transformer_layer.py get_transformer_layer_offset, transformer_block.py
 * get_num_layers_to_build): every PP rank's layers are split evenly over its VPP chunks; with an uneven split the
 * first rank holds firstStageLayers, the last rank lastStageLayers and each middle rank an equal share of the
 * rest. Assumes a plan whose split Megatron accepts (checkPlan).
 */
export function virtualStageLayers(plan: Plan, numLayers: number): number[] {
  const perRank = stageLayers(plan, numLayers);
  const out: number[] = [];
  for (let chunk = 0; chunk < plan.vpp; chunk++) for (let r = 0; r < plan.pp; r++) out.push(perRank[r] / plan.vpp);
  return out;
}

/** The first/last stage sizes for PP stages when `first`, `last`, both or neither are given (see LayoutSizes). */
export function completeSplit(numLayers: number, pp: number, first: number | undefined, last: number | undefined): [number, number] {
  const middleOf = (given: number): number => {
    if (pp < 2) return 0;
    const rest = numLayers - given;
    return rest % (pp - 1) === 0 ? rest / (pp - 1) : Math.floor(rest / (pp - 1));
  };
  if (first === undefined && last === undefined) {
    const even = evenStageLayers(numLayers, pp);
    return [even, even];
  }
  if (first !== undefined && last !== undefined) return [first, last];
  if (first !== undefined) return [first, middleOf(first)];
  return [middleOf(last as number), last as number];
}

/** Fills `out`'s derived sizes (dp, edp, numMicroBatches) from its sizes and the job. Returns `out`. */
export function deriveSizes(job: LayoutJob, out: Plan): Plan {
  const world = job.cluster.gpus;
  out.dp = dataParallelSize(world, out.tp, out.cp, out.pp);
  out.edp = expertDataParallelSize(world, out.etp, out.ep, out.pp);
  out.numMicroBatches = microBatchCount(job.training.global_batch_size, out.microBatchSize, out.dp);
  return out;
}

/**
 * THE constructor of a layout: sizes → derived sizes, written into `out` (a fresh Plan by default; run options,
 * recompute, dispatcher, distributed optimizer and precision, are left as they are in `out`). Not
 * checked here: run checkPlan (the rule table) on the result.
 */
export function deriveLayout(job: LayoutJob, sizes: LayoutSizes, out: Plan = newPlan()): Plan {
  out.tp = sizes.tp;
  out.cp = sizes.cp;
  out.pp = sizes.pp;
  out.vpp = sizes.vpp ?? 1;
  out.ep = sizes.ep ?? 1;
  out.etp = sizes.etp ?? sizes.tp;
  out.microBatchSize = sizes.microBatchSize ?? 1;
  out.sequenceParallel = sizes.sequenceParallel ?? sizes.tp > 1;
  const [first, last] = completeSplit(job.model.num_layers, out.pp, sizes.firstStageLayers, sizes.lastStageLayers);
  out.firstStageLayers = first;
  out.lastStageLayers = last;
  return deriveSizes(job, out);
}
