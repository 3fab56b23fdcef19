import type { Dispatcher, Precision, Recompute } from '../job/types.js';

/**
 * One candidate: a folded parallel mapping plus the run options Megatron needs to start it.
 * Attention: TP×CP×DP×PP = world. MoE layers: ETP×EP×EDP×PP = world (same PP, same world).
 * The enumerator reuses one Plan object while it walks the space: copy it (clonePlan) to keep it.
 */
export interface Plan {
  tp: number;
  cp: number;
  dp: number;
  pp: number;
  /** Virtual pipeline stages per PP rank; 1 = no interleaving. */
  vpp: number;
  ep: number;
  etp: number;
  edp: number;
  /** Decoder layers on the first and last pipeline stage (equal to num_layers/pp for an even split; num_layers when pp = 1). */
  firstStageLayers: number;
  lastStageLayers: number;
  /**
   * --account-for-embedding-in-pipeline-split / --account-for-loss-in-pipeline-split: the embedding (loss) counts
   * as one layer of the split; firstStageLayers / lastStageLayers then hold the decoder layers Megatron builds on
   * the first / last PP rank (src/plan/layout.ts).
   */
  accountEmbedding: boolean;
  accountLoss: boolean;
  /** --pipeline-model-parallel-layout in its compact form; '' = none (src/plan/pipeline-layout.ts). */
  layout: string;
  /**
   * --microbatch-group-size-per-virtual-pipeline-stage: micro-batches run back to back per virtual stage in the
   * interleaved schedule (Megatron's default: PP). Meaningful with VPP > 1 only.
   */
  mbGroup: number;
  microBatchSize: number;
  /** global_batch_size / (micro_batch_size · dp). */
  numMicroBatches: number;
  recompute: Recompute;
  /** Dense models: 'alltoall' is recorded but no dispatcher flag is emitted. */
  dispatcher: Dispatcher;
  sequenceParallel: boolean;
  distributedOptimizer: boolean;
  precision: Precision;
}

export function newPlan(): Plan {
  return {
    tp: 1, cp: 1, dp: 1, pp: 1, vpp: 1, ep: 1, etp: 1, edp: 1,
    firstStageLayers: 0, lastStageLayers: 0, accountEmbedding: false, accountLoss: false, layout: '', mbGroup: 1,
    microBatchSize: 1, numMicroBatches: 1,
    recompute: 'none', dispatcher: 'alltoall',
    sequenceParallel: false, distributedOptimizer: true, precision: 'bf16',
  };
}

export function copyPlan(from: Plan, to: Plan): Plan {
  to.tp = from.tp; to.cp = from.cp; to.dp = from.dp; to.pp = from.pp; to.vpp = from.vpp;
  to.ep = from.ep; to.etp = from.etp; to.edp = from.edp;
  to.firstStageLayers = from.firstStageLayers; to.lastStageLayers = from.lastStageLayers;
  to.accountEmbedding = from.accountEmbedding; to.accountLoss = from.accountLoss; to.layout = from.layout;
  to.mbGroup = from.mbGroup;
  to.microBatchSize = from.microBatchSize; to.numMicroBatches = from.numMicroBatches;
  to.recompute = from.recompute; to.dispatcher = from.dispatcher;
  to.sequenceParallel = from.sequenceParallel; to.distributedOptimizer = from.distributedOptimizer;
  to.precision = from.precision;
  return to;
}

export function clonePlan(p: Plan): Plan {
  return copyPlan(p, newPlan());
}

/** Where a plan's split is stated (one home: src/plan/layout.ts). */
export { isUnevenSplit } from '../plan/layout.js';
