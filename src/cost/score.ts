/**
 * The scorer: estimated step time (with breakdown), throughput, MFU and peak memory of one plan.
 * makeScoreContext precomputes every per-job constant once; scorePlan reads it and the plan, writes into the
 * caller's Estimate and allocates nothing (it runs millions of times per search).
 *
 * Step model (per micro-batch and pipeline stage r, then the schedule):
 *   t_r = Σ_layers (compute fwd + bwd + recompute + exposed TP/CP/EP comm + per-layer overhead)
 *         + embedding (first stage) + output layer, loss, MTP (last stage) + exposed PP send/recv;
 *   step = m · max_r t_r + (pp − 1)/vpp · mean_r t_r (bubble) + max_r exposed DP comm + optimizer + fixed overhead.
 * The breakdown reports the slowest stage's components × m; bubbleS holds the pipeline fill/drain.
 *
 * Speed: per-layer costs depend only on (tp, cp, ep, etp, mbs, recompute, dispatcher, precision, SP) and the
 * mapping terms (parameters per layer, DP collective coefficients, pipeline placement) only on (tp, cp, dp, pp, ep,
 * etp, optimizer, precision): both live in direct-mapped memos of typed arrays keyed by those integers. Stages are
 * grouped into kinds with the same layer mix (stage-layout.ts), so the stage loop runs once per kind, not per stage.
 */
import type { Job, ModelShape, ModelSpec } from '../spec/types.js';
import type { Plan } from '../enumerate/plan.js';
import type { Estimate, MemoryBreakdown } from './estimate.js';
import type { Calibration } from './calibration.js';
import { gemmTimeS, groupedGemmTimeS } from './gemm.js';
import {
  activationFnBytes, attentionElementwiseBytes, coreAttentionFwdFlops, flashAttentionBwdTimeS, flashAttentionFwdTimeS,
  memoryBoundTimeS, normForwardBytes, permuteBytes,
} from './compute.js';
import {
  allToAllTimeS, collectiveAlphaS, nicBytesPerSPerGpu, p2pTimeS, ringAllGatherTimeS, ringAllReduceTimeS,
  ringReduceScatterTimeS,
} from './comm.js';
import { groupTopology, newGroupTopology, nodesSpanned, type GroupTopology } from './topology.js';
import {
  ADAM_FP32_STATE_BYTES_PER_PARAM, LOGITS_BYTES_PER_ELEMENT_UNFUSED, attentionActivationBytes,
  fullRecomputeBytesPerLayer, logitsBytes, mlpActivationBytes, moeActivationBytes,
} from './memory.js';
import { selectiveRecomputeModules } from '../enumerate/recompute-modules.js';
import { inflightMicrobatches } from './pipeline.js';
import { STAGE_FIRST, STAGE_LAST, StageLayoutCache, type StageKinds } from './stage-layout.js';
import { layerParamCounts, paddedVocabSize, type LayerParamCounts } from './params.js';
import { modelFlopsPerToken } from './flops.js';

export type RoutingBalance = 'real' | 'forced';

export interface ScoreOptions {
  /** MoE routing load: 'real' (dropless with aux loss, the planning default) or 'forced' (balanced benchmarks). */
  routing?: RoutingBalance;
  /**
   * Megatron --recompute-modules that plan.recompute 'selective' stands for. Default: moefold's meaning of
   * 'selective', selectiveRecomputeModules(job.model) (the list the Megatron export emits). Known: core_attn,
   * layernorm (norms Transformer Engine does not fuse into the next GEMM: the MoE pre-MLP norm and the MLA input
   * norm), mla_up_proj, mlp (dense MLP layers only, as in Megatron), moe (whole MoE layer), moe_act (expert
   * activation function).
   */
  recomputeModules?: readonly string[];
  // Software facts a plan does not choose. The defaults are what moefold's Megatron-LM export runs; the accuracy
  // script overrides them for published runs whose recipe says otherwise.
  /** Main-gradient buffer bytes per parameter, also the DP reduce width (default: calibration's 4, fp32). */
  gradBytesPerParam?: number;
  /** Optimizer state bytes per parameter before sharding (default 12: fp32 master + Adam m, v). */
  optimizerStateBytesPerParam?: number;
  /** Peak logits/loss bytes per logit element (default 6, Megatron's unfused cross entropy; 2 with TE's fused one). */
  logitsBytesPerElement?: number;
  /** --overlap-moe-expert-parallel-comm (1F1B EP all-to-all overlap; not a plan option): default false. */
  epA2aOverlap?: boolean;
}

/** Which modules 'selective' recomputes (1 = yes). */
export interface SelectiveModules {
  coreAttn: number; layernorm: number; mlaUpProj: number; mlp: number; moe: number; moeAct: number;
}

export const RECOMPUTE_MODULES: readonly string[] = ['core_attn', 'layernorm', 'mla_up_proj', 'mlp', 'moe', 'moe_act'];

function selectiveModules(mods: readonly string[]): SelectiveModules {
  for (const x of mods) {
    if (!RECOMPUTE_MODULES.includes(x)) {
      throw new Error(`recomputeModules: unknown module '${x}' (known: ${RECOMPUTE_MODULES.join(', ')})`);
    }
  }
  const has = (x: string): number => (mods.includes(x) ? 1 : 0);
  return {
    coreAttn: has('core_attn'), layernorm: has('layernorm'), mlaUpProj: has('mla_up_proj'), mlp: has('mlp'),
    moe: has('moe'), moeAct: has('moe_act'),
  };
}

/** Per-plan numbers shared by the stage loop (scratch, overwritten by every scorePlan call). */
interface PlanScratch {
  // per layer per micro-batch, seconds (fwd + bwd)
  attnC: number; denseMlpC: number; moeC: number;
  /** Sum of the per-layer time terms of a dense / MoE layer. */
  perD: number; perM: number;
  recD: number; recM: number;
  tpD: number; tpM: number; cpL: number; epM: number;
  ovD: number; ovM: number; stealD: number; stealM: number;
  embC: number; outC: number; outTp: number; mtpExtraC: number;
  // per layer per micro-batch, bytes
  actD: number; actM: number; actIn: number; logits: number; dispatchBuf: number;
  // per layer params on this rank
  denseLayerParams: number; moeLayerDenseParams: number; moeLayerExpertParams: number;
  embParams: number; outParams: number;
  weightBytesPerParam: number;
  /** 1 when a pipeline neighbour is on another node. */
  ppInterNode: number;
  /** DP collectives as alpha + bytes × perByte (dense over DP×CP, experts over EDP); 0 when the group is 1 rank. */
  dpRsAlpha: number; dpRsPerByte: number; dpAgAlpha: number; dpAgPerByte: number; dpArAlpha: number; dpArPerByte: number;
  edpRsAlpha: number; edpRsPerByte: number; edpAgAlpha: number; edpAgPerByte: number; edpArAlpha: number;
  edpArPerByte: number;
}

export interface ScoreContext {
  job: Job;
  model: ModelSpec;
  shape: ModelShape;
  cal: Calibration;
  seq: number;
  gbs: number;
  hidden: number;
  numLayers: number;
  gpusPerNode: number;
  world: number;
  isMoe: boolean;
  numExperts: number;
  topk: number;
  glu: number;
  heads: number;
  kvHeads: number;
  /** Q/K head dim (MLA: qk + rope) and V head dim. */
  dqk: number;
  dv: number;
  mla: boolean;
  /** MLA latent widths stored per token (q-LoRA + kv-LoRA + rope), 0 otherwise. */
  latentWidth: number;
  ffn: number;
  expertFfn: number;
  sharedFfn: number;
  params: LayerParamCounts;
  /** Learned absolute position embedding parameters (first stage, replicated), 0 for RoPE. */
  posEmbParams: number;
  /** moePrefix[i] = MoE layers among decoder layers [0, i). */
  moePrefix: Int32Array;
  mtpLayers: number;
  mtpIsMoe: boolean;
  routing: RoutingBalance;
  imbalance: number;
  selective: SelectiveModules;
  gradBytesPerParam: number;
  optimizerStateBytesPerParam: number;
  logitsBytesPerElement: number;
  /** Share of the EP all-to-all hidden (cal.epOverlapFraction, or cal.epA2aOverlapFraction under epA2aOverlap). */
  epHiddenFraction: number;
  flopsPerToken: number;
  flopsPerStep: number;
  usableMemBytes: number;
  /** gbs × seq. */
  tokensPerStep: number;
  topo: GroupTopology;
  stages: StageLayoutCache;
  kindResult: KindResult;
  s: PlanScratch;
  /** Memo of per-layer costs keyed by (tp, cp, ep, etp, mbs, recompute/dispatcher/precision/SP code), 6 ints a slot. */
  layerKeys: Int32Array;
  layerVals: Float64Array;
  /** Memo of the mapping-dependent terms keyed by (tp, cp, dp, pp, ep, etp, optimizer/precision code), 7 ints a slot. */
  mappingKeys: Int32Array;
  mappingVals: Float64Array;
}

/** Direct-mapped memo size (entries) for per-layer costs. */
const LAYER_CACHE_SIZE = 4096;
/** Offsets of the per-layer costs in a layer-memo slot (PlanScratch fields of the same names). */
const L_ATTN_C = 0;
const L_DENSE_MLP_C = 1;
const L_MOE_C = 2;
const L_REC_D = 3;
const L_REC_M = 4;
const L_TP_D = 5;
const L_TP_M = 6;
const L_CP_L = 7;
const L_EP_M = 8;
const L_OV_D = 9;
const L_OV_M = 10;
const L_STEAL_D = 11;
const L_STEAL_M = 12;
const L_EMB_C = 13;
const L_OUT_C = 14;
const L_OUT_TP = 15;
const L_MTP_EXTRA_C = 16;
const L_ACT_D = 17;
const L_ACT_M = 18;
const L_ACT_IN = 19;
const L_LOGITS = 20;
const L_DISPATCH_BUF = 21;
const L_PER_D = 22;
const L_PER_M = 23;
const LAYER_FIELDS = [
  'attnC', 'denseMlpC', 'moeC', 'recD', 'recM', 'tpD', 'tpM', 'cpL', 'epM', 'ovD', 'ovM', 'stealD', 'stealM', 'embC', 'outC', 'outTp', 'mtpExtraC', 'actD', 'actM', 'actIn', 'logits', 'dispatchBuf', 'perD', 'perM',
] as const;
const NL = LAYER_FIELDS.length;

/** Direct-mapped memo size (entries) for the mapping-dependent terms. */
const MAPPING_CACHE_SIZE = 1024;
/** Offsets of the mapping-dependent terms in a mapping-memo slot (PlanScratch fields of the same names). */
const M_DENSE_LAYER_PARAMS = 0;
const M_MOE_LAYER_DENSE_PARAMS = 1;
const M_MOE_LAYER_EXPERT_PARAMS = 2;
const M_EMB_PARAMS = 3;
const M_OUT_PARAMS = 4;
const M_WEIGHT_BYTES_PER_PARAM = 5;
const M_PP_INTER_NODE = 6;
const M_DP_RS_ALPHA = 7;
const M_DP_RS_PER_BYTE = 8;
const M_DP_AG_ALPHA = 9;
const M_DP_AG_PER_BYTE = 10;
const M_DP_AR_ALPHA = 11;
const M_DP_AR_PER_BYTE = 12;
const M_EDP_RS_ALPHA = 13;
const M_EDP_RS_PER_BYTE = 14;
const M_EDP_AG_ALPHA = 15;
const M_EDP_AG_PER_BYTE = 16;
const M_EDP_AR_ALPHA = 17;
const M_EDP_AR_PER_BYTE = 18;
const MAPPING_FIELDS = 19;

function newScratch(): PlanScratch {
  return {
    attnC: 0, denseMlpC: 0, moeC: 0, recD: 0, recM: 0, tpD: 0, tpM: 0, cpL: 0, epM: 0, ovD: 0, ovM: 0,
    stealD: 0, stealM: 0, embC: 0, outC: 0, outTp: 0, mtpExtraC: 0,
    actD: 0, actM: 0, actIn: 0, logits: 0, dispatchBuf: 0,
    denseLayerParams: 0, moeLayerDenseParams: 0, moeLayerExpertParams: 0, embParams: 0, outParams: 0,
    perD: 0, perM: 0, weightBytesPerParam: 2, ppInterNode: 0,
    dpRsAlpha: 0, dpRsPerByte: 0, dpAgAlpha: 0, dpAgPerByte: 0, dpArAlpha: 0, dpArPerByte: 0,
    edpRsAlpha: 0, edpRsPerByte: 0, edpAgAlpha: 0, edpAgPerByte: 0, edpArAlpha: 0, edpArPerByte: 0,
  };
}

/** Precomputes every per-job constant. */
export function makeScoreContext(job: Job, shape: ModelShape, cal: Calibration, opts: ScoreOptions = {}): ScoreContext {
  const m = job.model;
  const L = m.num_layers;
  const moePrefix = new Int32Array(L + 1);
  for (let i = 0; i < L; i++) moePrefix[i + 1] = moePrefix[i] + (shape.moeLayerMask[i] === 1 ? 1 : 0);
  const isMoe = m.num_experts > 0 && shape.numMoeLayers > 0;
  const routing: RoutingBalance = opts.routing ?? 'real';
  const seq = job.training.seq_length;
  const vocab1 = paddedVocabSize(m, 1);
  const flopsPerToken = modelFlopsPerToken(m, shape, seq, vocab1);
  const mla = m.multi_latent_attention;
  const mtpIsMoe = L > 0 && shape.moeLayerMask[L - 1] === 1;
  return {
    job, model: m, shape, cal,
    seq,
    gbs: job.training.global_batch_size,
    hidden: m.hidden_size,
    numLayers: L,
    gpusPerNode: job.cluster.gpus_per_node,
    world: job.cluster.gpus,
    isMoe,
    numExperts: isMoe ? m.num_experts : 0,
    topk: isMoe ? m.moe_router_topk : 0,
    glu: m.swiglu ? 2 : 1,
    heads: m.num_attention_heads,
    kvHeads: mla ? m.num_attention_heads : m.num_query_groups,
    dqk: mla ? m.qk_head_dim + m.qk_pos_emb_head_dim : m.kv_channels,
    dv: mla ? m.v_head_dim : m.kv_channels,
    mla,
    latentWidth: mla ? m.q_lora_rank + m.kv_lora_rank + m.qk_pos_emb_head_dim : 0,
    ffn: m.ffn_hidden_size,
    expertFfn: m.moe_ffn_hidden_size,
    sharedFfn: m.moe_shared_expert_intermediate_size,
    params: layerParamCounts(m),
    posEmbParams: m.position_embedding_type === 'learned_absolute' ? m.max_position_embeddings * m.hidden_size : 0,
    moePrefix,
    mtpLayers: m.mtp_num_layers,
    mtpIsMoe,
    routing,
    imbalance: routing === 'real' ? cal.routingImbalanceReal : cal.routingImbalanceForced,
    selective: selectiveModules(opts.recomputeModules ?? selectiveRecomputeModules(m)),
    gradBytesPerParam: opts.gradBytesPerParam ?? cal.gradReduceBytesPerParam,
    optimizerStateBytesPerParam: opts.optimizerStateBytesPerParam ?? ADAM_FP32_STATE_BYTES_PER_PARAM,
    logitsBytesPerElement: opts.logitsBytesPerElement ?? LOGITS_BYTES_PER_ELEMENT_UNFUSED,
    epHiddenFraction: opts.epA2aOverlap ? cal.epA2aOverlapFraction : cal.epOverlapFraction,
    flopsPerToken,
    flopsPerStep: flopsPerToken * seq * job.training.global_batch_size,
    usableMemBytes: cal.hbmCapacityBytes - cal.reservedBytes,
    tokensPerStep: seq * job.training.global_batch_size,
    topo: newGroupTopology(),
    stages: new StageLayoutCache(L, moePrefix, mtpIsMoe ? 0 : m.mtp_num_layers, mtpIsMoe ? m.mtp_num_layers : 0),
    kindResult: {
      timeS: 0, dpS: 0, optimizerS: 0, memBytes: 0, memWeights: 0, memGrads: 0, memOpt: 0, memAct: 0, memLogits: 0,
      memComm: 0, memOverhead: 0,
    },
    s: newScratch(),
    layerKeys: new Int32Array(LAYER_CACHE_SIZE * 6).fill(-1),
    layerVals: new Float64Array(LAYER_CACHE_SIZE * NL),
    mappingKeys: new Int32Array(MAPPING_CACHE_SIZE * 7).fill(-1),
    mappingVals: new Float64Array(MAPPING_CACHE_SIZE * MAPPING_FIELDS),
  };
}

/** Model FLOPs per step (Megatron convention, causal attention, vocabulary padded at TP = 1). */
export function modelFlopsPerStep(ctx: ScoreContext): number {
  return ctx.flopsPerStep;
}

/** Parameters on this rank per layer kind and per stage extra (fills ctx.s; depends on tp, ep, etp, pp only). */
function fillParams(ctx: ScoreContext, plan: Plan): void {
  const s = ctx.s;
  const p = ctx.params;
  const tp = plan.tp;
  const attn = p.attnTpParams / tp + p.attnReplicatedParams;
  s.denseLayerParams = attn + p.denseMlpTpParams / tp + p.mlpNormParams;
  s.moeLayerDenseParams = ctx.isMoe ? attn + p.sharedExpertTpParams / tp + p.mlpNormParams + p.routerParams : 0;
  s.moeLayerExpertParams = ctx.isMoe ? (p.expertParams * (ctx.numExperts / plan.ep)) / plan.etp : 0;
  const vocabLocal = paddedVocabSize(ctx.model, tp) / tp;
  s.embParams = vocabLocal * ctx.hidden + ctx.posEmbParams;
  // The last stage holds the output layer (a copy of the tied embedding when pp > 1), the final norm and the MTP
  // extras (each MTP layer's transformer layer is counted as a layer of the last stage's kind).
  const needsOutput = ctx.model.untie_embeddings_and_output_weights || plan.pp > 1;
  // With MTP, Megatron also builds the input embedding on the last stage (the MTP layers embed the shifted
  // tokens); untied, that is a second vocab×hidden matrix beside the output layer.
  const mtpEmbedding = ctx.mtpLayers > 0 && plan.pp > 1 && ctx.model.untie_embeddings_and_output_weights;
  s.outParams = (needsOutput ? vocabLocal * ctx.hidden : 0) + (mtpEmbedding ? vocabLocal * ctx.hidden : 0) +
    p.mlpNormParams + ctx.mtpLayers * (p.mtpProjTpParams / tp + p.mtpNormParams);
  s.weightBytesPerParam = 2 + (plan.precision === 'fp8' ? ctx.cal.fp8WeightCopyBytesPerParam : 0);
}

/**
 * Weights + gradients + optimizer states (+ framework overhead and communication buffers) of the most loaded
 * stage: independent of micro-batch size, recompute and dispatcher. A lower bound of scorePlan's peak memory.
 */
export function staticMemoryBytes(ctx: ScoreContext, plan: Plan): number {
  const mv = ctx.mappingVals;
  const mb = mappingSlot(ctx, plan);
  const cal = ctx.cal;
  const kinds = ctx.stages.get(plan.pp, plan.firstStageLayers, plan.lastStageLayers);
  const dpcp = plan.dp * plan.cp;
  const bytesPerParam = mv[mb + M_WEIGHT_BYTES_PER_PARAM] + ctx.gradBytesPerParam;
  const optB = ctx.optimizerStateBytesPerParam;
  let worst = 0;
  for (let k = 0; k < kinds.n; k++) {
    const nMoe = kinds.nMoe[k];
    const role = kinds.role[k];
    let dense = kinds.nDense[k] * mv[mb + M_DENSE_LAYER_PARAMS] + nMoe * mv[mb + M_MOE_LAYER_DENSE_PARAMS];
    if (role & STAGE_FIRST) dense += mv[mb + M_EMB_PARAMS];
    if (role & STAGE_LAST) dense += mv[mb + M_OUT_PARAMS];
    const expert = nMoe * mv[mb + M_MOE_LAYER_EXPERT_PARAMS];
    const params = dense + expert;
    const opt = optB * (plan.distributedOptimizer ? dense / dpcp + expert / plan.edp : params);
    const bytes = params * bytesPerParam + opt;
    if (bytes > worst) worst = bytes;
  }
  return worst + cal.frameworkOverheadBytes + cal.commBufferBytes;
}

/** Exposed part of an overlappable collective of `t` seconds with `window` seconds of compute to hide behind. */
function exposedOverlapS(t: number, window: number, maxFraction: number): number {
  const floor = t * (1 - maxFraction);
  const rest = t - window;
  return rest > floor ? rest : floor;
}

/** Fills ctx.s with the per-layer, per-micro-batch costs of `plan`. */
function fillLayerCosts(ctx: ScoreContext, plan: Plan): void {
  const cal = ctx.cal;
  const s = ctx.s;
  const topo = ctx.topo;
  const G = ctx.gpusPerNode;
  const tp = plan.tp;
  const cp = plan.cp;
  const ep = plan.ep;
  const etp = plan.etp;
  const b = plan.microBatchSize;
  const fp8 = plan.precision === 'fp8';
  const sp = tp > 1 && plan.sequenceParallel;
  const h = ctx.hidden;
  const seqLocal = ctx.seq / cp;
  const tokA = seqLocal * b; // GEMM rows on the attention side (SP gathers the sequence over TP)
  const tokStored = sp ? tokA / tp : tokA;
  const glu = ctx.glu;
  const heads = ctx.heads / tp;
  const kvHeads = ctx.kvHeads / tp;
  const model = ctx.model;

  // ---- attention (fwd) ----
  let attnGemmF: number;
  let upProjF = 0; // MLA up-projections (recomputed under mla_up_proj)
  if (ctx.mla) {
    const a = ctx.heads;
    const qk = ctx.dqk;
    attnGemmF = 0;
    if (model.q_lora_rank > 0) {
      attnGemmF += gemmTimeS(tokA, model.q_lora_rank, h, fp8, cal);
      upProjF += gemmTimeS(tokA, (a * qk) / tp, model.q_lora_rank, fp8, cal);
    } else {
      attnGemmF += gemmTimeS(tokA, (a * qk) / tp, h, fp8, cal);
    }
    attnGemmF += gemmTimeS(tokA, model.kv_lora_rank + model.qk_pos_emb_head_dim, h, fp8, cal);
    upProjF += gemmTimeS(tokA, (a * (model.qk_head_dim + model.v_head_dim)) / tp, model.kv_lora_rank, fp8, cal);
    attnGemmF += upProjF;
    attnGemmF += gemmTimeS(tokA, h, (a * ctx.dv) / tp, fp8, cal);
  } else {
    attnGemmF = gemmTimeS(tokA, (heads + 2 * kvHeads) * ctx.dqk, h, fp8, cal) +
      gemmTimeS(tokA, h, heads * ctx.dv, fp8, cal);
  }
  const coreFlops = coreAttentionFwdFlops(b, ctx.seq, heads, ctx.dqk, ctx.dv, cp);
  const flashF = flashAttentionFwdTimeS(coreFlops, seqLocal, cal);
  const flashB = flashAttentionBwdTimeS(coreFlops, seqLocal, cal);
  const attnElemF = memoryBoundTimeS(attentionElementwiseBytes(tokStored, tokA, h, (heads + kvHeads) * ctx.dqk), cal);
  const attnF = attnGemmF + flashF + attnElemF;
  s.attnC = 3 * (attnGemmF + attnElemF) + flashF + flashB;

  // ---- dense MLP (fwd) ----
  const ffnLocal = ctx.ffn / tp;
  const denseF = gemmTimeS(tokA, glu * ffnLocal, h, fp8, cal) + gemmTimeS(tokA, h, ffnLocal, fp8, cal) +
    memoryBoundTimeS(activationFnBytes(tokA, ffnLocal, glu), cal);
  s.denseMlpC = 3 * denseF;

  // ---- TP / SP collectives per layer (fwd + bwd), bytes of the full gathered activation ----
  const actBytes = tokA * h * 2;
  let tpPair = 0; // one forward "in + out" pair: AG + RS with SP, 2 × all-reduce without
  if (tp > 1) {
    tpPair = sp
      ? ringAllGatherTimeS(actBytes, tp, topo.tpNodes, G, cal) + ringReduceScatterTimeS(actBytes, tp, topo.tpNodes, G, cal)
      : ringAllReduceTimeS(actBytes, tp, topo.tpNodes, G, cal);
  }
  const tpExp = 1 - cal.tpOverlapFraction;
  const steal = cal.smStealFraction;
  // dense layer: attention pair + MLP pair, forward and backward
  s.tpD = 4 * tpPair * tpExp;
  s.stealD = 4 * tpPair * cal.tpOverlapFraction * steal;

  // ---- CP ring exchange of K/V (per layer), hidden behind attention ----
  s.cpL = 0;
  if (cp > 1) {
    const kvBytes = tokA * (kvHeads * ctx.dqk + kvHeads * ctx.dv) * 2;
    const inter = topo.cpNodes > 1;
    const tCp = (cp - 1) * (p2pTimeS(kvBytes, inter, G, cal) + p2pTimeS(2 * kvBytes, inter, G, cal));
    const hide = cal.cpOverlapFraction * (flashF + flashB);
    const exposed = tCp > hide ? tCp - hide : 0;
    s.cpL = exposed;
    s.stealD += (tCp - exposed) * steal;
  }
  s.stealM = s.stealD;

  // ---- recompute ----
  // selective: each module's forward again (core attention; the norms Transformer Engine keeps as separate
  // modules, i.e. the MLA input norm, fused into the QKV GEMM otherwise; MLA up-projections with RoPE; the dense MLP
  // with its SP gather/scatter); full: the whole layer forward with its TP collectives.
  const tpFwd = 2 * tpPair * tpExp;
  const sel = ctx.selective;
  const selective = plan.recompute === 'selective';
  const qkvWidth = heads * ctx.dqk + kvHeads * ctx.dqk + kvHeads * ctx.dv;
  const attnNormRecS = ctx.mla ? memoryBoundTimeS(normForwardBytes(tokStored, h), cal) : 0;
  const upProjRecS = ctx.mla ? upProjF + memoryBoundTimeS(2 * 2 * tokA * qkvWidth, cal) : 0;
  const recAttnSel = sel.coreAttn * flashF + sel.layernorm * attnNormRecS + sel.mlaUpProj * upProjRecS;
  if (selective) {
    s.recD = recAttnSel + sel.mlp * (denseF + tpPair * tpExp);
  } else if (plan.recompute === 'full') {
    s.recD = attnF + denseF + tpFwd;
  } else {
    s.recD = 0;
  }

  s.ovD = cal.denseLayerOverheadS;

  // ---- activations (bytes per layer per micro-batch) ----
  // attention saves Q, K (dqk per head), V (dv per kv head) and O (dv per q head)
  const qkvoWidth = qkvWidth + heads * ctx.dv;
  const gemmIn = fp8 ? 1 : 2;
  const attnAct = attentionActivationBytes(tokA, h, qkvoWidth, ctx.latentWidth, tp, sp, gemmIn);
  // selective frees: the MLA input-norm output (layernorm; the GQA norm is fused into the QKV GEMM, which keeps
  // its input), the MLA up-projected Q/K/V (mla_up_proj; the latents stay)
  let attnSave = 0;
  if (selective && ctx.mla) {
    attnSave = sel.layernorm * gemmIn * tokStored * h + sel.mlaUpProj * 2 * tokA * qkvWidth;
  }

  // ---- MoE layer ----
  if (ctx.isMoe) {
    const E = ctx.numExperts;
    const k = ctx.topk;
    const imb = 1 + ctx.imbalance;
    const tokMoe = tp > 1 ? tokA / tp : tokA;
    const rows = tokMoe * k * etp * imb; // routed rows on the most loaded rank after dispatch + ETP gather
    const localExperts = E / ep;
    const rowsPerExpert = rows / localExperts;
    const fe = ctx.expertFfn / etp;
    let moeF = gemmTimeS(tokMoe, E, h, false, cal) + memoryBoundTimeS(tokMoe * E * 4 * 4, cal);
    moeF += groupedGemmTimeS(localExperts, rowsPerExpert, glu * fe, h, fp8, cal) +
      groupedGemmTimeS(localExperts, rowsPerExpert, h, fe, fp8, cal);
    // permute + unpermute, plus the alltoall dispatcher's regrouping by local expert (sort_chunks) when it has > 1
    const sortPasses = plan.dispatcher === 'alltoall' && ep > 1 && localExperts > 1 ? cal.alltoallSortPasses : 0;
    moeF += memoryBoundTimeS(activationFnBytes(rows, fe, glu) + (1 + sortPasses) * permuteBytes(rows, h), cal);
    let sharedTp = 0;
    if (ctx.sharedFfn > 0) {
      const fs = ctx.sharedFfn / tp;
      moeF += gemmTimeS(tokA, glu * fs, h, fp8, cal) + gemmTimeS(tokA, h, fs, fp8, cal) +
        memoryBoundTimeS(activationFnBytes(tokA, fs, glu), cal);
      sharedTp = tpPair; // the shared expert's own SP gather / scatter
    }
    s.moeC = 3 * moeF;
    // attention pair (+ shared expert pair), forward and backward
    s.tpM = 2 * (tpPair + sharedTp) * tpExp;
    s.stealM += 2 * (tpPair + sharedTp) * cal.tpOverlapFraction * steal;

    // EP dispatch + combine, forward and backward (4 transfers); ETP gather/scatter of the routed rows
    const sendBytes = tokMoe * k * h * 2 * imb;
    const epNodes = topo.epNodes;
    let a2a = 0;
    if (plan.dispatcher === 'allgather') {
      const n = ep * etp;
      if (n > 1) {
        const nodes = nodesSpanned(1, n, G);
        const buf = tokMoe * h * 2 * n;
        a2a = ringAllGatherTimeS(buf, n, nodes, G, cal) + ringReduceScatterTimeS(buf, n, nodes, G, cal);
      }
      s.epM = a2a; // one forward: gather the tokens of the ETP×EP group, reduce-scatter the expert outputs
    } else {
      if (ep > 1) {
        const alpha = cal.epA2aAlphaS + (epNodes > 1 ? collectiveAlphaS(epNodes, cal) : 0);
        const nic = nicBytesPerSPerGpu(G, cal);
        if (plan.dispatcher === 'flex') {
          // DeepEP sends a token once per remote node it targets (expected distinct nodes of k picks).
          const per = topo.epPerNode;
          const intra = (sendBytes * (per - 1)) / ep / cal.epA2aNvlinkBusbwFlex;
          let inter = 0;
          if (epNodes > 1) {
            const remoteNodes = (epNodes - 1) * (1 - Math.pow(1 - 1 / epNodes, k));
            const rate = (nic * cal.epA2aNicBytesPerSFlex) / cal.nicBytesPerS;
            inter = (tokMoe * h * 2 * imb * remoteNodes) / rate;
          }
          a2a = alpha + (intra > inter ? intra : inter);
        } else {
          const rate = (nic * cal.epA2aNicBytesPerSNccl) / cal.nicBytesPerS;
          a2a = allToAllTimeS(sendBytes, ep, topo.epPerNode, cal.nvlinkAlltoallBusbw, rate, alpha);
        }
      }
      s.epM = 2 * a2a;
    }
    if (etp > 1 && plan.dispatcher !== 'allgather') { // allgather already gathers over ETP×EP
      const buf = rows * h * 2;
      s.epM += ringAllGatherTimeS(buf, etp, topo.etpNodes, G, cal) + ringReduceScatterTimeS(buf, etp, topo.etpNodes, G, cal);
    }
    // s.epM so far is one forward; backward mirrors it
    const epFwd = s.epM;
    const epTotal = 2 * epFwd;
    const epHide = ctx.epHiddenFraction;
    s.epM = epTotal * (1 - epHide);
    s.stealM += epTotal * epHide * steal;
    const actFnF = memoryBoundTimeS(activationFnBytes(rows, fe, glu), cal);
    const moeNormRecS = memoryBoundTimeS(normForwardBytes(tokMoe, h), cal);
    if (selective) {
      s.recM = recAttnSel + sel.layernorm * moeNormRecS +
        (sel.moe ? moeF + sharedTp * tpExp + epFwd * (1 - epHide) : sel.moeAct * actFnF);
    } else if (plan.recompute === 'full') {
      s.recM = attnF + moeF + (tpPair + sharedTp) * tpExp + epFwd * (1 - epHide);
    } else {
      s.recM = 0;
    }
    s.ovM = cal.moeLayerOverheadS + localExperts * cal.moeLocalExpertOverheadS;
    // the pre-MLP norm output (bf16) is the router's and dispatcher's input
    let moeIn = 2 * tokMoe * h;
    let moeInner = moeActivationBytes(tokMoe, tokMoe * k * etp, h, E, fe, glu, gemmIn) - moeIn;
    if (ctx.sharedFfn > 0) moeInner += mlpActivationBytes(tokA, h, ctx.sharedFfn / tp, glu, tp, sp, gemmIn) - gemmIn * tokStored * h;
    if (selective) {
      if (sel.layernorm) moeIn = 0; // the separate pre-MLP norm's output is dropped and recomputed
      if (sel.moe) moeInner = 0; // the whole MoE layer keeps only its input
      else if (sel.moeAct) moeInner -= tokMoe * k * etp * gemmIn * fe; // the activation output (FC2's input)
    }
    s.actM = attnAct - attnSave + moeIn + moeInner;
    // send + receive buffers of the most loaded layer; the allgather dispatcher holds the whole gathered group
    const gatheredBytes = plan.dispatcher === 'allgather' ? tokMoe * h * 2 * ep * etp : 0;
    s.dispatchBuf = 2 * rows * h * 2 > gatheredBytes ? 2 * rows * h * 2 : gatheredBytes;
  } else {
    s.moeC = 0; s.tpM = 0; s.epM = 0; s.recM = 0; s.ovM = 0; s.actM = 0; s.dispatchBuf = 0;
  }

  const mlpAct = mlpActivationBytes(tokA, h, ffnLocal, glu, tp, sp, gemmIn);
  // selective 'mlp' keeps only the MLP input (the residual, counted with attention): the fused norm's output, the
  // FC1 output and the activation output are dropped
  s.actD = attnAct - attnSave + (selective && sel.mlp ? 0 : mlpAct);
  s.actIn = fullRecomputeBytesPerLayer(tokA, h, tp, sp);
  // (the embedding output is the first layer's input, counted there; its backward needs only the token ids)

  // ---- first / last stage extras ----
  const vocabLocal = paddedVocabSize(model, tp) / tp;
  s.embC = memoryBoundTimeS(3 * 2 * tokStored * h, cal);
  const outGemm = gemmTimeS(tokA, vocabLocal, h, fp8, cal);
  const lossBytes = tokA * vocabLocal * 4 * 4;
  s.outC = 3 * outGemm + memoryBoundTimeS(lossBytes + 3 * 2 * tokStored * h, cal);
  s.outTp = sp ? (ringAllGatherTimeS(actBytes, tp, topo.tpNodes, G, cal) +
    ringReduceScatterTimeS(actBytes, tp, topo.tpNodes, G, cal)) * tpExp : 0;
  s.mtpExtraC = ctx.mtpLayers * (3 * gemmTimeS(tokA, h, 2 * h, fp8, cal) + s.outC + s.outTp);
  s.logits = logitsBytes(tokA, vocabLocal, ctx.logitsBytesPerElement);
  s.perD = s.attnC + s.denseMlpC + s.recD + s.tpD + s.cpL + s.ovD + s.stealD;
  s.perM = s.attnC + s.moeC + s.recM + s.tpM + s.cpL + s.epM + s.ovM + s.stealM;

}

/** Alpha and per-byte cost of the DP×CP (dense) and EDP (expert) collectives, read back from comm.ts's functions. */
function fillDpCoefficients(ctx: ScoreContext, plan: Plan): void {
  const s = ctx.s;
  const cal = ctx.cal;
  const G = ctx.gpusPerNode;
  const topo = ctx.topo;
  const dpcp = plan.dp * plan.cp;
  const edp = plan.edp;
  // t(bytes) = alpha + bytes·c: alpha from collectiveAlphaS, c = t(1 byte) − alpha; only the collectives the
  // optimizer mode uses (reduce-scatter + all-gather with the distributed optimizer, all-reduce without)
  const dOpt = plan.distributedOptimizer;
  const a = dpcp > 1 ? collectiveAlphaS(topo.dpcpNodes, cal) : 0;
  s.dpRsAlpha = a; s.dpAgAlpha = a; s.dpArAlpha = a;
  s.dpRsPerByte = dOpt && dpcp > 1 ? ringReduceScatterTimeS(1, dpcp, topo.dpcpNodes, G, cal) - a : 0;
  s.dpAgPerByte = dOpt && dpcp > 1 ? ringAllGatherTimeS(1, dpcp, topo.dpcpNodes, G, cal) - a : 0;
  s.dpArPerByte = !dOpt && dpcp > 1 ? ringAllReduceTimeS(1, dpcp, topo.dpcpNodes, G, cal) - a : 0;
  const e = edp > 1 ? collectiveAlphaS(topo.edpNodes, cal) : 0;
  s.edpRsAlpha = e; s.edpAgAlpha = e; s.edpArAlpha = e;
  s.edpRsPerByte = dOpt && edp > 1 ? ringReduceScatterTimeS(1, edp, topo.edpNodes, G, cal) - e : 0;
  s.edpAgPerByte = dOpt && edp > 1 ? ringAllGatherTimeS(1, edp, topo.edpNodes, G, cal) - e : 0;
  s.edpArPerByte = !dOpt && edp > 1 ? ringAllReduceTimeS(1, edp, topo.edpNodes, G, cal) - e : 0;
}


/**
 * Parameters per layer kind, pipeline neighbour placement and DP collective coefficients of the plan's mapping:
 * returns the offset of its slot in ctx.mappingVals (filled on a miss).
 */
function mappingSlot(ctx: ScoreContext, plan: Plan): number {
  const code = (plan.distributedOptimizer ? 2 : 0) + (plan.precision === 'fp8' ? 1 : 0);
  const tp = plan.tp;
  const cp = plan.cp;
  const dp = plan.dp;
  const pp = plan.pp;
  const ep = plan.ep;
  const etp = plan.etp;
  let h = Math.imul(tp, 0x9e3779b1) ^ Math.imul(cp + 7, 0x85ebca6b) ^ Math.imul(dp + 13, 0xc2b2ae35) ^
    Math.imul(pp + 29, 0x27d4eb2f) ^ Math.imul(ep + 31, 0x165667b1) ^ Math.imul(etp + 37, 0x2545f491) ^
    Math.imul(code + 41, 0x7feb352d);
  h ^= h >>> 15;
  const idx = h & (MAPPING_CACHE_SIZE - 1);
  const k = ctx.mappingKeys;
  const kb = idx * 7;
  const v = ctx.mappingVals;
  const b = idx * MAPPING_FIELDS;
  if (k[kb] === tp && k[kb + 1] === cp && k[kb + 2] === dp && k[kb + 3] === pp && k[kb + 4] === ep &&
    k[kb + 5] === etp && k[kb + 6] === code) {
    return b;
  }
  groupTopology(plan, ctx.gpusPerNode, ctx.topo);
  fillParams(ctx, plan);
  fillDpCoefficients(ctx, plan);
  ctx.s.ppInterNode = ctx.topo.ppInterNode ? 1 : 0;
  k[kb] = tp; k[kb + 1] = cp; k[kb + 2] = dp; k[kb + 3] = pp; k[kb + 4] = ep; k[kb + 5] = etp; k[kb + 6] = code;
  storeMappingCosts(ctx.s, v, b);
  return b;
}

function storeMappingCosts(s: PlanScratch, v: Float64Array, b: number): void {
  v[b + 0] = s.denseLayerParams;
  v[b + 1] = s.moeLayerDenseParams;
  v[b + 2] = s.moeLayerExpertParams;
  v[b + 3] = s.embParams;
  v[b + 4] = s.outParams;
  v[b + 5] = s.weightBytesPerParam;
  v[b + 6] = s.ppInterNode;
  v[b + 7] = s.dpRsAlpha;
  v[b + 8] = s.dpRsPerByte;
  v[b + 9] = s.dpAgAlpha;
  v[b + 10] = s.dpAgPerByte;
  v[b + 11] = s.dpArAlpha;
  v[b + 12] = s.dpArPerByte;
  v[b + 13] = s.edpRsAlpha;
  v[b + 14] = s.edpRsPerByte;
  v[b + 15] = s.edpAgAlpha;
  v[b + 16] = s.edpAgPerByte;
  v[b + 17] = s.edpArAlpha;
  v[b + 18] = s.edpArPerByte;
}

/** Per-stage results of the kind last evaluated by evalStageKind (scratch; mem* = MemoryBreakdown terms). */
interface KindResult {
  timeS: number; dpS: number; optimizerS: number; memBytes: number;
  memWeights: number; memGrads: number; memOpt: number; memAct: number; memLogits: number; memComm: number;
  memOverhead: number;
}

/**
 * Time per micro-batch, exposed DP time, optimizer time and peak memory (with its breakdown) of stage kind `k`, the
 * memory at the kind's earliest stage. Reads the layer costs at lv[lb + L_*] and the mapping terms at mv[mb + M_*];
 * `ppS` is the exposed pipeline send/recv time per micro-batch.
 */
function evalStageKind(ctx: ScoreContext, plan: Plan, kinds: StageKinds, k: number, lv: Float64Array, lb: number,
  mv: Float64Array, mb: number, ppS: number, res: KindResult): void {
  const cal = ctx.cal;
  const nDense = kinds.nDense[k];
  const nMoe = kinds.nMoe[k];
  const role = kinds.role[k];
  const first = (role & STAGE_FIRST) !== 0;
  const last = (role & STAGE_LAST) !== 0;

  // time per micro-batch
  let t = nDense * lv[lb + L_PER_D] + nMoe * lv[lb + L_PER_M] + ppS;
  if (first) t += lv[lb + L_EMB_C];
  if (last) t += lv[lb + L_OUT_C] + lv[lb + L_OUT_TP] + lv[lb + L_MTP_EXTRA_C];
  res.timeS = t;

  // parameters held
  let dense = nDense * mv[mb + M_DENSE_LAYER_PARAMS] + nMoe * mv[mb + M_MOE_LAYER_DENSE_PARAMS];
  if (first) dense += mv[mb + M_EMB_PARAMS];
  if (last) dense += mv[mb + M_OUT_PARAMS];
  const expert = nMoe * mv[mb + M_MOE_LAYER_EXPERT_PARAMS];
  const params = dense + expert;
  const dOpt = plan.distributedOptimizer;
  const owned = dOpt ? dense / (plan.dp * plan.cp) + expert / plan.edp : params;

  // exposed DP time: gradient reduce-scatter + parameter all-gather, or all-reduce
  const gb = ctx.gradBytesPerParam;
  if (dOpt) {
    const pb = cal.paramGatherBytesPerParam;
    const rs = (dense > 0 ? mv[mb + M_DP_RS_ALPHA] + dense * gb * mv[mb + M_DP_RS_PER_BYTE] : 0) +
      (expert > 0 ? mv[mb + M_EDP_RS_ALPHA] + expert * gb * mv[mb + M_EDP_RS_PER_BYTE] : 0);
    const ag = (dense > 0 ? mv[mb + M_DP_AG_ALPHA] + dense * pb * mv[mb + M_DP_AG_PER_BYTE] : 0) +
      (expert > 0 ? mv[mb + M_EDP_AG_ALPHA] + expert * pb * mv[mb + M_EDP_AG_PER_BYTE] : 0);
    // gradients hide behind the last micro-batch's backward (~2/3 of its time), parameters behind the first forward
    const exRs = exposedOverlapS(rs, (2 / 3) * t, cal.dpOverlapMaxFraction);
    const exAg = exposedOverlapS(ag, (1 / 3) * t, cal.dpOverlapMaxFraction);
    res.dpS = exRs + exAg + (rs + ag - exRs - exAg) * cal.smStealFraction;
  } else {
    // plain DDP all-reduce; the export emits --overlap-grad-reduce here too, so it hides behind the last backward
    const ar = (dense > 0 ? mv[mb + M_DP_AR_ALPHA] + dense * gb * mv[mb + M_DP_AR_PER_BYTE] : 0) +
      (expert > 0 ? mv[mb + M_EDP_AR_ALPHA] + expert * gb * mv[mb + M_EDP_AR_PER_BYTE] : 0);
    const exAr = exposedOverlapS(ar, (2 / 3) * t, cal.dpOverlapMaxFraction);
    res.dpS = exAr + (ar - exAr) * cal.smStealFraction;
  }
  res.optimizerS = (owned * cal.optimizerBytesPerParam) / cal.hbmBytesPerS;

  // memory
  const weights = params * mv[mb + M_WEIGHT_BYTES_PER_PARAM];
  const grads = params * gb;
  const opt = ctx.optimizerStateBytesPerParam * owned;
  const inflight = inflightMicrobatches(kinds.firstIndex[k], plan.pp, plan.vpp, plan.numMicroBatches);
  const actD = lv[lb + L_ACT_D];
  const actM = lv[lb + L_ACT_M];
  let act: number;
  if (plan.recompute === 'full') {
    act = inflight * (nDense + nMoe) * lv[lb + L_ACT_IN] + (nMoe > 0 && actM > actD ? actM : actD);
  } else {
    act = inflight * (nDense * actD + nMoe * actM);
  }
  const logits = last ? lv[lb + L_LOGITS] * (1 + ctx.mtpLayers) : 0;
  const comm = cal.commBufferBytes + (nMoe > 0 ? lv[lb + L_DISPATCH_BUF] : 0);
  const overhead = cal.frameworkOverheadBytes + cal.allocatorFragmentationFraction * (act + logits);
  res.memBytes = weights + grads + opt + act + logits + comm + overhead;
  res.memWeights = weights;
  res.memGrads = grads;
  res.memOpt = opt;
  res.memAct = act;
  res.memLogits = logits;
  res.memComm = comm;
  res.memOverhead = overhead;
}

const RECOMPUTE_CODE = { none: 0, selective: 1, full: 2 } as const;
const DISPATCHER_CODE = { alltoall: 0, allgather: 1, flex: 2 } as const;

/** Per-layer costs from the memo, or computed and stored. */
function layerSlot(ctx: ScoreContext, plan: Plan): number {
  const sp = plan.tp > 1 && plan.sequenceParallel ? 1 : 0;
  const code = (((RECOMPUTE_CODE[plan.recompute] * 3 + DISPATCHER_CODE[plan.dispatcher]) * 2 +
    (plan.precision === 'fp8' ? 1 : 0)) * 2 + sp);
  const tp = plan.tp;
  const cp = plan.cp;
  const ep = plan.ep;
  const etp = plan.etp;
  const mbs = plan.microBatchSize;
  let h = Math.imul(tp, 0x9e3779b1) ^ Math.imul(cp + 7, 0x85ebca6b) ^ Math.imul(ep + 13, 0xc2b2ae35) ^
    Math.imul(etp + 29, 0x27d4eb2f) ^ Math.imul(mbs + 31, 0x165667b1) ^ Math.imul(code + 37, 0x2545f491);
  h ^= h >>> 15;
  const idx = h & (LAYER_CACHE_SIZE - 1);
  const k = ctx.layerKeys;
  const kb = idx * 6;
  if (k[kb] === tp && k[kb + 1] === cp && k[kb + 2] === ep && k[kb + 3] === etp && k[kb + 4] === mbs &&
    k[kb + 5] === code) {
    return idx * NL;
  }
  groupTopology(plan, ctx.gpusPerNode, ctx.topo);
  fillLayerCosts(ctx, plan);
  k[kb] = tp; k[kb + 1] = cp; k[kb + 2] = ep; k[kb + 3] = etp; k[kb + 4] = mbs; k[kb + 5] = code;
  storeLayerCosts(ctx.s, ctx.layerVals, idx * NL);
  return idx * NL;
}

// Explicit field copies (order = LAYER_FIELDS), on a memo miss only.
function storeLayerCosts(s: PlanScratch, v: Float64Array, b: number): void {
  v[b + 0] = s.attnC;
  v[b + 1] = s.denseMlpC;
  v[b + 2] = s.moeC;
  v[b + 3] = s.recD;
  v[b + 4] = s.recM;
  v[b + 5] = s.tpD;
  v[b + 6] = s.tpM;
  v[b + 7] = s.cpL;
  v[b + 8] = s.epM;
  v[b + 9] = s.ovD;
  v[b + 10] = s.ovM;
  v[b + 11] = s.stealD;
  v[b + 12] = s.stealM;
  v[b + 13] = s.embC;
  v[b + 14] = s.outC;
  v[b + 15] = s.outTp;
  v[b + 16] = s.mtpExtraC;
  v[b + 17] = s.actD;
  v[b + 18] = s.actM;
  v[b + 19] = s.actIn;
  v[b + 20] = s.logits;
  v[b + 21] = s.dispatchBuf;
  v[b + 22] = s.perD;
  v[b + 23] = s.perM;
}

/** Scores one plan into `out` (no allocation). */
export function scorePlan(ctx: ScoreContext, plan: Plan, out: Estimate): Estimate {
  const mv = ctx.mappingVals;
  const mb = mappingSlot(ctx, plan);
  const lv = ctx.layerVals;
  const lb = layerSlot(ctx, plan);
  const pp = plan.pp;
  const m = plan.numMicroBatches;
  const cal = ctx.cal;
  // exposed pipeline send/recv per micro-batch: activation forward, gradient backward, per model chunk
  let ppS = 0;
  if (pp > 1) {
    const tokStored = ((ctx.seq / plan.cp) * plan.microBatchSize) / (plan.tp > 1 && plan.sequenceParallel ? plan.tp : 1);
    ppS = 2 * plan.vpp * p2pTimeS(tokStored * ctx.hidden * 2, mv[mb + M_PP_INTER_NODE] === 1, ctx.gpusPerNode, cal) *
      (1 - cal.ppOverlapFraction);
  }
  const kinds = ctx.stages.get(pp, plan.firstStageLayers, plan.lastStageLayers);
  const res = ctx.kindResult;

  let tMax = -1;
  let kMax = 0;
  let tSum = 0;
  let dpMax = 0;
  let optMax = 0;
  let memMax = -1;
  const mem = out.mem;
  for (let k = 0; k < kinds.n; k++) {
    evalStageKind(ctx, plan, kinds, k, lv, lb, mv, mb, ppS, res);
    const t = res.timeS;
    tSum += kinds.count[k] * t;
    if (t > tMax) { tMax = t; kMax = k; }
    if (res.dpS > dpMax) dpMax = res.dpS;
    if (res.optimizerS > optMax) optMax = res.optimizerS;
    if (res.memBytes > memMax) {
      // the most loaded stage so far: keep its breakdown
      memMax = res.memBytes;
      mem.weightsBytes = res.memWeights;
      mem.gradientsBytes = res.memGrads;
      mem.optimizerStatesBytes = res.memOpt;
      mem.activationsBytes = res.memAct;
      mem.logitsBytes = res.memLogits;
      mem.commBuffersBytes = res.memComm;
      mem.overheadBytes = res.memOverhead;
    }
  }

  // breakdown of the slowest stage
  const nMoe = kinds.nMoe[kMax];
  const nDense = kinds.nDense[kMax];
  const nL = nDense + nMoe;
  const isFirst = (kinds.role[kMax] & STAGE_FIRST) !== 0;
  const isLast = (kinds.role[kMax] & STAGE_LAST) !== 0;
  const mtp = ctx.mtpLayers;
  const time = out.time;
  time.attentionS = m * nL * lv[lb + L_ATTN_C];
  time.denseMlpS = m * nDense * lv[lb + L_DENSE_MLP_C];
  time.expertsS = m * nMoe * lv[lb + L_MOE_C];
  time.recomputeS = m * (nDense * lv[lb + L_REC_D] + nMoe * lv[lb + L_REC_M]);
  const outTp = lv[lb + L_OUT_TP];
  time.tpCommS = m * (nDense * lv[lb + L_TP_D] + nMoe * lv[lb + L_TP_M] + (isLast ? outTp * (1 + mtp) : 0));
  time.cpCommS = m * nL * lv[lb + L_CP_L];
  time.epCommS = m * nMoe * lv[lb + L_EP_M];
  time.ppCommS = m * ppS;
  time.otherComputeS = m * (nDense * (lv[lb + L_OV_D] + lv[lb + L_STEAL_D]) + nMoe * (lv[lb + L_OV_M] + lv[lb + L_STEAL_M]) +
    (isFirst ? lv[lb + L_EMB_C] : 0) + (isLast ? lv[lb + L_OUT_C] + lv[lb + L_MTP_EXTRA_C] - mtp * outTp : 0)) +
    cal.stepOverheadS;
  time.bubbleS = pp > 1 ? ((pp - 1) / plan.vpp) * (tSum / pp) : 0;
  time.dpCommS = dpMax;
  time.optimizerS = optMax;
  const step = time.attentionS + time.denseMlpS + time.expertsS + time.otherComputeS + time.recomputeS +
    time.tpCommS + time.cpCommS + time.epCommS + time.dpCommS + time.ppCommS + time.bubbleS + time.optimizerS;

  out.stepTimeS = step;
  const world = plan.tp * plan.cp * plan.dp * pp;
  out.tokensPerSPerGpu = ctx.tokensPerStep / step / world;
  out.tflopsPerGpu = ctx.flopsPerStep / step / world / 1e12;
  const peak = plan.precision === 'fp8' ? cal.denseFp8PeakFlops : cal.denseBf16PeakFlops;
  out.mfu = (out.tflopsPerGpu * 1e12) / peak;

  out.peakMemBytes = memMax;
  out.usableMemBytes = ctx.usableMemBytes;
  out.fits = out.peakMemBytes <= ctx.usableMemBytes;
  return out;
}
