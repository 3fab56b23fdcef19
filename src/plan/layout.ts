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
import { layoutDecoderCounts, layoutOf, rankDecoderCount, type PipelineLayout } from './pipeline-layout.js';

/**
 * The job facts a layout and the rule table read: a Job is one, and so is what an argument list states
 * (megatron-argv-layout.ts), so both are checked by the same rules.
 */
export interface LayoutJob {
  model: Pick<ModelSpec, 'num_layers' | 'mtp_num_layers' | 'num_attention_heads' | 'num_query_groups' | 'ffn_hidden_size' | 'num_experts'
    | 'moe_ffn_hidden_size' | 'moe_shared_expert_intermediate_size' | 'max_position_embeddings' | 'softmax_type'
    | 'window_size'>;
  /** The LoRA fields are absent where no adapters can be (a Megatron-LM argument list). */
  training: Pick<TrainingSpec, 'seq_length' | 'global_batch_size'> & Partial<Pick<TrainingSpec, 'lora_rank' | 'lora_target_modules'>>;
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
  /** Count the embedding / the loss as one layer of the split (Megatron's --account-for-*-in-pipeline-split). */
  accountEmbedding?: boolean;
  accountLoss?: boolean;
  /** An explicit --pipeline-model-parallel-layout; VPP follows from its stage count unless given. */
  layout?: string;
  /** --microbatch-group-size-per-virtual-pipeline-stage; default PP (Megatron's). */
  mbGroup?: number;
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

/** How a plan splits the layers over the pipeline (the rule table checks each kind by its own rules). */
export type SplitKind = 'even' | 'uneven' | 'accounted' | 'layout';

/**
 * How a plan splits the layers. 'layout': an explicit layout. 'accounted': the embedding and/or the loss count as
 * a layer of the split. 'even': pp == 1 with num_layers on its one stage, or first == last == num_layers/pp, or
 * first == last == 0 (an even split was asked for but num_layers % pp != 0; pp-layer-split reports it). Anything
 * else is 'uneven' (uneven-stage-split checks it).
 */
export function splitKind(plan: Plan, numLayers: number): SplitKind {
  if (plan.layout !== '') return 'layout';
  if (plan.accountEmbedding || plan.accountLoss) return 'accounted';
  const { pp, firstStageLayers: a, lastStageLayers: b } = plan;
  if (pp === 1) return a === numLayers && b === numLayers ? 'even' : 'uneven';
  if (a === 0 && b === 0) return 'even';
  if (numLayers % pp === 0 && a === numLayers / pp && b === numLayers / pp) return 'even';
  return 'uneven';
}

/** Layers counted by an accounted split: num_layers + 1 for the embedding + 1 for the loss ([VA] L987–998). */
export function accountedLayerCount(numLayers: number, embedding: boolean, loss: boolean): number {
  return numLayers + (embedding ? 1 : 0) + (loss ? 1 : 0);
}

/**
 * Decoder layers on the first and last PP rank of an accounted split: each rank holds (num_layers + e + l)/PP
 * counted layers, the first rank builds e fewer decoder layers and the last l fewer (transformer_block.py
 * get_num_layers_to_build). [0, 0] when PP does not divide the count (accounted-split reports it).
 */
export function accountedSplit(numLayers: number, pp: number, embedding: boolean, loss: boolean): [number, number] {
  if (pp === 1) return [numLayers, numLayers];
  const n = accountedLayerCount(numLayers, embedding, loss);
  if (n % pp !== 0) return [0, 0];
  const per = n / pp;
  return [per - (embedding ? 1 : 0), per - (loss ? 1 : 0)];
}

/** The plan's layout read for this job, or the reason Megatron refuses it (plans with a layout only). */
export function planLayout(job: LayoutJob, plan: Plan): PipelineLayout | string {
  return layoutOf(plan.layout, job.model.num_layers, job.model.mtp_num_layers, plan.pp);
}

/**
 * True when the export must state the split (--decoder-first/last-pipeline-num-layers): PP > 1 and the first
 * or last stage differs from num_layers/PP. For every plan the rule table accepts this is splitKind == 'uneven';
 * the two differ only on splits the rules refuse (PP 1 with a split given; 0/0 when PP does not divide).
 */
export function isUnevenSplit(p: Plan, numLayers: number): boolean {
  if (p.pp === 1 || p.layout !== '' || p.accountEmbedding || p.accountLoss) return false;
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
  } else if (plan.layout !== '') {
    const v = virtualStageLayers(plan, numLayers);
    for (let r = 0; r < pp; r++) {
      let n = 0;
      for (let s = r; s < v.length; s += pp) n += v[s];
      perRank.push(n);
    }
  } else if (isUnevenSplit(plan, numLayers) || plan.accountEmbedding || plan.accountLoss) {
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
 * rest; an accounted split takes the embedding's slot from the first chunk of rank 0 and the loss's from the last
 * chunk of the last rank; a layout states every stage. Assumes a plan whose split Megatron accepts (checkPlan).
 */
export function virtualStageLayers(plan: Plan, numLayers: number): number[] {
  if (plan.layout !== '') {
    const counts = layoutDecoderCounts(plan.layout);
    return counts ?? [];
  }
  const out: number[] = [];
  if (plan.pp > 1 && (plan.accountEmbedding || plan.accountLoss)) {
    const per = accountedLayerCount(numLayers, plan.accountEmbedding, plan.accountLoss) / plan.pp / plan.vpp;
    for (let chunk = 0; chunk < plan.vpp; chunk++) {
      for (let r = 0; r < plan.pp; r++) {
        let n = per;
        if (plan.accountEmbedding && chunk === 0 && r === 0) n--;
        if (plan.accountLoss && chunk === plan.vpp - 1 && r === plan.pp - 1) n--;
        out.push(n);
      }
    }
    return out;
  }
  const perRank = stageLayers(plan, numLayers);
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

/**
 * What is wrong with micro-batch group `group` for M = `numMicroBatches` on PP ranks in the interleaved schedule
 * (schedules.py L1160–1180: PP <= group <= M, and M % group is 0 or at least PP); null when Megatron runs it.
 */
export function mbGroupProblem(pp: number, numMicroBatches: number, group: number): string | null {
  const m = numMicroBatches;
  if (m < pp) return `${m} micro-batches are fewer than PP ${pp}`;
  if (group < pp || group > m) return `the micro-batch group ${group} must lie in [PP ${pp}, micro-batches ${m}]`;
  const rest = m % group;
  if (rest !== 0 && rest < pp) {
    return `${m} micro-batches leave a last group of ${rest} (group ${group}), fewer than PP ${pp}`;
  }
  return null;
}

/**
 * The micro-batch group the enumerator gives an interleaved plan: PP (Megatron's default) when it runs, else the
 * smallest group Megatron runs (fewest micro-batches in flight during the warm-up); PP when none does.
 */
export function smallestMbGroup(pp: number, numMicroBatches: number): number {
  for (let g = pp; g <= numMicroBatches; g++) {
    const rest = numMicroBatches % g;
    if (rest === 0 || rest >= pp) return g;
  }
  return pp;
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
  out.accountEmbedding = sizes.accountEmbedding ?? false;
  out.accountLoss = sizes.accountLoss ?? false;
  out.layout = sizes.layout ?? '';
  out.mbGroup = sizes.mbGroup ?? out.pp;
  const L = job.model.num_layers;
  if (out.layout !== '') {
    // first/last: the decoder layers of PP rank 0 and of the last rank; VPP from the stage count unless given
    const lay = planLayout(job, out);
    if (typeof lay === 'string') {
      out.firstStageLayers = 0; out.lastStageLayers = 0;
    } else {
      out.layout = lay.text;
      if (sizes.vpp === undefined) out.vpp = lay.stages / out.pp;
      out.firstStageLayers = rankDecoderCount(lay, out.pp, 0);
      out.lastStageLayers = rankDecoderCount(lay, out.pp, out.pp - 1);
    }
  } else if (out.accountEmbedding || out.accountLoss) {
    [out.firstStageLayers, out.lastStageLayers] = accountedSplit(L, out.pp, out.accountEmbedding, out.accountLoss);
  } else {
    [out.firstStageLayers, out.lastStageLayers] = completeSplit(L, out.pp, sizes.firstStageLayers, sizes.lastStageLayers);
  }
  return deriveSizes(job, out);
}
