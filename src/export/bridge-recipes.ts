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

/**
 * A PEFT (LoRA) recipe: run with `run_recipe.py --recipe NAME --mode lora`, which loads it with peft_scheme "lora"
 * (run_recipe.py L425-429, recipe_runner.py _recipe_kwargs_for_signature L133-135) and runs the finetune loop
 * (run_recipe.py L498/L510: a library recipe, not a benchmark one). Every one builds on recipes/common.py
 * _peft_common (L238-344): a LoRA `peft` (so peft.dim, peft.alpha, peft.target_modules, peft.share_expert_adapters
 * exist: the LoRA dataclass, peft/lora.py L143-157), `comm_overlap=None` (L327), checkpoint.pretrained_checkpoint
 * None (L319), and a SQuAD dataset packed offline (L262-302), with which Bridge's validate() requires
 * micro_batch_size 1 (training/config.py L1600-1617). The facts that differ per recipe are fields here.
 */
export interface BridgePeftRecipe extends BridgeRecipe {
  /**
   * The recipe sets cfg.mixed_precision to this preset NAME (a string: mixed_precision.<field> keys do not exist
   * there; ConfigContainer.finalize turns it into the preset's MixedPrecisionConfig, training/config.py L2012-2016),
   * or null where it sets a MixedPrecisionConfig object.
   */
  precisionPreset: string | null;
  /** The recipe sets cfg.comm_overlap to a CommOverlapConfig (comm_overlap.* keys exist), or leaves _peft_common's None. */
  commOverlap: boolean;
  /** The recipe's LoRA settings with --mode lora, for the header (the export writes the job's). */
  lora: { dim: number; alpha: number; targets: string[] };
}

const archOf = (model: string): RecipeArch => {
  const r = BRIDGE_RECIPES.find((x) => x.model === model);
  if (r === undefined) throw new Error(`no pre-training recipe for ${model}`);
  return r.arch;
};

/**
 * The PEFT recipes for the model families moefold plans, read at 067f987 (line numbers of that commit). Mixtral, Llama 2,
 * GPT3-175B and DeepSeek-V3 have none (`git grep "def .*peft.*config" -- src/megatron/bridge/recipes` lists no
 * mixtral, llama2, gpt3 or deepseek function; recipes/deepseek/ holds pretrain and sft recipes only).
 * - llama3_70b_peft_config: the generic alias of recipes/llama/h100/llama3.py llama3_70b_peft_8gpu_h100_bf16_config
 *   (recipes/llama/llama3.py L41). The h100 name itself is not used: perf_recipes exports the same name and
 *   run_recipe.py then loads the benchmark recipe (scripts/training/recipe_metadata.py
 *   BENCHMARK_RECIPE_PRECEDENCE_COLLISIONS L52-64), a fixed LoRA benchmark on mock data
 *   (perf_recipes/llama/h100/llama3.py L400-413, run_recipe.py _apply_benchmark_dataset_defaults L397-415).
 *   The library recipe: AutoBridge get_model_config (L2593, builder), dim 16 alpha 32 (L2605-2609) on the default
 *   targets, mixed_precision = "bf16_mixed" (L2625, a preset string), comm_overlap from _peft_common (None).
 * - llama31_405b_peft_32gpu_h100_bf16_config (recipes/llama/h100/llama3.py L2816): get_model_config (L2834,
 *   builder), dim 16 alpha 32 targets [linear_qkv] (L2849-2851), mixed_precision an object (L2871-2872),
 *   comm_overlap = CommOverlapConfig(tp_comm_overlap=False) (L2934).
 * - qwen3_30b_a3b_peft_4gpu_h100_bf16_config (recipes/qwen/h100/qwen3_moe.py L685): to_megatron_provider (L697-699,
 *   provider), dim 8 alpha 16 targets [linear_qkv, linear_proj] (L723-727), mixed_precision = bf16_mixed() (L745, an
 *   object), comm_overlap left None (L814 commented out).
 * - qwen3_235b_a22b_peft_16gpu_h100_bf16_config (qwen3_moe.py L849): to_megatron_provider (L862), dim 8 alpha 16
 *   targets [linear_qkv, linear_proj] (L889-892), bf16_mixed() (L909), comm_overlap None (L966 commented out).
 * perf_recipes/qwen/ exports no PEFT recipe, so the Qwen3 h100 names load the library recipes.
 */
export const BRIDGE_PEFT_RECIPES: readonly BridgePeftRecipe[] = [
  {
    model: 'Llama3-70B', recipe: 'llama3_70b_peft_config', file: 'recipes/llama/h100/llama3.py',
    hf: 'meta-llama/Meta-Llama-3-70B', nesting: 'builder', arch: archOf('Llama3-70B'),
    precisionPreset: 'bf16_mixed', commOverlap: false,
    lora: { dim: 16, alpha: 32, targets: ['linear_qkv', 'linear_proj', 'linear_fc1', 'linear_fc2'] },
  },
  {
    model: 'Llama3.1-405B', recipe: 'llama31_405b_peft_32gpu_h100_bf16_config', file: 'recipes/llama/h100/llama3.py',
    hf: 'meta-llama/Meta-Llama-3.1-405B', nesting: 'builder', arch: archOf('Llama3.1-405B'),
    precisionPreset: null, commOverlap: true, lora: { dim: 16, alpha: 32, targets: ['linear_qkv'] },
  },
  {
    model: 'Qwen3-30B-A3B', recipe: 'qwen3_30b_a3b_peft_4gpu_h100_bf16_config', file: 'recipes/qwen/h100/qwen3_moe.py',
    hf: 'Qwen/Qwen3-30B-A3B', nesting: 'provider', arch: archOf('Qwen3-30B-A3B'),
    precisionPreset: null, commOverlap: false, lora: { dim: 8, alpha: 16, targets: ['linear_qkv', 'linear_proj'] },
  },
  {
    model: 'Qwen3-235B-A22B', recipe: 'qwen3_235b_a22b_peft_16gpu_h100_bf16_config', file: 'recipes/qwen/h100/qwen3_moe.py',
    hf: 'Qwen/Qwen3-235B-A22B', nesting: 'provider', arch: archOf('Qwen3-235B-A22B'),
    precisionPreset: null, commOverlap: false, lora: { dim: 8, alpha: 16, targets: ['linear_qkv', 'linear_proj'] },
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
  return matchIn(BRIDGE_RECIPES, model);
}

/** The PEFT recipe whose architecture `model` has, or why there is none (as matchBridgeRecipe). */
export function matchBridgePeftRecipe(model: ModelSpec): { recipe: BridgePeftRecipe } | { why: string } {
  return matchIn(BRIDGE_PEFT_RECIPES, model);
}

function matchIn<R extends BridgeRecipe>(recipes: readonly R[], model: ModelSpec): { recipe: R } | { why: string } {
  const same = recipes.find((r) => archDiff(model, r.arch).length === 0);
  if (same !== undefined) return { recipe: same };
  // the name as one line: a refusal is one line whatever the model is called
  const name = oneLine(model.name);
  const named = recipes.find((r) => squash(r.model) === squash(model.name));
  if (named !== undefined) {
    return { why: `${name}: its architecture differs from that recipe's (${archDiff(model, named.arch).join(', ')}), recipe ${named.recipe}` };
  }
  const known = recipes.map((r) => r.model).join(', ');
  return { why: `${name} (${model.num_layers} layers, hidden ${model.hidden_size}, ${model.num_experts} experts); it has recipes for ${known}` };
}
