/**
 * One pipeline stage kind (stage-layout.ts): its time per micro-batch, exposed DP time, optimizer time and peak
 * memory, from the layer costs (memo.ts L slot) and mapping terms (M slot):
 *   t     = n_dense·t_dense + n_moe·t_moe + PP send/recv (+ embedding on the first stage, + output, loss and MTP
 *           heads on the last)
 *   DP    = terms/dp-comm.ts over the stage's dense (DP×CP) and expert (EDP) parameters, per chunk and bucket,
 *           hidden behind the compute left after each launch (per stage index: kinds.firstIndex)
 *   opt   = terms/optimizer.ts over the parameters the rank owns
 *   alloc = model state + FP8 weight copies (memory.ts; a frozen base: stageModelStateBytes) + activations of the in-flight micro-batches and dropout masks
 *           (terms/activations.ts, pipeline.ts; + the embedding dropout mask on the first stage) + logits
 *           (terms/edge-stages.ts) + dispatcher buffers (terms/ep-dispatch.ts) + workspaces (terms/workspaces.ts):
 *           the allocator side, what Megatron logs as "max allocated"
 *   mem   = alloc + CUDA context + NCCL buffers (terms/nccl-buffers.ts) + userbuffers (terms/workspaces.ts) + allocator
 *           reserve (memory.ts): the device figure, what must fit
 * The memory is the kind's earliest stage's (in-flight micro-batches only decrease with the stage index).
 */
import type { Plan } from '../enumerate/plan.js';
import type { ScoreContext } from './context.js';
import { fp8ParamGatherRuns, tpCommOverlapRuns } from '../job/stack.js';
import { L, M } from './memo.js';
import { STAGE_FIRST, STAGE_LAST, STAGE_MTP, type StageKinds } from './stage-layout.js';
import { inflightMicrobatches } from './pipeline.js';
import {
  allocatorReserveBytes, FP8_PARAM_GATHER_BYTES_PER_PARAM, fp8WeightCopyBytes, modelStateBytes, optimizerOwnedParams, type ModelStateBytes,
} from './memory.js';
import { dropoutMaskBytes, stageActivationBytes } from './terms/activations.js';
import { cublasWorkspaceBytes, globalMemoryBufferBytes, userBufferBytes } from './terms/workspaces.js';
import {
  ddpBucketParams, dpExposedWithStealTimeS, dpFirstChunkBuckets, dpPhaseTimeS, dpTailExposedTimeS,
  dpUnhideableTimeS, dpWindowS,
} from './terms/dp-comm.js';
import { optimizerStepTimeS } from './terms/optimizer.js';
import { BF16_BYTES_PER_WEIGHT, decodedWeightBufferBytes, frozenBaseWeightBytes } from './terms/base-weights.js';
import { loraAdapterParams } from './terms/lora-adapters.js';
import {
  denseLayerCompressedWeights, denseLayerTensors, largestDecodedWeights, moeLayerCompressedWeights, moeLayerTensors,
} from './finetune-shape.js';

/**
 * Per-stage results of the kind last evaluated by evalStageKind (scratch): times, the two memory figures (allocBytes:
 * allocator side, memBytes: device) and the breakdown (model state as memory.ts writes it, then mem* = the other
 * MemoryBreakdown terms).
 */
export interface KindResult extends ModelStateBytes {
  /**
   * Inputs set once per plan by scorePlan (setPlanMemoryConstants): cuBLAS/TE workspaces of a stage without and with
   * MoE layers, NCCL buffers, userbuffers.
   */
  wsDense: number; wsMoe: number; planNccl: number; planUserBuffers: number;
  timeS: number; dpS: number; optimizerS: number; allocBytes: number; memBytes: number;
  memFp8Copies: number; memAct: number; memLogits: number; memDispatch: number; memWorkspaces: number;
  memReserve: number;
}

export function newKindResult(): KindResult {
  return {
    wsDense: 0, wsMoe: 0, planNccl: 0, planUserBuffers: 0,
    timeS: 0, dpS: 0, optimizerS: 0, allocBytes: 0, memBytes: 0, weights: 0, gradients: 0, optimizer: 0,
    memFp8Copies: 0, memAct: 0, memLogits: 0, memDispatch: 0, memWorkspaces: 0, memReserve: 0,
  };
}

/**
 * GEMM weights (FP8-quantized under FP8) among a stage's parameters: its layers' attention / MLP / shared-expert
 * linears, all expert parameters, and the MTP heads' eh_proj on the last stage (mapping terms at mv[mb + M.*]).
 */
export function stageGemmParams(nDense: number, nMoe: number, role: number, expertParams: number, mv: Float64Array,
  mb: number): number {
  let g = nDense * mv[mb + M.DenseLayerGemmParams] + nMoe * mv[mb + M.MoeLayerDenseGemmParams] + expertParams;
  if ((role & STAGE_LAST) !== 0) g += mv[mb + M.OutputGemmParams];
  return g;
}

/**
 * The memory terms that depend on the plan, not on the stage kind, into `res` (once per plan, before evalStageKind):
 * workspaces without / with MoE layers (terms/workspaces.ts), NCCL buffers, userbuffers.
 */
export function setPlanMemoryConstants(ctx: ScoreContext, plan: Plan, mv: Float64Array, mb: number,
  res: KindResult): void {
  const ub = tpCommOverlapRuns(ctx.job, plan); // userbuffers where the launch runs --tp-comm-overlap
  res.wsDense = cublasWorkspaceBytes(false, ub, ctx.cal);
  res.wsMoe = cublasWorkspaceBytes(true, ub, ctx.cal);
  res.planNccl = planNcclBufferBytes(plan, mv, mb);
  res.planUserBuffers = userBufferBytes((ctx.seq / plan.cp) * plan.microBatchSize, ctx.hidden,
    plan.precision === 'fp8', ub);
}

/** NCCL buffers of the plan's communicators: the mapping's, plus the EP group's for its dispatcher (flex: DeepEP's own). */
export function planNcclBufferBytes(plan: Plan, mv: Float64Array, mb: number): number {
  const ep = plan.dispatcher === 'alltoall' ? mv[mb + M.NcclEpA2aBytes]
    : plan.dispatcher === 'allgather' ? mv[mb + M.NcclEpAgBytes] : 0;
  return mv[mb + M.NcclBaseBytes] + ep;
}

/**
 * Dense (DP×CP-sharded) parameters a stage of `nDense` dense and `nMoe` MoE layers with edge `role` holds: its
 * layers' plus the embedding / output extras (mapping terms at mv[mb + M.*]).
 */
export function stageDenseParams(nDense: number, nMoe: number, role: number, mv: Float64Array, mb: number): number {
  let dense = nDense * mv[mb + M.DenseLayerParams] + nMoe * mv[mb + M.MoeLayerDenseParams];
  if ((role & STAGE_FIRST) !== 0) dense += mv[mb + M.EmbeddingParams];
  if ((role & STAGE_LAST) !== 0) dense += mv[mb + M.OutputParams];
  return dense;
}

/** Expert (EDP-sharded) parameters a stage of `nMoe` MoE layers holds. */
export function stageExpertParams(nMoe: number, mv: Float64Array, mb: number): number {
  return nMoe * mv[mb + M.MoeLayerExpertParams];
}

/**
 * Evaluates stage kind `k` into `res`: layer costs at lv[lb + L.*], mapping terms at mv[mb + M.*]; `ppS` is the
 * exposed pipeline send/recv time per micro-batch. `res` holds the plan's memory constants (setPlanMemoryConstants).
 */
export function evalStageKind(ctx: ScoreContext, plan: Plan, kinds: StageKinds, k: number, lv: Float64Array,
  lb: number, mv: Float64Array, mb: number, ppS: number, res: KindResult): void {
  const cal = ctx.cal;
  const nDense = kinds.nDense[k];
  const nMoe = kinds.nMoe[k];
  const role = kinds.role[k];
  const first = (role & STAGE_FIRST) !== 0;
  const last = (role & STAGE_LAST) !== 0;
  const mtp = (role & STAGE_MTP) !== 0;

  // time per micro-batch
  let t = nDense * lv[lb + L.DenseLayerS] + nMoe * lv[lb + L.MoeLayerS] + ppS;
  if (first) t += lv[lb + L.EmbeddingS];
  if (last) t += lv[lb + L.OutputS] + lv[lb + L.OutputTpS];
  if (mtp) t += lv[lb + L.MtpExtraS];

  // parameters held and trained (all, or a frozen base's LoRA adapters), DP and optimizer time
  const dense = stageDenseParams(nDense, nMoe, role, mv, mb);
  const expert = stageExpertParams(nMoe, mv, mb);
  const trainedDense = stageTrainedDenseParams(ctx, plan, nDense, nMoe, dense);
  const trainedExpert = stageTrainedExpertParams(ctx, plan, nMoe, expert);
  const dpS = stageDpExposedTimeS(ctx, plan, kinds.firstIndex[k], t, trainedDense, trainedExpert, mv, mb);
  const owned = optimizerOwnedParams(trainedDense, trainedExpert, plan.dp * plan.cp, plan.edp, plan.distributedOptimizer);
  const optimizerS = optimizerStepTimeS(owned, cal);

  stageMemory(ctx, plan, nDense, nMoe, role, kinds.firstIndex[k], lv, lb, mv, mb, dense, expert,
    trainedDense + trainedExpert, owned, res);
  res.timeS = t;
  res.dpS = dpS;
  res.optimizerS = optimizerS;
}

/**
 * Exposed DP time of a stage (index `stage`, micro-batch time `t`, `dense` / `expert` parameters): the collectives per
 * chunk and bucket, hidden behind the compute left after each launch (terms/dp-comm.ts). A function of its own so
 * that the JIT optimises it apart from the memory terms.
 */
function stageDpExposedTimeS(ctx: ScoreContext, plan: Plan, stage: number, t: number, dense: number, expert: number,
  mv: Float64Array, mb: number): number {
  const cal = ctx.cal;
  const dOpt = plan.distributedOptimizer;
  const dpcp = plan.dp * plan.cp;
  const gb = ctx.gradBytesPerParam;
  // DP collectives per chunk and bucket, hidden behind the compute left after each launch (terms/dp-comm.ts)
  const vpp = plan.vpp;
  const group = plan.mbGroup < plan.numMicroBatches ? plan.mbGroup : plan.numMicroBatches;
  const bucket = ddpBucketParams(dpcp);
  const nbD = dpFirstChunkBuckets(dense, vpp, stage, bucket);
  const nbE = dpFirstChunkBuckets(expert, vpp, stage, bucket);
  const nb = nbD > nbE ? nbD : nbE;
  const bwdS = (2 / 3) * t;
  let dpS: number;
  if (dOpt) {
    const pb = fp8ParamGatherRuns(ctx.job, plan) ? FP8_PARAM_GATHER_BYTES_PER_PARAM : cal.paramGatherBytesPerParam;
    const rs = dpPhaseTimeS(mv[mb + M.DpRsAlpha], mv[mb + M.DpRsPerByte], dense, gb, vpp, nbD) +
      dpPhaseTimeS(mv[mb + M.EdpRsAlpha], mv[mb + M.EdpRsPerByte], expert, gb, vpp, nbE);
    const rs0 = dpUnhideableTimeS(mv[mb + M.DpRsAlpha], mv[mb + M.DpRsPerByte], dense, gb, vpp, nbD, stage) +
      dpUnhideableTimeS(mv[mb + M.EdpRsAlpha], mv[mb + M.EdpRsPerByte], expert, gb, vpp, nbE, stage);
    const ag = dpPhaseTimeS(mv[mb + M.DpAgAlpha], mv[mb + M.DpAgPerByte], dense, pb, vpp, nbD) +
      dpPhaseTimeS(mv[mb + M.EdpAgAlpha], mv[mb + M.EdpAgPerByte], expert, pb, vpp, nbE);
    const ag0 = dpUnhideableTimeS(mv[mb + M.DpAgAlpha], mv[mb + M.DpAgPerByte], dense, pb, vpp, nbD, stage) +
      dpUnhideableTimeS(mv[mb + M.EdpAgAlpha], mv[mb + M.EdpAgPerByte], expert, pb, vpp, nbE, stage);
    const ex = dpTailExposedTimeS(rs, rs0, dpWindowS(bwdS, vpp, group, stage, nb), cal) +
      dpTailExposedTimeS(ag, ag0, dpWindowS(t - bwdS, vpp, group, stage, nb), cal);
    dpS = dpExposedWithStealTimeS(rs + ag, ex, cal);
  } else {
    // ring or tree all-reduce, whichever is faster for the whole phase
    const ring = dpPhaseTimeS(mv[mb + M.DpArAlpha], mv[mb + M.DpArPerByte], dense, gb, vpp, nbD) +
      dpPhaseTimeS(mv[mb + M.EdpArAlpha], mv[mb + M.EdpArPerByte], expert, gb, vpp, nbE);
    const tree = dpPhaseTimeS(mv[mb + M.DpArTreeAlpha], mv[mb + M.DpArTreePerByte], dense, gb, vpp, nbD) +
      dpPhaseTimeS(mv[mb + M.EdpArTreeAlpha], mv[mb + M.EdpArTreePerByte], expert, gb, vpp, nbE);
    const useTree = tree < ring;
    const aD = useTree ? M.DpArTreeAlpha : M.DpArAlpha;
    const cD = useTree ? M.DpArTreePerByte : M.DpArPerByte;
    const aE = useTree ? M.EdpArTreeAlpha : M.EdpArAlpha;
    const cE = useTree ? M.EdpArTreePerByte : M.EdpArPerByte;
    const ar = useTree ? tree : ring;
    const ar0 = dpUnhideableTimeS(mv[mb + aD], mv[mb + cD], dense, gb, vpp, nbD, stage) +
      dpUnhideableTimeS(mv[mb + aE], mv[mb + cE], expert, gb, vpp, nbE, stage);
    dpS = dpExposedWithStealTimeS(ar, dpTailExposedTimeS(ar, ar0, dpWindowS(bwdS, vpp, group, stage, nb), cal), cal);
  }
  return dpS;
}

/**
 * Dense (DP×CP-reduced) parameters a stage trains: all it holds (`dense`), or for a frozen base its layers' LoRA
 * adapters (terms/lora-adapters.ts; attention, dense MLP and shared-expert adapters, TP-sharded).
 */
export function stageTrainedDenseParams(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, dense: number): number {
  const ft = ctx.ft;
  if (!ft.frozen) return dense;
  const r = ft.loraRank;
  const attn = loraAdapterParams(ft.adaptAttn, r, plan.tp);
  return nDense * (attn + loraAdapterParams(ft.adaptDenseMlp, r, plan.tp)) +
    nMoe * (attn + loraAdapterParams(ft.adaptShared, r, plan.tp));
}

/**
 * Expert (EDP-reduced) parameters a stage trains: all it holds (`expert`), or for a frozen base the routed experts'
 * adapters (ETP-sharded; one per grouped linear shared by the local experts, or one per local expert).
 */
export function stageTrainedExpertParams(ctx: ScoreContext, plan: Plan, nMoe: number, expert: number): number {
  const ft = ctx.ft;
  if (!ft.frozen) return expert;
  const perLayer = loraAdapterParams(ft.adaptExpert, ft.loraRank, plan.etp);
  return nMoe * (ft.shareExpertAdapters ? perLayer : perLayer * (ctx.numExperts / plan.ep));
}

/**
 * Model state of a stage into `out` (weights, gradients, optimizer states; memory.ts), returning its FP8 weight
 * copies: `dense` + `expert` parameters held, `gemm` of them GEMM weights, `trained` trained (all, or the LoRA
 * adapters), `owned` of those with their optimizer state on this rank. A frozen base holds its stored weights
 * (terms/base-weights.ts) and the bf16 adapters, with gradients and optimizer states for the adapters only; its
 * fp8 weights are FP8 primary weights (only their transpose is cached). One home for scorePlan and
 * staticMemoryBytes.
 */
export function stageModelStateBytes(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, dense: number,
  expert: number, gemm: number, trained: number, owned: number, out: ModelStateBytes): number {
  const ft = ctx.ft;
  const fp8 = plan.precision === 'fp8';
  const gb = ctx.gradBytesPerParam;
  if (!ft.frozen) {
    const fp8Primary = fp8ParamGatherRuns(ctx.job, plan); // FP8 primary weights where the launch gathers them in FP8
    modelStateBytes(dense + expert, fp8Primary ? gemm : 0, owned, fp8Primary, gb, ctx.optimizerStateBytesPerParam, out);
    return fp8WeightCopyBytes(gemm, fp8, fp8Primary, ctx.cal);
  }
  const localExperts = ctx.numExperts / plan.ep;
  const compressed = nDense * denseLayerCompressedWeights(ft, plan.tp) +
    nMoe * moeLayerCompressedWeights(ft, plan.tp, localExperts, plan.etp);
  const tensors = nDense * denseLayerTensors(ft) + nMoe * moeLayerTensors(ft, localExperts);
  out.weights = frozenBaseWeightBytes(dense + expert, compressed, tensors, ft.storedBytesPerWeight,
    ft.codebookBytesPerTensor, ft.decodeResident) + BF16_BYTES_PER_WEIGHT * trained;
  out.gradients = trained * gb;
  out.optimizer = ctx.optimizerStateBytesPerParam * owned;
  return fp8WeightCopyBytes(gemm, fp8, ft.fp8Base, ctx.cal);
}

/** The allocator-side and device memory of stage kind `k` into `res` (stage.ts header: alloc, mem). */
function stageMemory(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, role: number, stage: number,
  lv: Float64Array, lb: number, mv: Float64Array, mb: number, dense: number, expert: number, trained: number,
  owned: number, res: KindResult): void {
  const cal = ctx.cal;
  const first = (role & STAGE_FIRST) !== 0;
  const last = (role & STAGE_LAST) !== 0;
  const mtp = (role & STAGE_MTP) !== 0;
  // memory: allocator side
  const sp = plan.tp > 1 && plan.sequenceParallel;
  const tokA = (ctx.seq / plan.cp) * plan.microBatchSize;
  const tokStored = sp ? tokA / plan.tp : tokA;
  const gemm = stageGemmParams(nDense, nMoe, role, expert, mv, mb);
  const inflight = inflightMicrobatches(stage, plan.pp, plan.vpp, plan.numMicroBatches, plan.mbGroup);
  let act = stageActivationBytes(inflight, nDense, nMoe, lv[lb + L.ActDenseBytes], lv[lb + L.ActMoeBytes],
    lv[lb + L.ActLayerInputBytes], plan.recompute === 'full');
  if (first) act += inflight * dropoutMaskBytes(tokStored, ctx.hidden, 1, ctx.hiddenDropout); // embedding dropout
  const logits = lv[lb + L.LogitsBytes] * ((last ? 1 : 0) + (mtp ? ctx.mtpLayers : 0));
  const dispatch = nMoe > 0 ? lv[lb + L.DispatchBufferBytes] : 0;
  const workspaces = (nMoe > 0 ? res.wsMoe : res.wsDense) + globalMemoryBufferBytes(tokA, ctx.hidden, sp, last) +
    decodedWeightBufferBytes(largestDecodedWeights(ctx.ft, plan.tp, ctx.numExperts / plan.ep, plan.etp));
  const copies = stageModelStateBytes(ctx, plan, nDense, nMoe, dense, expert, gemm, trained, owned, res);
  const alloc = res.weights + copies + res.gradients + res.optimizer + act + logits + dispatch + workspaces;
  // device side (the CUDA context, NCCL buffers and userbuffers are the plan's: setPlanMemoryConstants)
  const reserve = allocatorReserveBytes(act, logits, cal);

  res.allocBytes = alloc;
  res.memBytes = alloc + cal.cudaContextBytes + res.planNccl + res.planUserBuffers + reserve;
  res.memFp8Copies = copies;
  res.memAct = act;
  res.memLogits = logits;
  res.memDispatch = dispatch;
  res.memWorkspaces = workspaces;
  res.memReserve = reserve;
}
