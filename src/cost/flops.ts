/**
 * Model FLOPs per training step in Megatron's convention (megatron.md §3.4, training.py
 * num_floating_point_operations): every GEMM counted 3× (forward, wgrad, dgrad) × 2 (FMA), causal attention
 * (half of QKᵀ and AV), logits over the padded vocabulary, MTP layers counted as extra transformer layers plus
 * their projection and norms. Routers, norms and elementwise work are not counted (as in Megatron).
 */
import type { ModelSpec } from '../job/types.js';
import type { ModelShape } from '../job/types.js';
import { meanAttentionFlopsFraction } from '../job/window-attention.js';
import type { FinetuneShape } from './finetune-shape.js';
import { loraAdapterParams } from './terms/lora-adapters.js';

/**
 * Forward+backward model FLOPs per token of one attention block (projections + causal core attention), averaged
 * over the decoder layers: the core (s²) term is scaled by the mean sliding-window share
 * (job/window-attention.ts meanAttentionFlopsFraction, 1 without windows). Megatron-LM's own
 * num_floating_point_operations (training.py) counts every layer as full causal attention, windows or not; moefold
 * counts the work the windowed layers do, so its MFU for a windowed model (GPT-OSS) is below what Megatron logs.
 */
export function attentionFlopsPerToken(m: ModelSpec, seq: number): number {
  const h = m.hidden_size;
  const a = m.num_attention_heads;
  const core = meanAttentionFlopsFraction(m, seq);
  if (m.multi_latent_attention) {
    const qkd = m.qk_head_dim + m.qk_pos_emb_head_dim;
    const qTerm = m.q_lora_rank > 0 ? m.q_lora_rank * (h + a * qkd + 1) : h * a * qkd;
    return 6 * (qTerm + m.kv_lora_rank * (h + a * (m.qk_head_dim + m.v_head_dim) + 1) + h * m.qk_pos_emb_head_dim +
      a * m.v_head_dim * h + core * (0.5 * seq * a * qkd + 0.5 * seq * a * m.v_head_dim));
  }
  const q = m.kv_channels * a;
  const kv = m.kv_channels * m.num_query_groups;
  return 6 * (h * (q + 2 * kv) + q * h) + core * 6 * seq * q;
}

/** Forward+backward model FLOPs per token of a dense MLP of width `ffn`. */
export function mlpFlopsPerToken(m: ModelSpec, ffn: number): number {
  return 6 * m.hidden_size * ffn * (m.swiglu ? 3 : 2);
}

/** Forward+backward model FLOPs per token of an MoE MLP (top-k routed experts + shared expert). */
export function moeFlopsPerToken(m: ModelSpec): number {
  return mlpFlopsPerToken(m, m.moe_ffn_hidden_size) * m.moe_router_topk +
    mlpFlopsPerToken(m, m.moe_shared_expert_intermediate_size);
}

/** Model FLOPs per token of the whole model (Megatron convention), with `vocab` the padded vocabulary. */
export function modelFlopsPerToken(m: ModelSpec, shape: ModelShape, seq: number, vocab: number): number {
  const lastIsMoe = m.num_layers > 0 && shape.moeLayerMask[m.num_layers - 1] === 1 ? 1 : 0;
  const mtp = m.mtp_num_layers;
  const nMoe = shape.numMoeLayers + lastIsMoe * mtp;
  const nDense = shape.numDenseLayers + (1 - lastIsMoe) * mtp;
  const h = m.hidden_size;
  return (nMoe + nDense) * attentionFlopsPerToken(m, seq) +
    nDense * mlpFlopsPerToken(m, m.ffn_hidden_size) + nMoe * moeFlopsPerToken(m) +
    6 * mtp * (3 * h + 2 * h * h) + 6 * h * vocab * (mtp + 1);
}

/**
 * The FLOPs a fine-tuning step runs per token, from the training figure `trainFlops` (modelFlopsPerToken): a frozen
 * base runs no weight-gradient GEMMs (2 FLOPs per GEMM weight a token passes through: the decoder linears, the top-k
 * routed experts and the output layer; the MTP heads' are left in), and the LoRA adapters add 6·r·(in + out) per
 * adapted linear (× top-k for the routed experts' adapters). A training job gets `trainFlops` back unchanged.
 */
export function finetuneFlopsPerToken(trainFlops: number, m: ModelSpec, shape: ModelShape, ft: FinetuneShape,
  vocab: number): number {
  if (!ft.frozen) return trainFlops;
  const nMoe = shape.numMoeLayers;
  const nDense = shape.numDenseLayers;
  const topk = m.num_experts > 0 ? m.moe_router_topk : 0;
  const attnW = ft.attnTpWeights + ft.attnDuplicatedWeights;
  const skipped = 2 * ((nDense + nMoe) * attnW + nDense * ft.denseMlpWeights +
    nMoe * (topk * ft.expertWeights + ft.sharedExpertWeights) + m.hidden_size * vocab);
  const r = ft.loraRank;
  const adapters = 6 * ((nDense + nMoe) * loraAdapterParams(ft.adaptAttn, r, 1) + nDense * loraAdapterParams(ft.adaptDenseMlp, r, 1) +
    nMoe * (topk * loraAdapterParams(ft.adaptExpert, r, 1) + loraAdapterParams(ft.adaptShared, r, 1)));
  return trainFlops - skipped + adapters;
}
