/**
 * The Megatron-Bridge recipes the `megatron-bridge` export can target, as of NVIDIA-NeMo/Megatron-Bridge 067f987
 * (2026-08-22), and the match of a job's model to one of them by its architecture.
 *
 * scripts/training/run_recipe.py --recipe NAME loads the benchmark recipe of that name when
 * src/megatron/bridge/perf_recipes/ exports one, otherwise the library recipe of src/megatron/bridge/recipes/
 * (scripts/training/recipe_runner.py load_recipe). Every recipe listed here was read at 067f987 for the three facts
 * the overrides depend on:
 * - its model is either a ModelProvider (to_megatron_provider: Megatron-Core TransformerConfig fields are
 *   model.<field>) or a builder-backed GPTModelConfig (AutoBridge.get_model_config, the Llama 3 family: the
 *   TransformerConfig sits under model.transformer, Megatron-LM megatron/training/models/gpt.py GPTModelConfig
 *   at d98e8a6, so its fields are model.transformer.<field> and only GPTModelConfig's own fields stay model.<field>);
 * - it sets cfg.comm_overlap to a CommOverlapConfig (so comm_overlap.* keys exist and are applied at setup);
 * - it sets cfg.mixed_precision to a MixedPrecisionConfig object (not a preset name), so mixed_precision.<field>
 *   keys exist.
 * A recipe that broke one of these would need other keys: it is not listed.
 *
 * The architecture of each recipe is that of the Hugging Face model the recipe loads (named in `hf`), which the
 * fixture of the same model (fixtures/models/*.yaml, each citing its config.json) states; GPT3-175B's is the
 * GPTModelProvider literal in the recipe.
 */
import type { ModelSpec } from '../job/types.js';
import { oneLine } from '../text/one-line.js';

/** The architecture fields a recipe fixes and a job's model must equal (the rest is overridden or irrelevant). */
export type RecipeArch = Pick<ModelSpec,
  'num_layers' | 'hidden_size' | 'num_attention_heads' | 'num_query_groups' | 'ffn_hidden_size'
  | 'num_experts' | 'moe_router_topk' | 'moe_ffn_hidden_size' | 'moe_shared_expert_intermediate_size'
  | 'multi_latent_attention'>;

export const RECIPE_ARCH_FIELDS: readonly (keyof RecipeArch)[] = [
  'num_layers', 'hidden_size', 'num_attention_heads', 'num_query_groups', 'ffn_hidden_size',
  'num_experts', 'moe_router_topk', 'moe_ffn_hidden_size', 'moe_shared_expert_intermediate_size', 'multi_latent_attention',
];

export interface BridgeRecipe {
  /** Model family and size, as people name it (and as moefold's fixtures name the model). */
  model: string;
  /** The function name for run_recipe.py --recipe. */
  recipe: string;
  /** Where the recipe is defined at 067f987 (src/megatron/bridge/...). */
  file: string;
  /** The Hugging Face model the recipe's model config comes from. */
  hf: string;
  /** 'provider': TransformerConfig fields at model.*; 'builder': at model.transformer.* (see the file header). */
  nesting: 'provider' | 'builder';
  arch: RecipeArch;
}

const dense = { num_experts: 0, moe_router_topk: 0, moe_ffn_hidden_size: 0, moe_shared_expert_intermediate_size: 0, multi_latent_attention: false };

/** Pre-training recipes for the model families moefold plans (recipes/<family>/h100/*.py, perf_recipes/<family>/h100/*.py). */
export const BRIDGE_RECIPES: readonly BridgeRecipe[] = [
  {
    model: 'Llama3-70B', recipe: 'llama3_70b_pretrain_32gpu_h100_bf16_config', file: 'recipes/llama/h100/llama3.py',
    hf: 'meta-llama/Meta-Llama-3-70B', nesting: 'builder',
    arch: { num_layers: 80, hidden_size: 8192, num_attention_heads: 64, num_query_groups: 8, ffn_hidden_size: 28672, ...dense },
  },
  {
    model: 'Llama3.1-405B', recipe: 'llama31_405b_pretrain_256gpu_h100_bf16_config', file: 'recipes/llama/h100/llama3.py',
    hf: 'meta-llama/Meta-Llama-3.1-405B', nesting: 'builder',
    arch: { num_layers: 126, hidden_size: 16384, num_attention_heads: 128, num_query_groups: 8, ffn_hidden_size: 53248, ...dense },
  },
  {
    model: 'GPT3-175B', recipe: 'gpt3_175b_pretrain_32gpu_h100_bf16_config', file: 'recipes/gpt/h100/gpt3_175b.py',
    hf: '(GPTModelProvider literal in the recipe)', nesting: 'provider',
    arch: { num_layers: 96, hidden_size: 12288, num_attention_heads: 96, num_query_groups: 96, ffn_hidden_size: 49152, ...dense },
  },
  {
    model: 'Qwen3-30B-A3B', recipe: 'qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config', file: 'perf_recipes/qwen/h100/qwen3_moe.py',
    hf: 'Qwen/Qwen3-30B-A3B', nesting: 'provider',
    arch: { num_layers: 48, hidden_size: 2048, num_attention_heads: 32, num_query_groups: 4, ffn_hidden_size: 6144,
      num_experts: 128, moe_router_topk: 8, moe_ffn_hidden_size: 768, moe_shared_expert_intermediate_size: 0, multi_latent_attention: false },
  },
  {
    model: 'Qwen3-235B-A22B', recipe: 'qwen3_235b_a22b_pretrain_256gpu_h100_bf16_config', file: 'perf_recipes/qwen/h100/qwen3_moe.py',
    hf: 'Qwen/Qwen3-235B-A22B', nesting: 'provider',
    arch: { num_layers: 94, hidden_size: 4096, num_attention_heads: 64, num_query_groups: 4, ffn_hidden_size: 12288,
      num_experts: 128, moe_router_topk: 8, moe_ffn_hidden_size: 1536, moe_shared_expert_intermediate_size: 0, multi_latent_attention: false },
  },
  {
    model: 'DeepSeek-V3', recipe: 'deepseek_v3_pretrain_1024gpu_h100_bf16_config', file: 'perf_recipes/deepseek/h100/deepseek_v3.py',
    hf: 'deepseek-ai/DeepSeek-V3', nesting: 'provider',
    arch: { num_layers: 61, hidden_size: 7168, num_attention_heads: 128, num_query_groups: 128, ffn_hidden_size: 18432,
      num_experts: 256, moe_router_topk: 8, moe_ffn_hidden_size: 2048, moe_shared_expert_intermediate_size: 2048, multi_latent_attention: true },
  },
];

/** The expert fields: compared only when one side has experts (a dense model's are loader defaults). */
const MOE_FIELDS: ReadonlySet<keyof RecipeArch> = new Set(['moe_router_topk', 'moe_ffn_hidden_size', 'moe_shared_expert_intermediate_size']);

/** The fields where `model` and `arch` differ, as "field model≠recipe" texts. */
function archDiff(model: ModelSpec, arch: RecipeArch): string[] {
  const moe = model.num_experts > 0 || arch.num_experts > 0;
  return RECIPE_ARCH_FIELDS.filter((f) => (moe || !MOE_FIELDS.has(f)) && model[f] !== arch[f])
    .map((f) => `${f} ${String(model[f])}≠${String(arch[f])}`);
}

/** Lower-case letters and digits only: "Llama3.1-405B" and "llama31_405b" compare equal. */
function squash(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * The recipe whose architecture `model` has, or why there is none: a recipe matches by its architecture (every
 * RECIPE_ARCH_FIELDS equal), whatever the model's name; a model named like a recipe with other sizes is told which.
 */
export function matchBridgeRecipe(model: ModelSpec): { recipe: BridgeRecipe } | { why: string } {
  const same = BRIDGE_RECIPES.find((r) => archDiff(model, r.arch).length === 0);
  if (same !== undefined) return { recipe: same };
  // the name as one line: a refusal is one line whatever the model is called
  const name = oneLine(model.name);
  const named = BRIDGE_RECIPES.find((r) => squash(r.model) === squash(model.name));
  if (named !== undefined) {
    return { why: `${name}: its architecture differs from that recipe's (${archDiff(model, named.arch).join(', ')}), recipe ${named.recipe}` };
  }
  const known = BRIDGE_RECIPES.map((r) => r.model).join(', ');
  return { why: `${name} (${model.num_layers} layers, hidden ${model.hidden_size}, ${model.num_experts} experts); it has recipes for ${known}` };
}
