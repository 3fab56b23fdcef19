/**
 * Parameter counts per layer kind (megatron.md §3.1, restated for the folded layout): which parts TP shards,
 * which are replicated across TP, and which live in experts (sharded by ETP inside an expert, E/EP experts per
 * rank). Counts are per layer, unsharded. Biases (add_bias_linear: QKV, output projection, FC1, FC2 and each
 * expert's FC1/FC2; add_qkv_bias: QKV only) and learnable softmax sinks (one per head) are counted where their
 * weights live (Megatron-Core ColumnParallelLinear shards its bias, RowParallelLinear replicates it).
 */
import { sharedExpertGateParams } from '../job/params.js';
import type { ModelSpec } from '../job/types.js';

export interface LayerParamCounts {
  /** Attention weights TP shards (QKV / MLA up-projections, output projection, QKV bias). */
  attnTpParams: number;
  /** Attention weights replicated across TP (norms, qk-norms, MLA down-projections and their norms). */
  attnReplicatedParams: number;
  /** Dense MLP weights (TP-sharded) and its pre-MLP norm (replicated). */
  denseMlpTpParams: number;
  mlpNormParams: number;
  /** One routed expert (FC1 + FC2). */
  expertParams: number;
  /** Shared expert (TP-sharded). */
  sharedExpertTpParams: number;
  /** Router weight (+ expert bias, + the shared expert's gate: job/params.ts sharedExpertGateParams), replicated. */
  routerParams: number;
  /** Multi-token-prediction extra per MTP layer beyond its transformer layer: eh_proj (TP) and norms (replicated). */
  mtpProjTpParams: number;
  mtpNormParams: number;
}

/** Norm parameters per normalised vector of width `w`. */
export function normParams(w: number, m: ModelSpec): number {
  return m.normalization === 'LayerNorm' ? 2 * w : w;
}

/** 2 for gated linear units (SwiGLU: FC1 produces gate and up), else 1. */
export function gluFactor(m: ModelSpec): number {
  return m.swiglu ? 2 : 1;
}

export function layerParamCounts(m: ModelSpec): LayerParamCounts {
  const h = m.hidden_size;
  const a = m.num_attention_heads;
  let attnTp: number;
  let attnRep = normParams(h, m);
  if (m.multi_latent_attention) {
    const qkd = m.qk_head_dim + m.qk_pos_emb_head_dim;
    if (m.q_lora_rank > 0) {
      attnRep += h * m.q_lora_rank + normParams(m.q_lora_rank, m);
      attnTp = m.q_lora_rank * a * qkd;
    } else {
      attnTp = h * a * qkd;
    }
    attnRep += h * (m.kv_lora_rank + m.qk_pos_emb_head_dim) + normParams(m.kv_lora_rank, m);
    attnTp += m.kv_lora_rank * a * (m.qk_head_dim + m.v_head_dim);
    attnTp += a * m.v_head_dim * h;
  } else {
    const d = m.kv_channels;
    const g = m.num_query_groups;
    attnTp = h * a * d + 2 * h * g * d + a * d * h;
    if (m.add_qkv_bias || m.add_bias_linear) attnTp += (a + 2 * g) * d;
    if (m.qk_layernorm) attnRep += 2 * normParams(d, m);
  }
  // add_bias_linear: the output projection's bias (h, replicated: RowParallelLinear adds it after the reduce)
  if (m.add_bias_linear) attnRep += h;
  // learnable softmax: one sink logit per head (TP-sharded with the heads)
  if (m.softmax_type === 'learnable') attnTp += a;
  const glu = gluFactor(m);
  return {
    attnTpParams: attnTp,
    attnReplicatedParams: attnRep,
    denseMlpTpParams: (glu + 1) * h * m.ffn_hidden_size + (m.add_bias_linear ? glu * m.ffn_hidden_size : 0),
    mlpNormParams: normParams(h, m) + (m.add_bias_linear ? h : 0), // FC2 bias replicated like the norm
    expertParams: (glu + 1) * h * m.moe_ffn_hidden_size + (m.add_bias_linear ? glu * m.moe_ffn_hidden_size + h : 0),
    sharedExpertTpParams: (glu + 1) * h * m.moe_shared_expert_intermediate_size,
    routerParams: h * m.num_experts + (m.moe_router_enable_expert_bias ? m.num_experts : 0) + sharedExpertGateParams(m),
    mtpProjTpParams: 2 * h * h,
    mtpNormParams: 3 * normParams(h, m),
  };
}
