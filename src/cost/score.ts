/**
 * The scorer: estimated step time (with breakdown), throughput, MFU and the two peak-memory figures of one plan
 * (allocator side: Megatron's "max allocated"; device: what must fit, used by `fits`).
 * makeScoreContext (context.ts) precomputes every per-job constant once; scorePlan reads it and the plan, writes
 * into the caller's Estimate and allocates nothing (it runs millions of times per search).
 *
 * Step model (per micro-batch and pipeline stage r, then the schedule):
 *   t_r  = Σ_layers (compute fwd + bwd + recompute + exposed TP/CP/EP comm + per-layer overhead)
 *          + embedding (first stage) + output layer, loss, MTP (last stage) + exposed PP send/recv   (stage.ts)
 *   step = m · max_r t_r + bubble (pipeline.ts) + max_r exposed DP comm + optimizer + fixed overhead.
 * The breakdown reports the slowest stage's components × m; bubbleS holds the pipeline fill/drain.
 * Each cost term is one function in terms/ (layer-costs.ts composes the per-layer ones).
 *
 * Speed: per-layer costs depend only on (tp, cp, ep, etp, mbs, recompute, dispatcher, precision, SP) and the
 * mapping terms (parameters per layer, DP collective coefficients, pipeline placement) only on (tp, cp, dp, pp, ep,
 * etp, optimizer, precision): both live in direct-mapped memos (memo.ts) keyed by those integers. Stages are
 * grouped into kinds with the same layer mix (stage-layout.ts), so the stage loop runs once per kind, not per stage.
 */
import type { Plan } from '../enumerate/plan.js';
import type { Estimate } from './estimate.js';
import { epOverlapOffCode, type ScoreContext } from './context.js';
import { L, M, layerSlot, mappingSlot } from './memo.js';
import { fillLayerCosts } from './layer-costs.js';
import { fillMappingCosts } from './mapping-costs.js';
import {
  evalStageKind, planNcclBufferBytes, setPlanMemoryConstants, stageDenseParams, stageExpertParams, stageGemmParams,
  stageModelStateBytes, stageTrainedDenseParams, stageTrainedExpertParams, newKindResult,
} from './stage.js';
import { STAGE_FIRST, STAGE_LAST, STAGE_MTP, type StageKinds } from './stage-layout.js';
import { pipelineBubbleTimeS } from './pipeline.js';
import { optimizerOwnedParams } from './memory.js';
import { cublasWorkspaceBytes } from './terms/workspaces.js';
import { ppSendRecvExposedTimeS } from './terms/pp-comm.js';

export {
  makeScoreContext, routingLoadFactor, COSTED_RECOMPUTE_MODULES, type ScoreContext, type SelectiveModules,
} from './context.js';

/** Offset of the plan's mapping slot in ctx.mappingMemo.vals (filled on a miss). */
function mappingBase(ctx: ScoreContext, plan: Plan): number {
  const s = mappingSlot(ctx.mappingMemo, plan);
  if (s >= 0) return s;
  const b = -1 - s;
  fillMappingCosts(ctx, plan, ctx.mappingMemo.vals, b);
  return b;
}

/** Offset of the plan's layer slot in ctx.layerMemo.vals (filled on a miss). */
function layerBase(ctx: ScoreContext, plan: Plan): number {
  const s = layerSlot(ctx.layerMemo, plan, epOverlapOffCode(ctx, plan));
  if (s >= 0) return s;
  const b = -1 - s;
  fillLayerCosts(ctx, plan, ctx.layerMemo.vals, b);
  return b;
}

/** The stage kinds of a plan's split (a layout's, or the first/last split's). */
function stageKindsOf(ctx: ScoreContext, plan: Plan): StageKinds {
  return plan.layout === '' ? ctx.stages.get(plan.pp, plan.firstStageLayers, plan.lastStageLayers)
    : ctx.stages.layout(plan.layout, plan.pp);
}

/**
 * Weights + FP8 weight copies + gradients + optimizer states of the most loaded stage, plus what every stage holds
 * whatever the micro-batch size, recompute and dispatcher (the CUDA context, the dispatcher-independent NCCL buffers,
 * the cuBLAS workspaces of a stage without MoE layers or userbuffers). A lower bound of scorePlan's device figure.
 */
export function staticMemoryBytes(ctx: ScoreContext, plan: Plan): number {
  const mv = ctx.mappingMemo.vals;
  const mb = mappingBase(ctx, plan);
  const cal = ctx.cal;
  const kinds = stageKindsOf(ctx, plan);
  const dpcp = plan.dp * plan.cp;
  let worst = 0;
  for (let k = 0; k < kinds.n; k++) {
    const nDense = kinds.nDense[k];
    const nMoe = kinds.nMoe[k];
    const dense = stageDenseParams(nDense, nMoe, kinds.role[k], mv, mb);
    const expert = stageExpertParams(nMoe, mv, mb);
    const gemm = stageGemmParams(nDense, nMoe, kinds.role[k], expert, mv, mb);
    const trainedDense = stageTrainedDenseParams(ctx, plan, nDense, nMoe, dense);
    const trainedExpert = stageTrainedExpertParams(ctx, plan, nMoe, expert);
    const owned = optimizerOwnedParams(trainedDense, trainedExpert, dpcp, plan.edp, plan.distributedOptimizer);
    const s = ctx.state;
    const copies = stageModelStateBytes(ctx, plan, nDense, nMoe, dense, expert, gemm, trainedDense + trainedExpert, owned, s);
    const bytes = s.weights + copies + s.gradients + s.optimizer;
    if (bytes > worst) worst = bytes;
  }
  // the EP group's NCCL buffers depend on the dispatcher: the smallest (flex: none) is the bound
  const ncclBase = planNcclBufferBytes(plan, mv, mb) - (plan.dispatcher === 'flex' ? 0
    : plan.dispatcher === 'alltoall' ? mv[mb + M.NcclEpA2aBytes] : mv[mb + M.NcclEpAgBytes]);
  return worst + cal.cudaContextBytes + ncclBase + cublasWorkspaceBytes(false, false, cal);
}

/** Exposed pipeline send/recv time per micro-batch (tokens stored per rank × h × 2 B); 0 without PP. */
function ppExposedTimeS(ctx: ScoreContext, plan: Plan, mv: Float64Array, mb: number): number {
  if (plan.pp <= 1) return 0;
  const tokStored = ((ctx.seq / plan.cp) * plan.microBatchSize) / (plan.tp > 1 && plan.sequenceParallel ? plan.tp : 1);
  return ppSendRecvExposedTimeS(tokStored * ctx.hidden * 2, plan.pp, plan.vpp, mv[mb + M.PpInterNode] === 1,
    ctx.gpusPerNode, ctx.cal);
}

/**
 * The allocator figure (Megatron's "max allocated") of every pipeline stage, by PP rank, in bytes: what `moefold
 * calibrate` compares with a run's memory reports. Each stage is evaluated at its own index (in-flight
 * micro-batches fall with the index); not a hot path (it allocates).
 */
export function stageAllocatedBytes(ctx: ScoreContext, plan: Plan): number[] {
  const mv = ctx.mappingMemo.vals;
  const mb = mappingBase(ctx, plan);
  const lv = ctx.layerMemo.vals;
  const lb = layerBase(ctx, plan);
  const ppS = ppExposedTimeS(ctx, plan, mv, mb);
  const kinds = stageKindsOf(ctx, plan);
  const one: StageKinds = { ...kinds, firstIndex: Int32Array.from(kinds.firstIndex) };
  const res = newKindResult();
  setPlanMemoryConstants(ctx, plan, mv, mb, res);
  const out: number[] = [];
  for (let r = 0; r < plan.pp; r++) {
    const k = kinds.kindOf[r];
    one.firstIndex[k] = r;
    evalStageKind(ctx, plan, one, k, lv, lb, mv, mb, ppS, res);
    out.push(res.allocBytes);
  }
  return out;
}

/** Scores one plan into `out` (no allocation). */
export function scorePlan(ctx: ScoreContext, plan: Plan, out: Estimate): Estimate {
  const mv = ctx.mappingMemo.vals;
  const mb = mappingBase(ctx, plan);
  const lv = ctx.layerMemo.vals;
  const lb = layerBase(ctx, plan);
  const pp = plan.pp;
  const m = plan.numMicroBatches;
  const cal = ctx.cal;
  const ppS = ppExposedTimeS(ctx, plan, mv, mb);
  const kinds = stageKindsOf(ctx, plan);
  const res = ctx.kindResult;
  setPlanMemoryConstants(ctx, plan, mv, mb, res);

  let tMax = -1;
  let kMax = 0;
  let tSum = 0;
  let dpMax = 0;
  let optMax = 0;
  let memMax = -1;
  let allocMax = 0;
  const mem = out.mem;
  for (let k = 0; k < kinds.n; k++) {
    evalStageKind(ctx, plan, kinds, k, lv, lb, mv, mb, ppS, res);
    const t = res.timeS;
    tSum += kinds.count[k] * t;
    if (t > tMax) { tMax = t; kMax = k; }
    if (res.dpS > dpMax) dpMax = res.dpS;
    if (res.optimizerS > optMax) optMax = res.optimizerS;
    if (res.allocBytes > allocMax) allocMax = res.allocBytes; // Megatron's max allocated: the largest on any stage
    if (res.memBytes > memMax) {
      // the most loaded stage so far: keep its breakdown
      memMax = res.memBytes;
      mem.weightsBytes = res.weights;
      mem.fp8WeightCopiesBytes = res.memFp8Copies;
      mem.gradientsBytes = res.gradients;
      mem.optimizerStatesBytes = res.optimizer;
      mem.activationsBytes = res.memAct;
      mem.logitsBytes = res.memLogits;
      mem.dispatchBuffersBytes = res.memDispatch;
      mem.workspacesBytes = res.memWorkspaces;
      mem.cudaContextBytes = cal.cudaContextBytes;
      mem.ncclBuffersBytes = res.planNccl;
      mem.userBuffersBytes = res.planUserBuffers;
      mem.allocatorReserveBytes = res.memReserve;
    }
  }

  // breakdown of the slowest stage, × m micro-batches
  const nMoe = kinds.nMoe[kMax];
  const nDense = kinds.nDense[kMax];
  const nL = nDense + nMoe;
  const isFirst = (kinds.role[kMax] & STAGE_FIRST) !== 0;
  const isLast = (kinds.role[kMax] & STAGE_LAST) !== 0;
  const mtp = (kinds.role[kMax] & STAGE_MTP) !== 0 ? ctx.mtpLayers : 0;
  const time = out.time;
  const outTp = lv[lb + L.OutputTpS];
  time.attentionS = m * nL * lv[lb + L.AttnS];
  time.denseMlpS = m * nDense * lv[lb + L.DenseMlpS];
  time.expertsS = m * nMoe * lv[lb + L.MoeMlpS];
  time.recomputeS = m * (nDense * lv[lb + L.RecomputeDenseS] + nMoe * lv[lb + L.RecomputeMoeS]);
  time.tpCommS = m * (nDense * lv[lb + L.TpDenseS] + nMoe * lv[lb + L.TpMoeS] + (isLast ? outTp : 0) + mtp * outTp);
  time.cpCommS = m * nL * lv[lb + L.CpS];
  time.epCommS = m * nMoe * lv[lb + L.EpMoeS];
  time.ppCommS = m * ppS;
  time.otherComputeS = m * (nDense * (lv[lb + L.OverheadDenseS] + lv[lb + L.StealDenseS]) +
    nMoe * (lv[lb + L.OverheadMoeS] + lv[lb + L.StealMoeS]) + (isFirst ? lv[lb + L.EmbeddingS] : 0) +
    (isLast ? lv[lb + L.OutputS] : 0) + (mtp > 0 ? lv[lb + L.MtpExtraS] - mtp * outTp : 0)) + cal.stepOverheadS;
  time.bubbleS = pipelineBubbleTimeS(pp, plan.vpp, tSum / pp);
  time.dpCommS = dpMax;
  time.optimizerS = optMax;
  time.adaptersS = m * (nDense * lv[lb + L.AdapterDenseS] + nMoe * lv[lb + L.AdapterMoeS]);
  time.baseDecodeS = m * (nDense * lv[lb + L.BaseDecodeDenseS] + nMoe * lv[lb + L.BaseDecodeMoeS]);
  const step = time.attentionS + time.denseMlpS + time.expertsS + time.otherComputeS + time.recomputeS +
    time.tpCommS + time.cpCommS + time.epCommS + time.dpCommS + time.ppCommS + time.bubbleS + time.optimizerS +
    time.adaptersS + time.baseDecodeS;

  out.stepTimeS = step;
  const world = plan.tp * plan.cp * plan.dp * pp;
  out.tokensPerSPerGpu = ctx.tokensPerStep / step / world;
  out.tflopsPerGpu = ctx.flopsPerStep / step / world / 1e12;
  const peak = plan.precision === 'fp8' ? cal.denseFp8PeakFlops : cal.denseBf16PeakFlops;
  out.mfu = (out.tflopsPerGpu * 1e12) / peak;

  // the two memory figures of the most loaded stage (largest device figure): allocator side and device
  out.allocatedPeakBytes = allocMax;
  out.peakMemBytes = memMax;
  out.usableMemBytes = ctx.usableMemBytes;
  out.fits = out.peakMemBytes <= ctx.usableMemBytes;
  return out;
}
