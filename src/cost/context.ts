/**
 * Per-job context of the scorer: every constant of the job, model and software stack computed once (makeScoreContext),
 * plus the scorer's memos and scratch. scorePlan (score.ts) reads it and the plan.
 */
import { windowLayerCount } from '../job/window-attention.js';
import { nvlinkDomainOf, type Job, type ModelShape, type ModelSpec, type StackSpec } from '../job/types.js';
import type { Plan } from '../enumerate/plan.js';
import { COSTED_RECOMPUTE_MODULES, recomputeModulesOf } from '../job/stack.js';
import type { Calibration } from './calibration.js';
import {
  BF16_GRAD_BYTES_PER_PARAM, optimizerStateBytesPerParam, type ModelStateBytes,
} from './memory.js';
import { LOGITS_BYTES_PER_ELEMENT_FUSED, LOGITS_BYTES_PER_ELEMENT_UNFUSED } from './terms/edge-stages.js';
import type { SelectiveModules } from './terms/recompute.js';
import { newGroupTopology, parseRankOrder, DEFAULT_ORDER, type GroupTopology, type RankOrder } from './topology.js';
import { StageLayoutCache } from './stage-layout.js';
import { layerParamCounts, type LayerParamCounts } from './params.js';
import { paddedVocabSize } from '../job/params.js';
import { finetuneFlopsPerToken, modelFlopsPerToken } from './flops.js';
import { newLayerMemo, newMappingMemo, type Memo } from './memo.js';
import { newKindResult, type KindResult } from './stage.js';
import { makeFinetuneShape, type FinetuneShape } from './finetune-shape.js';

export type { SelectiveModules } from './terms/recompute.js';

/** The --recompute-modules the cost model can price (the job's field table refuses the others). */
export { COSTED_RECOMPUTE_MODULES } from '../job/stack.js';

function selectiveModules(mods: readonly string[]): SelectiveModules {
  for (const x of mods) {
    if (!(COSTED_RECOMPUTE_MODULES as readonly string[]).includes(x)) {
      throw new Error(`recompute_modules: unknown module '${x}' (known: ${COSTED_RECOMPUTE_MODULES.join(', ')})`);
    }
  }
  const has = (x: string): number => (mods.includes(x) ? 1 : 0);
  return {
    coreAttn: has('core_attn'), layernorm: has('layernorm'), mlaUpProj: has('mla_up_proj'), mlp: has('mlp'),
    moe: has('moe'), moeAct: has('moe_act'),
  };
}

/**
 * Max/mean routed tokens per expert: the job's moe_routing_imbalance, else 1 + the calibration's excess for real or
 * forced routing; a capacity factor caps it (tokens past capacity are dropped, so CF 1.0 is balanced).
 */
export function routingLoadFactor(s: StackSpec, cal: Calibration): number {
  const ratio = s.moe_router_force_load_balancing ? 1 + cal.routingImbalanceForced
    : (s.moe_routing_imbalance ?? 1 + cal.routingImbalanceReal);
  return s.moe_expert_capacity_factor === null ? ratio : Math.min(ratio, s.moe_expert_capacity_factor);
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
  /** GPUs per physical node (the NIC share is per node: comm.ts nicBytesPerSPerGpu). */
  gpusPerNode: number;
  /**
   * GPUs per NVLink domain (job/types.ts nvlinkDomainOf; = gpusPerNode unless the cluster sets nvlink_domain):
   * where groupTopology decides NVLink against the network.
   */
  nvlinkDomainGpus: number;
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
  /** Share of decoder layers with sliding-window attention and the left window (job/window-attention.ts). */
  windowShare: number;
  window: number;
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
  // The software-stack facts (job.training, src/job/stack.ts), read once into plain numbers.
  /** Routed tokens on the most loaded expert over the mean, minus 1 (routingLoadFactor − 1). */
  imbalance: number;
  /** What plan.recompute 'selective' recomputes (job.training.recompute_modules, else moefold's set). */
  selective: SelectiveModules;
  /** Main-gradient bytes per parameter, also the DP reduce width (2 with grad_reduce_in_bf16). */
  gradBytesPerParam: number;
  optimizerStateBytesPerParam: number;
  logitsBytesPerElement: number;
  /** Memory facts of the stack read once (stage.ts): hidden_dropout (fp8_param_gather: fp8ParamGatherRuns, job/stack.ts). */
  hiddenDropout: number;
  /**
   * Share of the EP all-to-all hidden where the 1F1B EP overlap runs (cal.epA2aOverlapFraction with
   * overlap_moe_expert_parallel_comm) and elsewhere (cal.epOverlapFraction).
   */
  epA2aOverlapHiddenFraction: number;
  epHiddenFraction: number;
  flopsPerToken: number;
  flopsPerStep: number;
  usableMemBytes: number;
  /** gbs × seq. */
  tokensPerStep: number;
  topo: GroupTopology;
  stages: StageLayoutCache;
  /** Megatron's rank order (topology.ts), parsed once. */
  rankOrder: RankOrder;
  kindResult: KindResult;
  /** Scratch for memory.ts modelStateBytes. */
  state: ModelStateBytes;
  /** Per-layer costs and mapping terms (memo.ts layouts). */
  layerMemo: Memo;
  /** overlap_moe_expert_parallel_comm: the layer memo tells apart the plans whose schedule does not run it. */
  epOverlapAsked: boolean;
  mappingMemo: Memo;
  /** Fine-tuning facts (frozen base, compressed weights, LoRA adapters), derived once. */
  ft: FinetuneShape;
}

/** Precomputes every per-job constant. */
export function makeScoreContext(job: Job, shape: ModelShape, cal: Calibration): ScoreContext {
  const m = job.model;
  const L = m.num_layers;
  const moePrefix = new Int32Array(L + 1);
  for (let i = 0; i < L; i++) moePrefix[i + 1] = moePrefix[i] + (shape.moeLayerMask[i] === 1 ? 1 : 0);
  const isMoe = shape.isMoe;
  const stack = job.training;
  const seq = job.training.seq_length;
  const vocab1 = paddedVocabSize(m, 1);
  const mla = m.multi_latent_attention;
  const mtpIsMoe = L > 0 && shape.moeLayerMask[L - 1] === 1;
  const ft = makeFinetuneShape(job);
  const flopsPerToken = finetuneFlopsPerToken(modelFlopsPerToken(m, shape, seq, vocab1), m, shape, ft, vocab1);
  return {
    job, model: m, shape, cal,
    seq,
    gbs: job.training.global_batch_size,
    hidden: m.hidden_size,
    numLayers: L,
    gpusPerNode: job.cluster.gpus_per_node,
    nvlinkDomainGpus: nvlinkDomainOf(job.cluster),
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
    windowShare: L > 0 ? windowLayerCount(m) / L : 0,
    window: m.window_size,
    ffn: m.ffn_hidden_size,
    expertFfn: m.moe_ffn_hidden_size,
    sharedFfn: m.moe_shared_expert_intermediate_size,
    params: layerParamCounts(m),
    posEmbParams: m.position_embedding_type === 'learned_absolute' ? m.max_position_embeddings * m.hidden_size : 0,
    moePrefix,
    mtpLayers: m.mtp_num_layers,
    mtpIsMoe,
    imbalance: routingLoadFactor(stack, cal) - 1,
    selective: selectiveModules(recomputeModulesOf(job)),
    gradBytesPerParam: stack.grad_reduce_in_bf16 ? BF16_GRAD_BYTES_PER_PARAM : cal.gradReduceBytesPerParam,
    optimizerStateBytesPerParam: optimizerStateBytesPerParam(stack),
    logitsBytesPerElement: stack.cross_entropy_loss_fusion ? LOGITS_BYTES_PER_ELEMENT_FUSED : LOGITS_BYTES_PER_ELEMENT_UNFUSED,
    hiddenDropout: stack.hidden_dropout,
    epA2aOverlapHiddenFraction: stack.overlap_moe_expert_parallel_comm ? cal.epA2aOverlapFraction : cal.epOverlapFraction,
    epHiddenFraction: cal.epOverlapFraction,
    flopsPerToken,
    flopsPerStep: flopsPerToken * seq * job.training.global_batch_size,
    usableMemBytes: cal.hbmCapacityBytes - cal.reservedBytes,
    tokensPerStep: seq * job.training.global_batch_size,
    topo: newGroupTopology(),
    rankOrder: parseRankOrder(DEFAULT_ORDER),
    stages: new StageLayoutCache(L, moePrefix, mtpIsMoe ? 0 : m.mtp_num_layers, mtpIsMoe ? m.mtp_num_layers : 0),
    kindResult: newKindResult(),
    state: { weights: 0, gradients: 0, optimizer: 0 },
    layerMemo: newLayerMemo(),
    epOverlapAsked: stack.overlap_moe_expert_parallel_comm,
    mappingMemo: newMappingMemo(),
    ft,
  };
}

/** 1 where the job asks for the EP overlap and the plan's schedule does not run it (PP > 1 without VPP), else 0. */
export function epOverlapOffCode(ctx: ScoreContext, plan: Plan): number {
  return ctx.epOverlapAsked && plan.pp > 1 && plan.vpp === 1 ? 1 : 0;
}
