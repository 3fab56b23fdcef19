/**
 * The per-layer, per-micro-batch costs of one plan (memo.ts L slot), composed from the cost terms in terms/, one
 * line per term. Depends on (tp, cp, ep, etp, mbs, recompute, dispatcher, precision, SP) only; runs on a layer-memo
 * miss.
 *   dense layer: attention + dense MLP + recompute + exposed TP + exposed CP + overhead + SM steal
 *                + LoRA adapters + per-GEMM base decode
 *   MoE layer:   attention + MoE MLP + recompute + exposed TP + exposed CP + exposed EP + overhead + SM steal
 *                + LoRA adapters + per-GEMM base decode
 * A frozen base (fine-tuning) takes its skipped wgrad GEMMs off the attention, MLP, expert and output-layer terms
 * (terms/base-weights.ts frozenWgradSkippedTimeS); a training job subtracts 0.
 */
import type { Plan } from '../enumerate/plan.js';
import type { ScoreContext } from './context.js';
import { L } from './memo.js';
import { epA2aOverlapRuns, tpCommOverlapRuns } from '../job/stack.js';
import { paddedVocabSize } from '../job/params.js';
import { groupTopology } from './topology.js';
import {
  attentionElementwiseFwdTimeS, attentionFwdTimeS, attentionTimeS, flashAttentionLayerBwdTimeS,
  flashAttentionLayerFwdTimeS, gqaProjectionFwdTimeS, mlaProjectionFwdTimeS, mlaUpProjectionFwdTimeS,
} from './terms/attention.js';
import { denseMlpFwdTimeS, denseMlpGemmsFwdTimeS, denseMlpTimeS } from './terms/dense-mlp.js';
import {
  alltoallSortPasses, moeActivationFnFwdTimeS, moeExpertGemmsFwdTimeS, moeMlpFwdTimeS, moeMlpTimeS,
  moePermuteActivationFwdTimeS, moeRouterFwdTimeS,
} from './terms/moe-compute.js';
import {
  epAllgatherDispatchFwdTimeS, epAlltoallTimeS, epDispatchBufferBytes, epDispatchFwdTimeS, epExposedFwdTimeS,
  epExposedTimeS, epFlexAlltoallTimeS, epFlexSms, epFlexSmStealTimeS, epStealTimeS, etpGatherScatterTimeS,
} from './terms/ep-dispatch.js';
import { tpCollectivePairTimeS, tpExposedTimeS, tpStealTimeS } from './terms/tp-comm.js';
import {
  cpBwdCorrectionBytes, cpFwdCorrectionBytes, cpKvBytes, cpRingPassExposedTimeS, cpRingPassHiddenTimeS, cpSendTimeS,
  cpStealTimeS, cpStepFixedTimeS,
} from './terms/cp-comm.js';
import {
  attentionSelectiveRecomputeTimeS, denseLayerRecomputeTimeS, mlaUpProjectionRecomputeTimeS, moeLayerRecomputeTimeS,
  normRecomputeTimeS,
} from './terms/recompute.js';
import {
  attentionActivationBytes, attentionSelectiveSavedBytes, denseLayerActivationBytes, dropoutMaskBytes,
  DROPOUT_MASKS_PER_LAYER, fullRecomputeBytesPerLayer, mlpActivationBytes, moeLayerActivationBytes,
} from './terms/activations.js';
import {
  embeddingTimeS, logitsBytes, mtpExtraTimeS, outputLayerGemmFwdTimeS, outputLayerTimeS,
} from './terms/edge-stages.js';
import { baseDecodePasses, baseDecodeTimeS, frozenWgradSkippedTimeS } from './terms/base-weights.js';
import { loraAdapterActivationBytes, loraAdapterFwdTimeS, loraAdapterTimeS } from './terms/lora-adapters.js';
import { denseLayerCompressedWeights, denseLayerTensors, moeLayerCompressedWeights, moeLayerTensors } from './finetune-shape.js';
import { denseLayerOverheadTimeS, moeLayerOverheadTimeS } from './terms/overhead.js';

/** Fills the layer slot at `b` in `v` for `plan`. */
export function fillLayerCosts(ctx: ScoreContext, plan: Plan, v: Float64Array, b: number): void {
  const cal = ctx.cal;
  const topo = groupTopology(plan, ctx.nvlinkDomainGpus, ctx.topo, ctx.rankOrder);
  const G = ctx.gpusPerNode;
  const model = ctx.model;
  const tp = plan.tp;
  const cp = plan.cp;
  const ep = plan.ep;
  const etp = plan.etp;
  const mbs = plan.microBatchSize;
  const fp8 = plan.precision === 'fp8';
  const sp = tp > 1 && plan.sequenceParallel;
  const h = ctx.hidden;
  const glu = ctx.glu;
  const tokA = (ctx.seq / cp) * mbs; // GEMM rows on the attention side (SP gathers the sequence over TP)
  const tokStored = sp ? tokA / tp : tokA;
  const heads = ctx.heads / tp;
  const kvHeads = ctx.kvHeads / tp;
  const dqk = ctx.dqk;
  const dv = ctx.dv;
  const mode = plan.recompute;
  const selective = mode === 'selective';
  const sel = ctx.selective;
  const tpHide = tpCommOverlapRuns(ctx.job, plan) ? ctx.cal.tpOverlapFraction : 0; // where the launch runs --tp-comm-overlap
  // fine-tuning: a frozen base skips its wgrad GEMMs; LoRA adapters; per-GEMM decode of compressed weights
  const ft = ctx.ft;
  const frozen = ft.frozen;
  const full = mode === 'full';
  const rank = ft.loraRank;
  const decodePasses = baseDecodePasses(full);

  // ---- attention ----
  const upProjF = ctx.mla ? mlaUpProjectionFwdTimeS(tokA, ctx.heads, tp, model.q_lora_rank, model.kv_lora_rank,
    model.qk_head_dim, model.qk_pos_emb_head_dim, model.v_head_dim, fp8, cal) : 0;
  const projF = ctx.mla ? mlaProjectionFwdTimeS(tokA, h, ctx.heads, tp, model.q_lora_rank, model.kv_lora_rank,
    model.qk_head_dim, model.qk_pos_emb_head_dim, model.v_head_dim, upProjF, fp8, cal)
    : gqaProjectionFwdTimeS(tokA, h, heads, kvHeads, dqk, dv, fp8, cal);
  const flashF = flashAttentionLayerFwdTimeS(mbs, ctx.seq, heads, dqk, dv, cp, ctx.windowShare, ctx.window, cal);
  const flashB = flashAttentionLayerBwdTimeS(mbs, ctx.seq, heads, dqk, dv, cp, ctx.windowShare, ctx.window, cal);
  const elemF = attentionElementwiseFwdTimeS(tokStored, tokA, h, (heads + kvHeads) * dqk, cal);
  const attnF = attentionFwdTimeS(projF, flashF, elemF);
  v[b + L.AttnS] = attentionTimeS(projF, elemF, flashF, flashB) - frozenWgradSkippedTimeS(frozen, projF);

  // ---- dense MLP ----
  const denseF = denseMlpFwdTimeS(tokA, h, ctx.ffn / tp, glu, fp8, cal);
  v[b + L.DenseMlpS] = denseMlpTimeS(denseF) -
    frozenWgradSkippedTimeS(frozen, denseMlpGemmsFwdTimeS(tokA, h, ctx.ffn / tp, glu, fp8, cal));
  const adapterAttnF = loraAdapterFwdTimeS(ft.adaptAttn, tokA, rank, tp, cal);
  v[b + L.AdapterDenseS] = loraAdapterTimeS(adapterAttnF + loraAdapterFwdTimeS(ft.adaptDenseMlp, tokA, rank, tp, cal), full);
  v[b + L.BaseDecodeDenseS] = ft.decodePerGemm ? baseDecodeTimeS(denseLayerCompressedWeights(ft, tp),
    denseLayerTensors(ft), decodePasses, ft.storedBytesPerWeight, ft.codebookBytesPerTensor, cal) : 0;

  // ---- TP (one forward pair of the full gathered activation), CP ring ----
  const tpPair = tpCollectivePairTimeS(tokA * h * 2, tp, topo.tpNodes, sp, G, cal);
  // CP ring (TE p2p): per step the K/V send against the step's block, plus the per-step fixed work
  const kvBytes = cpKvBytes(tokA, kvHeads, dqk, dv);
  const cpSendF = cpSendTimeS(kvBytes, topo.cpNodes > 1, G, cal);
  const cpSendB = cpSendTimeS(2 * kvBytes, topo.cpNodes > 1, G, cal);
  const cpExposed = cpRingPassExposedTimeS(cpSendF, flashF, cp, cpStepFixedTimeS(cpFwdCorrectionBytes(tokA, heads, dv), cal)) +
    cpRingPassExposedTimeS(cpSendB, flashB, cp,
      cpStepFixedTimeS(cpBwdCorrectionBytes(tokA, heads, kvHeads, dqk, dv), cal));
  const cpHidden = cpRingPassHiddenTimeS(cpSendF, flashF, cp) + cpRingPassHiddenTimeS(cpSendB, flashB, cp);
  v[b + L.TpDenseS] = tpExposedTimeS(4, tpPair, tpHide);
  v[b + L.CpS] = cpExposed;
  const stealD = tpStealTimeS(4, tpPair, tpHide, cal) + cpStealTimeS(cpHidden, cal);
  v[b + L.StealDenseS] = stealD;

  // ---- recompute (dense) ----
  const qkvWidth = heads * dqk + kvHeads * dqk + kvHeads * dv;
  const attnNormRecS = ctx.mla ? normRecomputeTimeS(tokStored, h, cal) : 0;
  const upProjRecS = ctx.mla ? mlaUpProjectionRecomputeTimeS(upProjF, tokA, qkvWidth, cal) : 0;
  const recAttnSel = attentionSelectiveRecomputeTimeS(sel, flashF, attnNormRecS, upProjRecS);
  v[b + L.RecomputeDenseS] = denseLayerRecomputeTimeS(mode, sel, recAttnSel, attnF, denseF,
    tpExposedTimeS(1, tpPair, tpHide), tpExposedTimeS(2, tpPair, tpHide));
  v[b + L.OverheadDenseS] = denseLayerOverheadTimeS(cal);

  // ---- activations (dense) ----
  const gemmIn = fp8 ? 1 : 2;
  const attnAct = attentionActivationBytes(tokA, h, qkvWidth + heads * dv, ctx.latentWidth, tp, sp, gemmIn);
  const attnSave = selective && ctx.mla
    ? attentionSelectiveSavedBytes(sel.layernorm, sel.mlaUpProj, tokA, tokStored, h, qkvWidth, gemmIn) : 0;
  const masks = dropoutMaskBytes(tokStored, h, DROPOUT_MASKS_PER_LAYER, ctx.hiddenDropout);
  const adapterAttnAct = loraAdapterActivationBytes(ft.adaptAttn, tokA, rank);
  v[b + L.ActDenseBytes] = denseLayerActivationBytes(attnAct, attnSave,
    mlpActivationBytes(tokA, h, ctx.ffn / tp, glu, tp, sp, gemmIn), selective && sel.mlp === 1) + masks +
    adapterAttnAct + loraAdapterActivationBytes(ft.adaptDenseMlp, tokA, rank);
  v[b + L.ActLayerInputBytes] = fullRecomputeBytesPerLayer(tokA, h, tp, sp);

  // ---- MoE layer ----
  if (ctx.isMoe) {
    const E = ctx.numExperts;
    const k = ctx.topk;
    const loadFactor = 1 + ctx.imbalance;
    const tokMoe = tp > 1 ? tokA / tp : tokA;
    const rows = tokMoe * k * etp * loadFactor; // routed rows on the most loaded rank after dispatch + ETP gather
    const localExperts = E / ep;
    const fe = ctx.expertFfn / etp;
    const fs = ctx.sharedFfn / tp;
    const sharedF = ctx.sharedFfn > 0 ? denseMlpFwdTimeS(tokA, h, fs, glu, fp8, cal) : 0;
    const expertGemmsF = moeExpertGemmsFwdTimeS(localExperts, rows, h, fe, glu, fp8, cal);
    const moeF = moeMlpFwdTimeS(moeRouterFwdTimeS(tokMoe, E, h, cal), expertGemmsF,
      moePermuteActivationFwdTimeS(rows, h, fe, glu, alltoallSortPasses(plan.dispatcher, ep, localExperts, cal), cal),
      sharedF);
    const sharedGemmsF = ctx.sharedFfn > 0 ? denseMlpGemmsFwdTimeS(tokA, h, fs, glu, fp8, cal) : 0;
    v[b + L.MoeMlpS] = moeMlpTimeS(moeF) - frozenWgradSkippedTimeS(frozen, expertGemmsF + sharedGemmsF);
    v[b + L.AdapterMoeS] = loraAdapterTimeS(adapterAttnF + loraAdapterFwdTimeS(ft.adaptExpert, rows, rank, etp, cal) +
      loraAdapterFwdTimeS(ft.adaptShared, tokA, rank, tp, cal), full);
    v[b + L.BaseDecodeMoeS] = ft.decodePerGemm ? baseDecodeTimeS(moeLayerCompressedWeights(ft, tp, localExperts, etp),
      moeLayerTensors(ft, localExperts), decodePasses, ft.storedBytesPerWeight, ft.codebookBytesPerTensor, cal) : 0;
    const sharedTp = ctx.sharedFfn > 0 ? tpPair : 0; // the shared expert's own SP gather / scatter
    v[b + L.TpMoeS] = tpExposedTimeS(2, tpPair + sharedTp, tpHide);

    // EP dispatch + combine (forward), then exposed fwd + bwd
    const sendBytes = tokMoe * k * h * 2 * loadFactor;
    const a2a = plan.dispatcher === 'flex'
      ? epFlexAlltoallTimeS(tokMoe, h, loadFactor, k, ep, topo.epNodes, topo.epPerNode, G, cal)
      : epAlltoallTimeS(sendBytes, ep, topo.epNodes, topo.epPerNode, G, cal);
    const epFwd = epDispatchFwdTimeS(plan.dispatcher, a2a,
      epAllgatherDispatchFwdTimeS(tokMoe, h, ep * etp, topo.etpEpNodes, G, cal),
      etpGatherScatterTimeS(rows * h * 2, etp, topo.etpNodes, G, cal), etp);
    // the 1F1B EP overlap runs where Megatron runs it (epA2aOverlapRuns; the memo key tells those plans apart)
    const epHide = epA2aOverlapRuns(ctx.job, plan) ? ctx.epA2aOverlapHiddenFraction : ctx.epHiddenFraction;
    v[b + L.EpMoeS] = epExposedTimeS(epFwd, epHide);
    const epSteal = plan.dispatcher === 'flex'
      ? epFlexSmStealTimeS(epFwd, epHide, epFlexSms(ctx.job.training.moe_flex_dispatcher_backend, cal), cal)
      : epStealTimeS(epFwd, epHide, cal);
    v[b + L.StealMoeS] = stealD + tpStealTimeS(2, tpPair + sharedTp, tpHide, cal) + epSteal;

    v[b + L.RecomputeMoeS] = moeLayerRecomputeTimeS(mode, sel, recAttnSel, attnF, normRecomputeTimeS(tokMoe, h, cal),
      moeF, moeActivationFnFwdTimeS(rows, fe, glu, cal), tpExposedTimeS(1, tpPair + sharedTp, tpHide),
      tpExposedTimeS(1, sharedTp, tpHide), epExposedFwdTimeS(epFwd, epHide));
    v[b + L.OverheadMoeS] = moeLayerOverheadTimeS(rows, cal);
    v[b + L.ActMoeBytes] = moeLayerActivationBytes(attnAct, attnSave, tokMoe, tokA, tokStored, h, E, k, etp, fe, glu,
      ctx.sharedFfn > 0 ? fs : 0, tp, sp, gemmIn, selective && sel.layernorm === 1, selective && sel.moe === 1,
      selective && sel.moeAct === 1) + masks +
      adapterAttnAct + loraAdapterActivationBytes(ft.adaptExpert, rows, rank) + loraAdapterActivationBytes(ft.adaptShared, tokA, rank);
    v[b + L.DispatchBufferBytes] = epDispatchBufferBytes(plan.dispatcher, rows, tokMoe, h, ep, etp);
  } else {
    v[b + L.MoeMlpS] = 0; v[b + L.TpMoeS] = 0; v[b + L.EpMoeS] = 0; v[b + L.StealMoeS] = stealD;
    v[b + L.RecomputeMoeS] = 0; v[b + L.OverheadMoeS] = 0; v[b + L.ActMoeBytes] = 0; v[b + L.DispatchBufferBytes] = 0;
    v[b + L.AdapterMoeS] = 0; v[b + L.BaseDecodeMoeS] = 0;
  }

  // ---- first / last stage extras (the embedding output is the first layer's input, counted there) ----
  const vocabLocal = paddedVocabSize(model, tp) / tp;
  const outS = outputLayerTimeS(tokA, tokStored, vocabLocal, h, cal) -
    frozenWgradSkippedTimeS(frozen, outputLayerGemmFwdTimeS(tokA, vocabLocal, h, cal));
  const outTp = sp ? tpExposedTimeS(1, tpPair, tpHide) : 0; // SP gathers before the output GEMM
  v[b + L.EmbeddingS] = embeddingTimeS(tokStored, h, cal);
  v[b + L.OutputS] = outS;
  v[b + L.OutputTpS] = outTp;
  v[b + L.MtpExtraS] = mtpExtraTimeS(ctx.mtpLayers, tokA, h, outS, outTp, fp8, cal);
  v[b + L.LogitsBytes] = logitsBytes(tokA, vocabLocal, ctx.logitsBytesPerElement);

  v[b + L.DenseLayerS] = v[b + L.AttnS] + v[b + L.DenseMlpS] + v[b + L.RecomputeDenseS] + v[b + L.TpDenseS] +
    v[b + L.CpS] + v[b + L.OverheadDenseS] + v[b + L.StealDenseS] + v[b + L.AdapterDenseS] + v[b + L.BaseDecodeDenseS];
  v[b + L.MoeLayerS] = v[b + L.AttnS] + v[b + L.MoeMlpS] + v[b + L.RecomputeMoeS] + v[b + L.TpMoeS] + v[b + L.CpS] +
    v[b + L.EpMoeS] + v[b + L.OverheadMoeS] + v[b + L.StealMoeS] + v[b + L.AdapterMoeS] + v[b + L.BaseDecodeMoeS];
}
