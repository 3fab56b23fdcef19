/**
 * Per-job context of the scorer: every constant of the job, model and options computed once (makeScoreContext),
 * plus the scorer's memos and scratch. scorePlan (score.ts) reads it and the plan.
 */
import type { Job, ModelShape, ModelSpec } from '../job/types.js';
import type { Calibration } from './calibration.js';
import { ADAM_FP32_STATE_BYTES_PER_PARAM, type ModelStateBytes } from './memory.js';
import { LOGITS_BYTES_PER_ELEMENT_UNFUSED } from './terms/edge-stages.js';
import type { SelectiveModules } from './terms/recompute.js';
import { selectiveRecomputeModules } from '../plan/recompute.js';
import { newGroupTopology, parseRankOrder, DEFAULT_ORDER, type GroupTopology, type RankOrder } from './topology.js';
import { StageLayoutCache } from './stage-layout.js';
import { layerParamCounts, type LayerParamCounts } from './params.js';
import { paddedVocabSize } from '../job/params.js';
import { modelFlopsPerToken } from './flops.js';
import { newLayerMemo, newMappingMemo, type Memo } from './memo.js';
import { newKindResult, type KindResult } from './stage.js';

export type { SelectiveModules } from './terms/recompute.js';

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

/** The --recompute-modules the cost model can price (a subset of Megatron's MEGATRON_RECOMPUTE_MODULES). */
export const COSTED_RECOMPUTE_MODULES: readonly string[] = ['core_attn', 'layernorm', 'mla_up_proj', 'mlp', 'moe', 'moe_act'];

function selectiveModules(mods: readonly string[]): SelectiveModules {
  for (const x of mods) {
    if (!COSTED_RECOMPUTE_MODULES.includes(x)) {
      throw new Error(`recomputeModules: unknown module '${x}' (known: ${COSTED_RECOMPUTE_MODULES.join(', ')})`);
    }
  }
  const has = (x: string): number => (mods.includes(x) ? 1 : 0);
  return {
    coreAttn: has('core_attn'), layernorm: has('layernorm'), mlaUpProj: has('mla_up_proj'), mlp: has('mlp'),
    moe: has('moe'), moeAct: has('moe_act'),
  };
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
  /** Megatron's rank order (topology.ts), parsed once. */
  rankOrder: RankOrder;
  kindResult: KindResult;
  /** Scratch for memory.ts modelStateBytes. */
  state: ModelStateBytes;
  /** Per-layer costs and mapping terms (memo.ts layouts). */
  layerMemo: Memo;
  mappingMemo: Memo;
}

/** Precomputes every per-job constant. */
export function makeScoreContext(job: Job, shape: ModelShape, cal: Calibration, opts: ScoreOptions = {}): ScoreContext {
  const m = job.model;
  const L = m.num_layers;
  const moePrefix = new Int32Array(L + 1);
  for (let i = 0; i < L; i++) moePrefix[i + 1] = moePrefix[i] + (shape.moeLayerMask[i] === 1 ? 1 : 0);
  const isMoe = shape.isMoe;
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
    rankOrder: parseRankOrder(DEFAULT_ORDER),
    stages: new StageLayoutCache(L, moePrefix, mtpIsMoe ? 0 : m.mtp_num_layers, mtpIsMoe ? m.mtp_num_layers : 0),
    kindResult: newKindResult(),
    state: { weights: 0, gradients: 0, optimizer: 0 },
    layerMemo: newLayerMemo(),
    mappingMemo: newMappingMemo(),
  };
}
