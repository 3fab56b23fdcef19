import type { ModelSpec } from '../job/types.js';

/**
 * What a plan's `recompute: selective` means, in Megatron's `--recompute-modules` names. Megatron's own default
 * (`core_attn` alone) saves almost nothing once flash attention keeps no s² scores, so moefold's selective
 * recompute also drops the cheap-to-recompute, memory-heavy pieces, as NVIDIA's MoE recipes do:
 * layer norms, the MoE activation function (needs --moe-grouped-gemm, which moefold always emits) and, for MLA,
 * the up-projections. Both the cost model and the Megatron export read this list, so they cannot disagree.
 */
export function selectiveRecomputeModules(model: ModelSpec): string[] {
  const modules = ['core_attn', 'layernorm'];
  if (model.num_experts > 0) modules.push('moe_act');
  if (model.multi_latent_attention) modules.push('mla_up_proj');
  return modules;
}
