/**
 * The linear layers of one decoder layer as Megatron-Core builds them, with their shapes and how tensor parallelism
 * shards them: one home for the facts the LoRA rules (enumerate/rules.ts), the adapters' and compressed weights'
 * costs (cost/finetune-shape.ts) read.
 *   GQA/MHA   linear_qkv   h → (a + 2g)·d       column (LayerNorm fused)   3 checkpoint tensors (q, k, v)
 *             linear_proj  a·d → h              row                        1 (o)
 *   MLA       linear_q_proj h → a·(qk + rope)   column                     1   (no q-LoRA)
 *             linear_q_down_proj h → q_lora     duplicated                 1
 *             linear_q_up_proj q_lora → a·(qk + rope)    column (q_layernorm fused)  1
 *             linear_kv_down_proj h → kv_lora + rope     duplicated        1
 *             linear_kv_up_proj kv_lora → a·(qk + v)     column (kv_layernorm fused) 1
 *             linear_proj  a·v → h              row                        1
 *   MLP       linear_fc1   h → GLU·F            column (LayerNorm fused in a dense layer)  GLU (gate, up)
 *             linear_fc2   F → h                row                        1 (down)
 * Megatron-Core gpt_layer_specs.py (TE spec): TELayerNormColumnParallelLinear for linear_qkv, the dense MLP's
 * linear_fc1 and MLA's up-projections; the MoE layer's pre-MLP norm is its own module (the router reads it), so the
 * shared and routed experts' linear_fc1 are not fused. MLA's down-projections are TELinear (parallel_mode
 * "duplicated": replicated across TP).
 */
import type { ModelSpec } from './types.js';
import type { LoraTarget } from './fields.js';

/** How TP (ETP for routed experts) shards a linear. */
export const enum LinearSharding { Column = 0, Row = 1, Duplicated = 2 }

export interface Linear {
  name: LoraTarget;
  in: number;
  out: number;
  sharding: LinearSharding;
  /** The norm before it is fused into it (TELayerNormColumnParallelLinear). */
  lnFused: boolean;
  /** Weight tensors a Hugging Face checkpoint stores for it. */
  tensors: number;
}

/** The attention linears of `m` (header table). */
export function attentionLinears(m: ModelSpec): Linear[] {
  const h = m.hidden_size;
  const a = m.num_attention_heads;
  if (m.multi_latent_attention) {
    const qkd = m.qk_head_dim + m.qk_pos_emb_head_dim;
    const q: Linear[] = m.q_lora_rank === 0
      ? [{ name: 'linear_q_proj', in: h, out: a * qkd, sharding: LinearSharding.Column, lnFused: false, tensors: 1 }]
      : [{ name: 'linear_q_down_proj', in: h, out: m.q_lora_rank, sharding: LinearSharding.Duplicated, lnFused: false, tensors: 1 },
        { name: 'linear_q_up_proj', in: m.q_lora_rank, out: a * qkd, sharding: LinearSharding.Column, lnFused: true, tensors: 1 }];
    return [...q,
      { name: 'linear_kv_down_proj', in: h, out: m.kv_lora_rank + m.qk_pos_emb_head_dim, sharding: LinearSharding.Duplicated, lnFused: false, tensors: 1 },
      { name: 'linear_kv_up_proj', in: m.kv_lora_rank, out: a * (m.qk_head_dim + m.v_head_dim), sharding: LinearSharding.Column, lnFused: true, tensors: 1 },
      { name: 'linear_proj', in: a * m.v_head_dim, out: h, sharding: LinearSharding.Row, lnFused: false, tensors: 1 }];
  }
  const d = m.kv_channels;
  return [
    { name: 'linear_qkv', in: h, out: (a + 2 * m.num_query_groups) * d, sharding: LinearSharding.Column, lnFused: true, tensors: 3 },
    { name: 'linear_proj', in: a * d, out: h, sharding: LinearSharding.Row, lnFused: false, tensors: 1 },
  ];
}

/** The two linears of an MLP of width `ffn` (none when ffn is 0); `lnFused`: a dense layer's MLP. */
export function mlpLinears(m: ModelSpec, ffn: number, lnFused: boolean): Linear[] {
  if (ffn === 0) return [];
  const glu = m.swiglu ? 2 : 1;
  return [
    { name: 'linear_fc1', in: m.hidden_size, out: glu * ffn, sharding: LinearSharding.Column, lnFused, tensors: glu },
    { name: 'linear_fc2', in: ffn, out: m.hidden_size, sharding: LinearSharding.Row, lnFused: false, tensors: 1 },
  ];
}

/** The linears of each part of a decoder layer that holds them (an MoE model's dense MLP only with dense layers). */
export interface LayerLinears { attention: Linear[]; denseMlp: Linear[]; sharedExpert: Linear[]; expert: Linear[] }

export function layerLinears(m: ModelSpec, hasDenseLayers: boolean): LayerLinears {
  const moe = m.num_experts > 0;
  return {
    attention: attentionLinears(m),
    denseMlp: hasDenseLayers ? mlpLinears(m, m.ffn_hidden_size, true) : [],
    sharedExpert: moe ? mlpLinears(m, m.moe_shared_expert_intermediate_size, false) : [],
    expert: moe ? mlpLinears(m, m.moe_ffn_hidden_size, false) : [],
  };
}

/**
 * Megatron-Bridge's LoRA adapter of a linear (peft/utils.py ParallelLinearAdapter at 067f987): linear_in (A: in → r)
 * is a RowParallelLinear for a row-parallel base, else a ColumnParallelLinear over r; linear_out (B: r → out) a
 * ColumnParallelLinear over out. Both divide by the group size (megatron.core.utils.divide): what an adapted linear
 * needs of TP (ETP for experts), or null.
 */
export function loraShardingProblem(l: Linear, rank: number, shards: number): string | null {
  if (l.sharding !== LinearSharding.Row && rank % shards !== 0) return `lora_rank ${rank}`;
  if (l.out % shards !== 0) return `the ${l.name} adapter's output width ${l.out}`;
  return null;
}
