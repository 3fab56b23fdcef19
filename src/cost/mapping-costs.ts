/**
 * The mapping-dependent terms of one plan (memo.ts M slot): parameters a rank holds per layer kind and per edge
 * stage (params.ts counts, sharded by TP / EP / ETP), the pipeline neighbour placement and the DP collective
 * coefficients (terms/dp-comm.ts) and the NCCL buffers of its communicators (terms/nccl-buffers.ts). Depends on (tp, cp,
 * dp, pp, ep, etp, optimizer, precision) only.
 */
import type { Plan } from '../enumerate/plan.js';
import type { ScoreContext } from './context.js';
import { M } from './memo.js';
import { paddedVocabSize } from '../job/params.js';
import { groupTopology } from './topology.js';
import type { Calibration } from './calibration.js';
import {
  DpCollective, dpCollectiveAlphaS, dpCollectivePerByteS, dpTreeAllReduceAlphaS, dpTreeAllReducePerByteS,
} from './terms/dp-comm.js';
import { ncclCollectiveBufferBytes, ncclP2pBufferBytes, ringPeers } from './terms/nccl-buffers.js';

/** Fills the mapping slot at `b` in `v` for `plan`. */
export function fillMappingCosts(ctx: ScoreContext, plan: Plan, v: Float64Array, b: number): void {
  const topo = groupTopology(plan, ctx.nvlinkDomainGpus, ctx.topo, ctx.rankOrder);
  const p = ctx.params;
  const cal = ctx.cal;
  const G = ctx.gpusPerNode;
  const tp = plan.tp;

  // ---- parameters on this rank ----
  const attn = p.attnTpParams / tp + p.attnReplicatedParams;
  v[b + M.DenseLayerParams] = attn + p.denseMlpTpParams / tp + p.mlpNormParams;
  v[b + M.MoeLayerDenseParams] = ctx.isMoe ? attn + p.sharedExpertTpParams / tp + p.mlpNormParams + p.routerParams : 0;
  v[b + M.MoeLayerExpertParams] = ctx.isMoe ? (p.expertParams * (ctx.numExperts / plan.ep)) / plan.etp : 0;
  const vocabLocal = paddedVocabSize(ctx.model, tp) / tp;
  v[b + M.EmbeddingParams] = vocabLocal * ctx.hidden + ctx.posEmbParams;
  // The last stage holds the output layer (a copy of the tied embedding when pp > 1), the final norm and the MTP
  // extras (each MTP layer's transformer layer is counted as a layer of the last stage's kind).
  const needsOutput = ctx.model.untie_embeddings_and_output_weights || plan.pp > 1;
  // With MTP, Megatron also builds the input embedding on the last stage (the MTP layers embed the shifted
  // tokens); untied, that is a second vocab×hidden matrix beside the output layer.
  const mtpEmbedding = ctx.mtpLayers > 0 && plan.pp > 1 && ctx.model.untie_embeddings_and_output_weights;
  v[b + M.OutputParams] = (needsOutput ? vocabLocal * ctx.hidden : 0) + (mtpEmbedding ? vocabLocal * ctx.hidden : 0) +
    p.mlpNormParams + ctx.mtpLayers * (p.mtpProjTpParams / tp + p.mtpNormParams);
  // GEMM weights (Transformer Engine linears: FP8 copies under FP8): the TP-sharded attention and MLP weights, the
  // MLA down-projections (replicated linears), the MTP eh_proj; not norms, router, embedding or output layer. The
  // QKV bias (add_qkv_bias) is counted with them (negligible).
  const mdl = ctx.model;
  const mlaDown = ctx.mla
    ? (mdl.q_lora_rank > 0 ? ctx.hidden * mdl.q_lora_rank : 0) + ctx.hidden * (mdl.kv_lora_rank + mdl.qk_pos_emb_head_dim) : 0;
  const attnGemm = p.attnTpParams / tp + mlaDown;
  v[b + M.DenseLayerGemmParams] = attnGemm + p.denseMlpTpParams / tp;
  v[b + M.MoeLayerDenseGemmParams] = ctx.isMoe ? attnGemm + p.sharedExpertTpParams / tp : 0;
  v[b + M.OutputGemmParams] = ctx.mtpLayers * (p.mtpProjTpParams / tp);

  v[b + M.PpInterNode] = topo.ppInterNode ? 1 : 0;

  // ---- NCCL buffers: collectives over TP, DP×CP, the model-parallel group (TP×PP: gradient-norm all-reduce), EDP and
  // ETP (MoE); point-to-point to the pipeline and CP ring neighbours; the EP group per dispatcher ----
  const moe = ctx.isMoe;
  v[b + M.NcclBaseBytes] = ncclCollectiveBufferBytes(tp, cal) + ncclCollectiveBufferBytes(plan.dp * plan.cp, cal) +
    ncclCollectiveBufferBytes(tp * plan.pp, cal) +
    (moe ? ncclCollectiveBufferBytes(plan.edp, cal) + ncclCollectiveBufferBytes(plan.etp, cal) : 0) +
    ncclP2pBufferBytes(ringPeers(plan.pp), topo.ppInterNode, cal) +
    ncclP2pBufferBytes(ringPeers(plan.cp), topo.cpNodes > 1, cal);
  v[b + M.NcclEpA2aBytes] = moe ? ncclP2pBufferBytes(plan.ep - 1, topo.epNodes > 1, cal) : 0;
  v[b + M.NcclEpAgBytes] = moe ? ncclCollectiveBufferBytes(plan.ep * plan.etp, cal) : 0;

  // ---- DP collectives: only those the optimizer mode uses (RS + AG with the distributed optimizer, AR without) ----
  const dOpt = plan.distributedOptimizer;
  const dpcp = plan.dp * plan.cp;
  fillDpGroup(v, b, M.DpRsAlpha, M.DpRsPerByte, M.DpAgAlpha, M.DpAgPerByte, M.DpArAlpha, M.DpArPerByte,
    M.DpArTreeAlpha, M.DpArTreePerByte, dOpt, dpcp, topo.dpcpNodes, G, cal);
  fillDpGroup(v, b, M.EdpRsAlpha, M.EdpRsPerByte, M.EdpAgAlpha, M.EdpAgPerByte, M.EdpArAlpha, M.EdpArPerByte,
    M.EdpArTreeAlpha, M.EdpArTreePerByte, dOpt, plan.edp, topo.edpNodes, G, cal);
}

/** One DP group's collective coefficients (n ranks on `nodes` nodes) at the given slot offsets. */
function fillDpGroup(v: Float64Array, b: number, rsA: number, rsC: number, agA: number, agC: number, arA: number,
  arC: number, trA: number, trC: number, dOpt: boolean, n: number, nodes: number, G: number, cal: Calibration): void {
  v[b + rsA] = dOpt ? dpCollectiveAlphaS(DpCollective.ReduceScatter, n, nodes, cal) : 0;
  v[b + rsC] = dOpt ? dpCollectivePerByteS(DpCollective.ReduceScatter, n, nodes, G, cal) : 0;
  v[b + agA] = dOpt ? dpCollectiveAlphaS(DpCollective.AllGather, n, nodes, cal) : 0;
  v[b + agC] = dOpt ? dpCollectivePerByteS(DpCollective.AllGather, n, nodes, G, cal) : 0;
  const arPerByte = dOpt ? 0 : dpCollectivePerByteS(DpCollective.AllReduce, n, nodes, G, cal);
  v[b + arA] = dOpt ? 0 : dpCollectiveAlphaS(DpCollective.AllReduce, n, nodes, cal);
  v[b + arC] = arPerByte;
  v[b + trA] = dOpt ? 0 : dpTreeAllReduceAlphaS(n, nodes, cal);
  v[b + trC] = dOpt ? 0 : dpTreeAllReducePerByteS(arPerByte, cal);
}
