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
 */
import type { Job, ModelShape, ModelSpec } from '../spec/types.js';
import type { Plan } from '../enumerate/plan.js';
import type { Estimate, MemoryBreakdown } from './estimate.js';
import type { Calibration } from './calibration.js';
import { gemmTimeS, groupedGemmTimeS } from './gemm.js';
import {
  activationFnBytes, attentionElementwiseBytes, coreAttentionFwdFlops, flashAttentionBwdTimeS, flashAttentionFwdTimeS,
  memoryBoundTimeS, permuteBytes,
} from './compute.js';
import {
  allToAllTimeS, collectiveAlphaS, nicBytesPerSPerGpu, p2pTimeS, ringAllGatherTimeS, ringAllReduceTimeS,
  ringReduceScatterTimeS,
} from './comm.js';
import { groupTopology, newGroupTopology, nodesSpanned, type GroupTopology } from './topology.js';
import {
  attentionActivationBytes, fullRecomputeBytesPerLayer, logitsBytes, mlpActivationBytes, moeActivationBytes,
} from './memory.js';
import { inflightMicrobatches, stageLayerStart } from './pipeline.js';
import { layerParamCounts, paddedVocabSize, type LayerParamCounts } from './params.js';
import { modelFlopsPerToken } from './flops.js';

export type RoutingBalance = 'real' | 'forced';

export interface ScoreOptions {
  /** MoE routing load: 'real' (dropless with aux loss, the planning default) or 'forced' (balanced benchmarks). */
  routing?: RoutingBalance;
  /**
   * Megatron --recompute-modules that plan.recompute 'selective' stands for (default ['core_attn'], Megatron's
   * default). Known: core_attn, layernorm, mla_up_proj, mlp (dense MLP, and the MoE layer in MoE layers),
   * moe (whole MoE layer), moe_act (expert activation function).
   */
  recomputeModules?: readonly string[];
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
  recD: number; recM: number;
  tpD: number; tpM: number; cpL: number; epM: number;
  ovD: number; ovM: number; stealD: number; stealM: number;
  embC: number; outC: number; outTp: number; mtpExtraC: number; ppC: number;
  // per layer per micro-batch, bytes
  actD: number; actM: number; actIn: number; embAct: number; logits: number; dispatchBuf: number;
  // per layer params on this rank
  denseLayerParams: number; moeLayerDenseParams: number; moeLayerExpertParams: number;
  embParams: number; outParams: number; mtpDenseParams: number; mtpExpertParams: number;
  weightBytesPerParam: number;
  dpcpNodes: number; edpNodes: number;
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
  flopsPerToken: number;
  flopsPerStep: number;
  usableMemBytes: number;
  topo: GroupTopology;
  s: PlanScratch;
  /** Memo of per-layer costs keyed by (tp, cp, ep, etp, mbs, recompute, dispatcher, precision, SP). */
  layerKeys: Float64Array;
  layerVals: Float64Array;
}

/** Direct-mapped memo size (entries) for per-layer costs. */
const LAYER_CACHE_SIZE = 4096;
/** PlanScratch fields that depend only on the layer-cost key (order = memo layout). */
const LAYER_FIELDS = [
  'attnC', 'denseMlpC', 'moeC', 'recD', 'recM', 'tpD', 'tpM', 'cpL', 'epM', 'ovD', 'ovM', 'stealD', 'stealM',
  'embC', 'outC', 'outTp', 'mtpExtraC', 'actD', 'actM', 'actIn', 'embAct', 'logits', 'dispatchBuf',
] as const;
const NL = LAYER_FIELDS.length;

function newScratch(): PlanScratch {
  return {
    attnC: 0, denseMlpC: 0, moeC: 0, recD: 0, recM: 0, tpD: 0, tpM: 0, cpL: 0, epM: 0, ovD: 0, ovM: 0,
    stealD: 0, stealM: 0, embC: 0, outC: 0, outTp: 0, mtpExtraC: 0, ppC: 0,
    actD: 0, actM: 0, actIn: 0, embAct: 0, logits: 0, dispatchBuf: 0,
    denseLayerParams: 0, moeLayerDenseParams: 0, moeLayerExpertParams: 0, embParams: 0, outParams: 0,
    mtpDenseParams: 0, mtpExpertParams: 0, weightBytesPerParam: 2, dpcpNodes: 1, edpNodes: 1,
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
    mtpIsMoe: L > 0 && shape.moeLayerMask[L - 1] === 1,
    routing,
    imbalance: routing === 'real' ? cal.routingImbalanceReal : cal.routingImbalanceForced,
    selective: selectiveModules(opts.recomputeModules ?? ['core_attn']),
    flopsPerToken,
    flopsPerStep: flopsPerToken * seq * job.training.global_batch_size,
    usableMemBytes: cal.hbmCapacityBytes - cal.reservedBytes,
    topo: newGroupTopology(),
    s: newScratch(),
    layerKeys: new Float64Array(LAYER_CACHE_SIZE).fill(-1),
    layerVals: new Float64Array(LAYER_CACHE_SIZE * NL),
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
  // The last stage holds the output layer (a copy of the tied embedding when pp > 1) and the final norm.
  const needsOutput = ctx.model.untie_embeddings_and_output_weights || plan.pp > 1;
  s.outParams = (needsOutput ? vocabLocal * ctx.hidden : 0) + p.mlpNormParams;
  const mtp = ctx.mtpLayers;
  s.mtpDenseParams = mtp * ((ctx.mtpIsMoe ? s.moeLayerDenseParams : s.denseLayerParams) + p.mtpProjTpParams / tp +
    p.mtpNormParams);
  s.mtpExpertParams = mtp * (ctx.mtpIsMoe ? s.moeLayerExpertParams : 0);
  s.weightBytesPerParam = 2 + (plan.precision === 'fp8' ? ctx.cal.fp8WeightCopyBytesPerParam : 0);
}

/** Dense (DP×CP-sharded) parameters held by stage r. */
function stageDenseParams(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, r: number): number {
  const s = ctx.s;
  let n = nDense * s.denseLayerParams + nMoe * s.moeLayerDenseParams;
  if (r === 0) n += s.embParams;
  if (r === plan.pp - 1) n += s.outParams + s.mtpDenseParams;
  return n;
}

function stageExpertParams(ctx: ScoreContext, plan: Plan, nMoe: number, r: number): number {
  const s = ctx.s;
  return nMoe * s.moeLayerExpertParams + (r === plan.pp - 1 ? s.mtpExpertParams : 0);
}

function stageCounts(ctx: ScoreContext, plan: Plan, r: number): number {
  // returns nMoe; nDense = layers − nMoe (computed by the caller from the bounds)
  const L = ctx.numLayers;
  const a = stageLayerStart(r, plan.pp, L, plan.firstStageLayers, plan.lastStageLayers);
  const b = stageLayerStart(r + 1, plan.pp, L, plan.firstStageLayers, plan.lastStageLayers);
  return ctx.moePrefix[b] - ctx.moePrefix[a];
}

function stageLayers(ctx: ScoreContext, plan: Plan, r: number): number {
  const L = ctx.numLayers;
  return stageLayerStart(r + 1, plan.pp, L, plan.firstStageLayers, plan.lastStageLayers) -
    stageLayerStart(r, plan.pp, L, plan.firstStageLayers, plan.lastStageLayers);
}

/**
 * Weights + gradients + optimizer states (+ framework overhead and communication buffers) of the most loaded
 * stage: independent of micro-batch size, recompute and dispatcher. A lower bound of scorePlan's peak memory.
 */
export function staticMemoryBytes(ctx: ScoreContext, plan: Plan): number {
  fillParams(ctx, plan);
  const cal = ctx.cal;
  const s = ctx.s;
  const dpcp = plan.dp * plan.cp;
  let worst = 0;
  for (let r = 0; r < plan.pp; r++) {
    const nMoe = stageCounts(ctx, plan, r);
    const nDense = stageLayers(ctx, plan, r) - nMoe;
    const dense = stageDenseParams(ctx, plan, nDense, nMoe, r);
    const expert = stageExpertParams(ctx, plan, nMoe, r);
    const params = dense + expert;
    const opt = plan.distributedOptimizer ? 12 * (dense / dpcp + expert / plan.edp) : 12 * params;
    const bytes = params * (s.weightBytesPerParam + 4) + opt;
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
  const tpFwd = 2 * tpPair * tpExp;
  const sel = ctx.selective;
  const normF = memoryBoundTimeS(2 * 2 * 2 * tokStored * h, cal); // two norms, read + write h, bf16
  const recAttnSel = sel.coreAttn * flashF + sel.layernorm * normF + sel.mlaUpProj * upProjF;
  if (plan.recompute === 'selective') {
    s.recD = recAttnSel + sel.mlp * denseF;
  } else if (plan.recompute === 'full') {
    s.recD = attnF + denseF + tpFwd;
  } else {
    s.recD = 0;
  }

  s.ovD = cal.denseLayerOverheadS;

  // ---- activations (bytes per layer per micro-batch) ----
  // attention saves Q, K (dqk per head), V (dv per kv head) and O (dv per q head)
  const qkvoWidth = heads * ctx.dqk + kvHeads * ctx.dqk + kvHeads * ctx.dv + heads * ctx.dv;
  const gemmIn = fp8 ? 1 : 2;
  const attnAct = attentionActivationBytes(tokA, h, qkvoWidth, ctx.latentWidth, tp, sp, gemmIn);
  // selective recompute frees: norm outputs (layernorm), MLA Q/K/V (mla_up_proj; the latents stay)
  let attnSave = 0;
  if (plan.recompute === 'selective') {
    attnSave += ctx.selective.layernorm * 2 * gemmIn * tokStored * h;
    if (ctx.mla) attnSave += ctx.selective.mlaUpProj * 2 * tokA * (heads * ctx.dqk + kvHeads * ctx.dqk + kvHeads * ctx.dv);
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
    moeF += memoryBoundTimeS(activationFnBytes(rows, fe, glu) + permuteBytes(rows, h), cal);
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
      s.epM = 2 * a2a;
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
    if (etp > 1) {
      const buf = rows * h * 2;
      s.epM += ringAllGatherTimeS(buf, etp, topo.etpNodes, G, cal) + ringReduceScatterTimeS(buf, etp, topo.etpNodes, G, cal);
    }
    // s.epM so far is one forward; backward mirrors it
    const epFwd = s.epM;
    const epTotal = 2 * epFwd;
    s.epM = epTotal * (1 - cal.epOverlapFraction);
    s.stealM += epTotal * cal.epOverlapFraction * steal;
    const actFnF = memoryBoundTimeS(activationFnBytes(rows, fe, glu), cal);
    const moeAll = sel.moe > sel.mlp ? sel.moe : sel.mlp;
    if (plan.recompute === 'selective') {
      s.recM = recAttnSel + (moeAll ? moeF + epFwd * (1 - cal.epOverlapFraction) : sel.moeAct * actFnF);
    }
    else if (plan.recompute === 'full') s.recM = attnF + moeF + (tpPair + sharedTp) * tpExp + epFwd * (1 - cal.epOverlapFraction);
    else s.recM = 0;
    s.ovM = cal.moeLayerOverheadS;
    const moeIn = 2 * tokMoe * h;
    let moeInner = moeActivationBytes(tokMoe, tokMoe * k * etp, h, E, fe, glu, gemmIn) - moeIn;
    if (ctx.sharedFfn > 0) moeInner += mlpActivationBytes(tokA, h, ctx.sharedFfn / tp, glu, tp, sp, gemmIn) - gemmIn * tokStored * h;
    if (plan.recompute === 'selective') {
      if (sel.moe || sel.mlp) moeInner = 0;
      else if (sel.moeAct) moeInner -= tokMoe * k * etp * gemmIn * fe;
    }
    s.actM = attnAct - attnSave + moeIn + moeInner;
    s.dispatchBuf = 2 * rows * h * 2; // send + receive buffers of the most loaded layer
  } else {
    s.moeC = 0; s.tpM = 0; s.epM = 0; s.recM = 0; s.ovM = 0; s.actM = 0; s.dispatchBuf = 0;
  }

  s.actD = attnAct - attnSave + mlpActivationBytes(tokA, h, ffnLocal, glu, tp, sp, gemmIn);
  if (plan.recompute === 'selective' && ctx.selective.mlp) {
    s.actD -= gemmIn * tokA * ffnLocal + 2 * tokA * glu * ffnLocal; // keeps only the MLP input
  }
  s.actIn = fullRecomputeBytesPerLayer(tokA, h, tp, sp);
  s.embAct = 2 * tokStored * h;

  // ---- first / last stage extras ----
  const vocabLocal = paddedVocabSize(model, tp) / tp;
  s.embC = memoryBoundTimeS(3 * 2 * tokStored * h, cal);
  const outGemm = gemmTimeS(tokA, vocabLocal, h, fp8, cal);
  const lossBytes = tokA * vocabLocal * 4 * 4;
  s.outC = 3 * outGemm + memoryBoundTimeS(lossBytes + 3 * 2 * tokStored * h, cal);
  s.outTp = sp ? (ringAllGatherTimeS(actBytes, tp, topo.tpNodes, G, cal) +
    ringReduceScatterTimeS(actBytes, tp, topo.tpNodes, G, cal)) * tpExp : 0;
  s.mtpExtraC = ctx.mtpLayers * (3 * gemmTimeS(tokA, h, 2 * h, fp8, cal) + s.outC + s.outTp);
  s.logits = logitsBytes(tokA, vocabLocal);

}

/** Exposed pipeline send/recv per micro-batch: activation forward, gradient backward, per model chunk. */
function fillPpCost(ctx: ScoreContext, plan: Plan): void {
  const s = ctx.s;
  s.ppC = 0;
  if (plan.pp > 1) {
    const tokStored = ((ctx.seq / plan.cp) * plan.microBatchSize) / (plan.tp > 1 && plan.sequenceParallel ? plan.tp : 1);
    const bytes = tokStored * ctx.hidden * 2;
    s.ppC = 2 * plan.vpp * p2pTimeS(bytes, ctx.topo.ppInterNode, ctx.gpusPerNode, ctx.cal) * (1 - ctx.cal.ppOverlapFraction);
  }
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

/** Per-micro-batch time of stage r with nDense / nMoe layers (MTP layers on the last stage counted by caller). */
function stageTimeS(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, r: number): number {
  const s = ctx.s;
  const perD = s.attnC + s.denseMlpC + s.recD + s.tpD + s.cpL + s.ovD + s.stealD;
  const perM = s.attnC + s.moeC + s.recM + s.tpM + s.cpL + s.epM + s.ovM + s.stealM;
  let t = nDense * perD + nMoe * perM + s.ppC;
  if (r === 0) t += s.embC;
  if (r === plan.pp - 1) t += s.outC + s.outTp + s.mtpExtraC;
  return t;
}

/** Memory of stage r; fills `out` when given. */
function stageMemoryBytes(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, r: number,
  out: MemoryBreakdown | null): number {
  const s = ctx.s;
  const cal = ctx.cal;
  const dense = stageDenseParams(ctx, plan, nDense, nMoe, r);
  const expert = stageExpertParams(ctx, plan, nMoe, r);
  const params = dense + expert;
  const weights = params * s.weightBytesPerParam;
  const grads = params * 4;
  const opt = plan.distributedOptimizer ? 12 * (dense / (plan.dp * plan.cp) + expert / plan.edp) : 12 * params;
  const inflight = inflightMicrobatches(r, plan.pp, plan.vpp, plan.numMicroBatches);
  let act: number;
  if (plan.recompute === 'full') {
    act = inflight * (nDense + nMoe) * s.actIn + (nMoe > 0 && s.actM > s.actD ? s.actM : s.actD);
  } else {
    act = inflight * (nDense * s.actD + nMoe * s.actM);
  }
  if (r === 0) act += inflight * s.embAct;
  const logits = r === plan.pp - 1 ? s.logits * (1 + ctx.mtpLayers) : 0;
  const comm = cal.commBufferBytes + (nMoe > 0 ? s.dispatchBuf : 0);
  const overhead = cal.frameworkOverheadBytes + cal.allocatorFragmentationFraction * (act + logits);
  if (out !== null) {
    out.weightsBytes = weights;
    out.gradientsBytes = grads;
    out.optimizerStatesBytes = opt;
    out.activationsBytes = act;
    out.logitsBytes = logits;
    out.commBuffersBytes = comm;
    out.overheadBytes = overhead;
  }
  return weights + grads + opt + act + logits + comm + overhead;
}

/** Exposed DP time of stage r (gradient reduce-scatter + parameter all-gather, or all-reduce). */
function stageDpExposedS(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, r: number,
  stageTime: number): number {
  const cal = ctx.cal;
  const dense = stageDenseParams(ctx, plan, nDense, nMoe, r);
  const expert = stageExpertParams(ctx, plan, nMoe, r);
  const s = ctx.s;
  const gb = cal.gradReduceBytesPerParam;
  let t: number;
  if (plan.distributedOptimizer) {
    const pb = cal.paramGatherBytesPerParam;
    const rs = (dense > 0 ? s.dpRsAlpha + dense * gb * s.dpRsPerByte : 0) +
      (expert > 0 ? s.edpRsAlpha + expert * gb * s.edpRsPerByte : 0);
    const ag = (dense > 0 ? s.dpAgAlpha + dense * pb * s.dpAgPerByte : 0) +
      (expert > 0 ? s.edpAgAlpha + expert * pb * s.edpAgPerByte : 0);
    // gradients hide behind the last micro-batch's backward (~2/3 of its time), parameters behind the first forward
    const exRs = exposedOverlapS(rs, (2 / 3) * stageTime, cal.dpOverlapMaxFraction);
    const exAg = exposedOverlapS(ag, (1 / 3) * stageTime, cal.dpOverlapMaxFraction);
    t = exRs + exAg + (rs + ag - exRs - exAg) * cal.smStealFraction;
  } else {
    t = (dense > 0 ? s.dpArAlpha + dense * gb * s.dpArPerByte : 0) +
      (expert > 0 ? s.edpArAlpha + expert * gb * s.edpArPerByte : 0);
  }
  return t;
}

function stageOptimizerS(ctx: ScoreContext, plan: Plan, nDense: number, nMoe: number, r: number): number {
  const dense = stageDenseParams(ctx, plan, nDense, nMoe, r);
  const expert = stageExpertParams(ctx, plan, nMoe, r);
  const owned = plan.distributedOptimizer ? dense / (plan.dp * plan.cp) + expert / plan.edp : dense + expert;
  return memoryBoundTimeS(owned * ctx.cal.optimizerBytesPerParam, ctx.cal);
}

const RECOMPUTE_CODE = { none: 0, selective: 1, full: 2 } as const;
const DISPATCHER_CODE = { alltoall: 0, allgather: 1, flex: 2 } as const;

/** Per-layer costs from the memo, or computed and stored. */
function layerCosts(ctx: ScoreContext, plan: Plan): void {
  const sp = plan.tp > 1 && plan.sequenceParallel ? 1 : 0;
  const code = (((RECOMPUTE_CODE[plan.recompute] * 3 + DISPATCHER_CODE[plan.dispatcher]) * 2 +
    (plan.precision === 'fp8' ? 1 : 0)) * 2 + sp);
  const key = ((((plan.tp * 8192 + plan.cp) * 8192 + plan.ep) * 1024 + plan.etp) * 1024 + plan.microBatchSize) * 36 + code;
  let h = Math.imul(plan.tp, 0x9e3779b1) ^ Math.imul(plan.cp + 7, 0x85ebca6b) ^ Math.imul(plan.ep + 13, 0xc2b2ae35) ^
    Math.imul(plan.etp + 29, 0x27d4eb2f) ^ Math.imul(plan.microBatchSize + 31, 0x165667b1) ^ Math.imul(code + 37, 0x2545f491);
  h ^= h >>> 15;
  const idx = h & (LAYER_CACHE_SIZE - 1);
  if (ctx.layerKeys[idx] === key) {
    loadLayerCosts(ctx.s, ctx.layerVals, idx * NL);
    return;
  }
  fillLayerCosts(ctx, plan);
  ctx.layerKeys[idx] = key;
  storeLayerCosts(ctx.s, ctx.layerVals, idx * NL);
}

// Explicit field copies (order = LAYER_FIELDS): monomorphic and fast on the hot path.
function loadLayerCosts(s: PlanScratch, v: Float64Array, b: number): void {
  s.attnC = v[b + 0];
  s.denseMlpC = v[b + 1];
  s.moeC = v[b + 2];
  s.recD = v[b + 3];
  s.recM = v[b + 4];
  s.tpD = v[b + 5];
  s.tpM = v[b + 6];
  s.cpL = v[b + 7];
  s.epM = v[b + 8];
  s.ovD = v[b + 9];
  s.ovM = v[b + 10];
  s.stealD = v[b + 11];
  s.stealM = v[b + 12];
  s.embC = v[b + 13];
  s.outC = v[b + 14];
  s.outTp = v[b + 15];
  s.mtpExtraC = v[b + 16];
  s.actD = v[b + 17];
  s.actM = v[b + 18];
  s.actIn = v[b + 19];
  s.embAct = v[b + 20];
  s.logits = v[b + 21];
  s.dispatchBuf = v[b + 22];
}

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
  v[b + 20] = s.embAct;
  v[b + 21] = s.logits;
  v[b + 22] = s.dispatchBuf;
}

/** Scores one plan into `out` (no allocation). */
export function scorePlan(ctx: ScoreContext, plan: Plan, out: Estimate): Estimate {
  groupTopology(plan, ctx.gpusPerNode, ctx.topo);
  fillParams(ctx, plan);
  layerCosts(ctx, plan);
  fillPpCost(ctx, plan);
  fillDpCoefficients(ctx, plan);
  const pp = plan.pp;
  const m = plan.numMicroBatches;
  const s = ctx.s;
  const lastExtraDense = ctx.mtpIsMoe ? 0 : ctx.mtpLayers;
  const lastExtraMoe = ctx.mtpIsMoe ? ctx.mtpLayers : 0;

  let tMax = -1;
  let rMax = 0;
  let tSum = 0;
  let dpMax = 0;
  let optMax = 0;
  let memMax = -1;
  let rMem = 0;
  // Middle stages with the same layer mix cost the same: evaluate each distinct (dense, MoE) mix once.
  let cD = -1;
  let cM = -1;
  let cT = 0;
  let cDp = 0;
  let cOpt = 0;
  for (let r = 0; r < pp; r++) {
    let nMoe = stageCounts(ctx, plan, r);
    let nDense = stageLayers(ctx, plan, r) - nMoe;
    const edge = r === 0 || r === pp - 1;
    if (r === pp - 1) { nMoe += lastExtraMoe; nDense += lastExtraDense; }
    let t: number;
    let dp: number;
    let opt: number;
    let mem: number;
    if (!edge && nDense === cD && nMoe === cM) {
      t = cT; dp = cDp; opt = cOpt;
      // in-flight micro-batches only decrease with r: an earlier stage with this mix holds at least as much memory
      mem = 0;
    } else {
      t = stageTimeS(ctx, plan, nDense, nMoe, r);
      dp = stageDpExposedS(ctx, plan, nDense, nMoe, r, t);
      opt = stageOptimizerS(ctx, plan, nDense, nMoe, r);
      mem = stageMemoryBytes(ctx, plan, nDense, nMoe, r, null);
      if (!edge) { cD = nDense; cM = nMoe; cT = t; cDp = dp; cOpt = opt; }
    }
    tSum += t;
    if (t > tMax) { tMax = t; rMax = r; }
    if (dp > dpMax) dpMax = dp;
    if (opt > optMax) optMax = opt;
    if (mem > memMax) { memMax = mem; rMem = r; }
  }

  // breakdown of the slowest stage
  let nMoe = stageCounts(ctx, plan, rMax);
  let nDense = stageLayers(ctx, plan, rMax) - nMoe;
  if (rMax === pp - 1) { nMoe += lastExtraMoe; nDense += lastExtraDense; }
  const nL = nDense + nMoe;
  const isLast = rMax === pp - 1;
  const time = out.time;
  time.attentionS = m * nL * s.attnC;
  time.denseMlpS = m * nDense * s.denseMlpC;
  time.expertsS = m * nMoe * s.moeC;
  time.recomputeS = m * (nDense * s.recD + nMoe * s.recM);
  time.tpCommS = m * (nDense * s.tpD + nMoe * s.tpM + (isLast ? s.outTp * (1 + ctx.mtpLayers) : 0));
  time.cpCommS = m * nL * s.cpL;
  time.epCommS = m * nMoe * s.epM;
  time.ppCommS = m * s.ppC;
  time.otherComputeS = m * (nDense * (s.ovD + s.stealD) + nMoe * (s.ovM + s.stealM) +
    (rMax === 0 ? s.embC : 0) + (isLast ? s.outC + s.mtpExtraC - ctx.mtpLayers * s.outTp : 0)) +
    ctx.cal.stepOverheadS;
  time.bubbleS = pp > 1 ? ((pp - 1) / plan.vpp) * (tSum / pp) : 0;
  time.dpCommS = dpMax;
  time.optimizerS = optMax;
  const step = time.attentionS + time.denseMlpS + time.expertsS + time.otherComputeS + time.recomputeS +
    time.tpCommS + time.cpCommS + time.epCommS + time.dpCommS + time.ppCommS + time.bubbleS + time.optimizerS;

  out.stepTimeS = step;
  const world = plan.tp * plan.cp * plan.dp * plan.pp;
  const tokens = ctx.gbs * ctx.seq;
  out.tokensPerSPerGpu = tokens / step / world;
  out.tflopsPerGpu = ctx.flopsPerStep / step / world / 1e12;
  const peak = plan.precision === 'fp8' ? ctx.cal.denseFp8PeakFlops : ctx.cal.denseBf16PeakFlops;
  out.mfu = (out.tflopsPerGpu * 1e12) / peak;

  // memory of the most loaded stage
  nMoe = stageCounts(ctx, plan, rMem);
  nDense = stageLayers(ctx, plan, rMem) - nMoe;
  if (rMem === pp - 1) { nMoe += lastExtraMoe; nDense += lastExtraDense; }
  out.peakMemBytes = stageMemoryBytes(ctx, plan, nDense, nMoe, rMem, out.mem);
  out.usableMemBytes = ctx.usableMemBytes;
  out.fits = out.peakMemBytes <= ctx.usableMemBytes;
  return out;
}
