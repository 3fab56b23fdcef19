/**
 * `megatron-bridge` format: the plan as ConfigContainer overrides for NVIDIA-NeMo/Megatron-Bridge, in Hydra
 * `key=value` form, one per line (`#` lines are comments), for the recipe of the model (bridge-recipes.ts; a model
 * Bridge has no recipe for is refused). They go after the recipe on scripts/training/run_recipe.py, which runs in an
 * existing distributed environment (one process per GPU, started by torchrun or srun) and applies its trailing
 * KEY=VALUE overrides to the recipe's ConfigContainer (training/utils/omegaconf_utils.py: Hydra's override parser
 * on the container in OmegaConf struct mode, so every key must already exist). The model's own hyper-parameters
 * (rotary base and percent, Llama 3 rope scaling, norm epsilon, init std, shared-expert gate), the parallel mapping,
 * MoE dispatch, communication overlap, recompute, precision, batch, logging and environment are overridden: the
 * recipe owns the architecture's sizes (matched to the job's), data, tokenizer and optimizer.
 *
 * Keys checked against Megatron-Bridge 067f987 (2026-08-22) and Megatron-LM d98e8a6; the snapshot of every key with
 * its type is data/upstream/megatron-bridge-067f987.json (scripts/bridge_keys.py), tested by
 * test/export/bridge-keys.test.ts:
 * - scripts/training/run_recipe.py: trailing overrides, model.*_parallel_size, train.micro_batch_size,
 *   train.global_batch_size, dataset.seq_length (model.seq_length is synchronised from it after the overrides);
 *   a benchmark recipe keeps an explicit train.global_batch_size (no weak scaling);
 * - recipes built with AutoBridge.get_model_config (Llama 3) hold a Megatron-LM GPTModelConfig
 *   (megatron/training/models/gpt.py @ d98e8a6) whose TransformerConfig is its `transformer` field: those keys are
 *   model.transformer.<field> (bridge-recipes.ts);
 * - training/comm_overlap.py CommOverlapConfig.setup: at run time it writes its own overlap_grad_reduce /
 *   overlap_param_gather into ddp and optimizer (when the distributed optimizer is on) and tp_comm_overlap,
 *   overlap_moe_expert_parallel_comm, delay_wgrad_compute into the model, defaulting each to off unless the user
 *   set it on comm_overlap: those are written as comm_overlap.* (the ddp.* ones too, which stick without the
 *   distributed optimizer);
 * - training/mixed_precision.py MixedPrecisionConfig.setup copies its fields into model, optimizer and ddp: the
 *   precision is written field by field on mixed_precision.* (a preset name would replace the recipe's settings)
 *   with the same FP8 format and recipe as the Megatron-LM export (megatron-launch.ts); training/config.py
 *   validate(): fp8_param_gather with mxfp8 needs reuse_grad_buf_for_mxfp8_param_ag;
 * - scripts/training/recipe_runner.py sync_model_pipeline_layout: setting model.pipeline_model_parallel_layout
 *   stops the runner from rebuilding a recipe's own layout; docs recipe-usage (`++env_vars.NAME=value`).
 *
 * A LoRA job (isLoraRun: a frozen base with adapters) targets the PEFT recipe of its architecture
 * (bridge-recipes.ts BRIDGE_PEFT_RECIPES, with the facts read per recipe), run with `--mode lora`, and adds the job's
 * peft.dim / peft.alpha / peft.target_modules / peft.share_expert_adapters (MoE) on the recipe's LoRA. Where the
 * recipe differs from the pre-training ones:
 * - no CommOverlapConfig (comm_overlap None): the overlap switches are written as the model's own
 *   ModelParallelConfig fields (nothing at setup would copy comm_overlap.* into the model), ddp.* for DP overlap;
 * - mixed_precision a preset NAME (Llama 3 70B's "bf16_mixed"): `mixed_precision=<name>`, and what the preset cannot
 *   express (fp8, bf16 gradient reduce) is refused;
 * - the packed SQuAD dataset of _peft_common: micro-batch size 1 only;
 * - checkpoint.pretrained_checkpoint (required: training/config.py L1627 "PEFT requires a pretrained checkpoint
 *   path") is left unset, and the header's command passes run_recipe.py's --pretrained_checkpoint PATH. A written
 *   placeholder path would pass the override parser and fail later (ConfigContainer finalize's file check), an
 *   OmegaConf `${oc.env:…}` interpolation is what hydraValue refuses; unset, a forgotten path stops the run at
 *   validate() with Bridge's own message, before any weight is loaded.
 * What a launcher cannot run at all (Megatron-LM and torchtitan for LoRA, int4/codebook bases, an fp8 base on
 * Bridge) is refused before this file is built (finetune-refusals.ts).
 */
import type { Plan } from '../enumerate/plan.js';
import { isUnevenSplit } from '../plan/layout.js';
import { epA2aOverlapRuns, fp8ParamGatherRuns, fp8RecipeOf, recomputeModulesOf, routerPaddingRuns, tpCommOverlapRuns } from '../job/stack.js';
import { inputError } from '../job/errors.js';
import type { Job, ModelShape } from '../job/types.js';
import { isLoraRun } from '../job/finetune.js';
import { matchBridgePeftRecipe, matchBridgeRecipe, type BridgePeftRecipe } from './bridge-recipes.js';
import { gpuArchMajor } from './gpu-arch.js';
import { MEGATRON_LOG_INTERVAL, megatronLaunch } from './megatron-launch.js';
import { planSummaryLines } from './plan-summary.js';
import { comment, hasUnsafeChar, oneLine } from './shell.js';

type HydraValue = number | boolean | null | string | string[];

/** Hydra's unquoted words that are not strings (OverrideLexer.g4: BOOL, NULL, FLOAT's inf/nan), any case. */
const HYDRA_KEYWORD = /^(true|false|null|inf|nan)$/i;

/**
 * A value in Hydra's override grammar (hydra/grammar/OverrideLexer.g4, as of facebookresearch/hydra 2c03d1b):
 * numbers, booleans and null as they are; a string bare when it is a plain ID-like word (letters, digits, _ . -,
 * not a keyword), otherwise double-quoted. Inside a quoted value only a quote and the backslashes before a quote
 * (or before the closing quote) are special: the quote is written \" and each such run of backslashes doubled;
 * other backslashes are literal. Hydra hands the string to OmegaConf, which would resolve a `${…}` interpolation
 * in it, and a line break would split the one-override-per-line file: text holding either is refused
 * (`refuse` throws), never written.
 */
export function hydraValue(v: HydraValue, refuse: (why: string) => never): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map((x) => hydraValue(x, refuse)).join(',')}]`;
  if (typeof v !== 'string') return String(v);
  const shown = oneLine(JSON.stringify(v));
  if (hasUnsafeChar(v)) refuse(`the value ${shown}: a control character, line break or lone surrogate cannot be in a Hydra override line`);
  if (v.includes('${')) refuse(`the value ${shown}: it would be read as an OmegaConf interpolation`);
  if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(v) && !HYDRA_KEYWORD.test(v)) return v;
  return `"${v.replace(/(\\*)("|$)/g, (_m, bs: string, q: string) => `${bs}${bs}${q === '"' ? '\\"' : ''}`)}"`;
}

/**
 * GPTModelConfig's own fields the export writes (megatron/training/models/gpt.py @ d98e8a6; the same names are
 * GPTModelProvider fields, src/megatron/bridge/models/gpt_provider.py @ 067f987): never under model.transformer.
 */
const GPT_MODEL_CONFIG_FIELDS: ReadonlySet<string> = new Set(['seq_length', 'rotary_base', 'rotary_percent', 'rope_scaling', 'rope_scaling_factor']);

export function bridgeOverrides(job: Job, shape: ModelShape, plan: Plan, rank: number): string {
  // the same launch Megatron-LM would run: refuses what Megatron refuses, and gives the environment
  const { env } = megatronLaunch(job, shape, plan);
  const refuse = (why: string): never => {
    throw inputError(job.source, 'export', `megatron-bridge cannot express ${why}`);
  };
  // a LoRA job runs the PEFT recipe of its architecture with --mode lora (bridge-recipes.ts BRIDGE_PEFT_RECIPES)
  const lora = isLoraRun(job.training);
  const match = lora ? matchBridgePeftRecipe(job.model) : matchBridgeRecipe(job.model);
  if ('why' in match) throw inputError(job.source, 'export', `megatron-bridge has no ${lora ? 'PEFT (LoRA) ' : ''}recipe for ${match.why}`);
  const { recipe } = match;
  const peft: BridgePeftRecipe | null = lora ? match.recipe as BridgePeftRecipe : null;
  // pre-training recipes all set a CommOverlapConfig (bridge-recipes.ts); PEFT recipes say
  const commOverlap = peft === null || peft.commOverlap;
  const arch = gpuArchMajor(job.cluster.gpu);
  const kv: [string, HydraValue][] = [];
  const set = (k: string, v: HydraValue): void => {
    kv.push([k, v]);
  };
  // a Megatron-Core TransformerConfig / ModelParallelConfig field: model.<f>, or model.transformer.<f> in a
  // builder-backed recipe (bridge-recipes.ts)
  const model = (f: string, v: HydraValue): void => {
    set(recipe.nesting === 'builder' && !GPT_MODEL_CONFIG_FIELDS.has(f) ? `model.transformer.${f}` : `model.${f}`, v);
  };

  if (peft !== null) peftKeys(job, shape, plan, peft, set, refuse);

  // ---- the model's own hyper-parameters (job.model, src/job/rope.ts): the recipe owns the architecture's sizes
  // (matched above) but these are written, so the Bridge run trains the network the Megatron-LM export trains
  // (e.g. the DeepSeek-V3 recipe's init std, Llama 3's rope scaling); the same fields as TransformerConfig /
  // GPTModelProvider keys ----
  const m = job.model;
  if (m.position_embedding_type === 'rope') {
    model('rotary_base', m.rotary_base);
    model('rotary_percent', m.rotary_percent);
    if (!m.multi_latent_attention) {
      // MLA's YaRN comes with the recipe's MLA provider (built from the model's HF config); standard attention
      // has GPTModelProvider's Llama 3.x switch only
      if (m.rope_scaling?.type === 'yarn') refuse('YaRN rope scaling on standard attention (this export writes no YaRN keys for GPTModelProvider)');
      model('rope_scaling', m.rope_scaling !== null);
      if (m.rope_scaling !== null) model('rope_scaling_factor', m.rope_scaling.factor);
    }
  }
  model('layernorm_epsilon', m.norm_epsilon);
  model('init_method_std', m.init_method_std);
  if (shape.isMoe && m.moe_shared_expert_intermediate_size > 0) model('moe_shared_expert_gate', m.moe_shared_expert_gate);
  // ---- end of the model's own hyper-parameters ----

  model('tensor_model_parallel_size', plan.tp);
  model('context_parallel_size', plan.cp);
  model('pipeline_model_parallel_size', plan.pp);
  model('virtual_pipeline_model_parallel_size', plan.vpp > 1 ? plan.vpp : null);
  // the plan's split replaces any layout the recipe builds for its own PP size (a layout's VPP is its stage
  // count / PP, which the plan's VPP equals: TransformerConfig accepts a VPP equal to the layout's)
  model('pipeline_model_parallel_layout', plan.layout === '' ? null : plan.layout);
  model('account_for_embedding_in_pipeline_split', plan.accountEmbedding);
  model('account_for_loss_in_pipeline_split', plan.accountLoss);
  model('microbatch_group_size_per_vp_stage', plan.vpp > 1 && plan.mbGroup !== plan.pp ? plan.mbGroup : null);
  const uneven = isUnevenSplit(plan, job.model.num_layers);
  model('num_layers_in_first_pipeline_stage', uneven ? plan.firstStageLayers : null);
  model('num_layers_in_last_pipeline_stage', uneven ? plan.lastStageLayers : null);
  if (shape.isMoe) {
    model('expert_model_parallel_size', plan.ep);
    model('expert_tensor_parallel_size', plan.etp);
  }
  model('sequence_parallel', plan.sequenceParallel);
  const st = job.training;
  const a2a = shape.isMoe && epA2aOverlapRuns(job, plan);
  if (shape.isMoe) {
    model('moe_token_dispatcher_type', plan.dispatcher);
    // a str field (never null): written for flex only, the others ignore it
    if (plan.dispatcher === 'flex') model('moe_flex_dispatcher_backend', job.training.moe_flex_dispatcher_backend);
    // shared-expert overlap works with alltoall and flex only, and not with the EP A2A overlap
    // (comm_overlap.py _get_model_comm_overlap_cfgs)
    if (plan.dispatcher === 'allgather' || a2a) model('moe_shared_expert_overlap', false);
    model('moe_grouped_gemm', true);
  }
  // ---- software stack (job.training, src/job/stack.ts): Megatron-Core TransformerConfig / ModelParallelConfig
  // fields through model(), overlap switches as comm_overlap.* (see the header); written where the Megatron-LM
  // export writes the flag (the same conditions), so both launches run the same stack. New stack fields go here. ----
  if (shape.isMoe) {
    model('moe_permute_fusion', st.moe_permute_fusion);
    model('moe_router_fusion', st.moe_router_fusion);
    model('moe_router_force_load_balancing', st.moe_router_force_load_balancing);
    model('moe_expert_capacity_factor', st.moe_expert_capacity_factor);
    // moe_router_padding_for_quantization (transformer_config.py L771, Megatron-LM d98e8a6), under the condition the
    // Megatron-LM export writes its alias --moe-router-padding-for-fp8 with; the alias can only switch padding on
    // (L2641-2647), so a false would not undo a recipe's padding_for_quantization=True
    model('moe_router_padding_for_quantization', routerPaddingRuns(job, shape.isMoe, plan));
  }
  // without a CommOverlapConfig (a PEFT recipe's comm_overlap None) nothing copies these into the model: they are
  // written there, the ModelParallelConfig fields Megatron-Core reads (Bridge's initialize.py L236 sets up the TP
  // overlap's userbuffers from model.tp_comm_overlap)
  const overlap = (f: string, v: boolean): void => {
    if (commOverlap) set(`comm_overlap.${f}`, v);
    else model(f, v);
  };
  overlap('overlap_moe_expert_parallel_comm', a2a);
  overlap('delay_wgrad_compute', a2a && st.delay_wgrad_compute);
  overlap('tp_comm_overlap', tpCommOverlapRuns(job, plan));
  model('cross_entropy_loss_fusion', st.cross_entropy_loss_fusion);
  model('cross_entropy_fusion_impl', st.cross_entropy_fusion_impl);
  model('cuda_graph_impl', st.cuda_graph_impl);
  if (st.cuda_graph_impl !== 'none' && st.cuda_graph_modules.length > 0) model('cuda_graph_modules', st.cuda_graph_modules);
  model('attention_dropout', st.attention_dropout);
  model('hidden_dropout', st.hidden_dropout);
  // Megatron-LM's --manual-gc / --manual-gc-interval are TrainingConfig fields (megatron/training/config/
  // training_config.py), Bridge's train.* keys; a 0 interval is Megatron's own default (collect at checkpoints only)
  set('train.manual_gc', st.manual_gc);
  set('train.manual_gc_interval', st.manual_gc ? st.manual_gc_interval : 0);
  // ---- end of software stack ----
  if (plan.recompute === 'none') {
    model('recompute_granularity', null);
    model('recompute_method', null);
    model('recompute_num_layers', null);
    model('recompute_modules', null);
  } else if (plan.recompute === 'selective') {
    model('recompute_granularity', 'selective');
    model('recompute_method', null);
    model('recompute_num_layers', null);
    model('recompute_modules', recomputeModulesOf(job));
  } else {
    model('recompute_granularity', 'full');
    model('recompute_method', 'uniform');
    model('recompute_num_layers', 1);
    model('recompute_modules', null);
  }
  model('seq_length', job.training.seq_length);
  set('dataset.seq_length', job.training.seq_length);
  set('train.micro_batch_size', plan.microBatchSize);
  set('train.global_batch_size', job.training.global_batch_size);
  set('ddp.use_distributed_optimizer', plan.distributedOptimizer);
  set('optimizer.use_distributed_optimizer', plan.distributedOptimizer);
  // data-parallel overlap: comm_overlap's values replace ddp's and optimizer's at setup when the distributed
  // optimizer is on; without it ddp's stick. Both are written, equal.
  if (commOverlap) {
    set('comm_overlap.overlap_grad_reduce', true);
    set('comm_overlap.overlap_param_gather', plan.distributedOptimizer);
  }
  set('ddp.overlap_grad_reduce', true);
  set('ddp.overlap_param_gather', plan.distributedOptimizer);
  set('optimizer.overlap_param_gather', plan.distributedOptimizer);
  // logging for `moefold calibrate`, as the Megatron-LM export (megatron-launch.ts, logging): Bridge's LoggerConfig
  // extends Megatron-LM's (log_interval, log_throughput) and prints the same "elapsed time per iteration (ms)" and
  // "throughput per GPU (TFLOP/s/GPU)" fields (training/utils/train_utils.py training_log L1093–1096); its memory
  // report is its own ("memory (GB) | <torch memory_stats key>: ..."), printed at the first logged iterations
  set('logger.log_interval', MEGATRON_LOG_INTERVAL);
  set('logger.log_throughput', true);
  // precision, field by field on the recipe's MixedPrecisionConfig: bf16 compute, and on fp8 plans the Megatron-LM
  // export's --fp8-format e4m3 --fp8-recipe <recipe> (megatron-launch.ts) and its --fp8-param-gather condition; a PEFT
  // recipe whose precision is a preset name gets that name (presetPrecision: what it can run)
  const preset = peft?.precisionPreset ?? null;
  if (peft !== null && preset !== null) {
    presetPrecision(job, plan, peft, preset, refuse);
    set('mixed_precision', preset);
  } else {
    set('mixed_precision.bf16', true);
    set('mixed_precision.fp16', false);
    if (plan.precision === 'bf16') {
      set('mixed_precision.fp8', null);
      set('mixed_precision.fp8_param_gather', false);
    } else {
      const fp8Recipe = fp8RecipeOf(job, arch);
      const gather = fp8ParamGatherRuns(job, plan);
      set('mixed_precision.fp8', 'e4m3');
      set('mixed_precision.fp8_recipe', fp8Recipe);
      set('mixed_precision.fp8_param_gather', gather);
      // training/config.py validate(): fp8_param_gather with mxfp8 needs the gradient buffer reused for the gather
      if (fp8Recipe === 'mxfp8') set('mixed_precision.reuse_grad_buf_for_mxfp8_param_ag', gather);
    }
    set('mixed_precision.grad_reduce_in_fp32', !st.grad_reduce_in_bf16);
  }
  set('ddp.grad_reduce_in_fp32', !st.grad_reduce_in_bf16);
  for (const [k, v] of Object.entries(env)) set(`++env_vars.${k}`, /^\d+$/.test(v) ? Number(v) : v);

  const nodes = Math.ceil(job.cluster.gpus / job.cluster.gpus_per_node);
  const perNode = Math.min(job.cluster.gpus, job.cluster.gpus_per_node);
  const lines = [
    ...comment([
      ...planSummaryLines(job, shape, plan, rank),
      '',
      'Megatron-Bridge ConfigContainer overrides (Hydra key=value, one per line) for scripts/training/run_recipe.py',
      `with the ${peft !== null ? 'PEFT ' : ''}recipe ${recipe.recipe} (${recipe.model}, src/megatron/bridge/${recipe.file}),`,
      `whose data, tokenizer and optimizer are kept. run_recipe.py runs in an existing distributed environment:`,
      `start one process per GPU on each of the ${nodes} node(s), from the Megatron-Bridge checkout, e.g.`,
      "  mapfile -t OVERRIDES < <(grep -v '^#' plan.bridge-overrides.txt)",
      `  torchrun --nnodes ${nodes} --nproc-per-node ${perNode} --node-rank "$NODE_RANK" --master-addr "$MASTER_ADDR" \\`,
      `    --master-port "$MASTER_PORT" scripts/training/run_recipe.py --recipe ${recipe.recipe} --mode ${peft !== null ? 'lora' : 'pretrain'}${peft !== null ? ' \\' : ' "${OVERRIDES[@]}"'}`,
      ...(peft !== null ? ['    --pretrained_checkpoint /path/to/base-checkpoint "${OVERRIDES[@]}"'] : []),
      `(${job.cluster.gpus} GPUs in all; under SLURM, srun with one task per GPU works too: run_recipe.py reads WORLD_SIZE or SLURM_NTASKS).`,
      'Keys checked against NVIDIA-NeMo/Megatron-Bridge 067f987 (2026-08-22), see src/export/bridge-overrides.ts.',
      ...(peft !== null ? peftHeader(job) : []),
      ...recipeOwned(job),
    ]),
    ...kv.map(([k, v]) => `${k}=${hydraValue(v, refuse)}`),
    '',
  ];
  return lines.join('\n');
}

/**
 * Stack facts of the job that these overrides leave to the recipe (its optimizer owns them), as comment lines, so
 * a run that needs them sets them in the recipe: the optimizer dtypes.
 */
function recipeOwned(job: Job): string[] {
  const s = job.training;
  const set: string[] = [];
  if (s.use_precision_aware_optimizer) {
    set.push(`precision-aware optimizer: main params ${s.main_params_dtype}, exp_avg ${s.exp_avg_dtype}, exp_avg_sq ${s.exp_avg_sq_dtype} (optimizer)`);
  }
  return set.length === 0 ? [] : ['', 'Left to the recipe (set them there): ' + set.join('; ') + '.'];
}

/**
 * A LoRA job's PEFT keys on the recipe's LoRA (peft/lora.py L143-157: dim, alpha int; target_modules list of
 * str; share_expert_adapters bool), and what a PEFT recipe cannot take: a micro-batch above 1 (its packed dataset).
 * checkpoint.pretrained_checkpoint is not written (see peftHeader).
 */
function peftKeys(job: Job, shape: ModelShape, plan: Plan, recipe: BridgePeftRecipe, set: (k: string, v: HydraValue) => void,
  refuse: (why: string) => never): void {
  const t = job.training;
  if (plan.microBatchSize > 1) {
    refuse(`micro-batch size ${plan.microBatchSize} with ${recipe.recipe}: its dataset packs sequences offline `
      + '(recipes/common.py _peft_common), and Bridge then needs micro_batch_size 1 (training/config.py validate): tune with --fix mbs=1');
  }
  if (!Number.isInteger(t.lora_alpha)) refuse(`lora_alpha ${t.lora_alpha}: Bridge's LoRA alpha is an integer (peft/lora.py LoRA.alpha: int)`);
  set('peft.dim', t.lora_rank);
  set('peft.alpha', t.lora_alpha);
  set('peft.target_modules', [...t.lora_target_modules]);
  // one adapter per grouped expert linear shared by an EP rank's local experts, or one per expert (MoE only)
  if (shape.isMoe) set('peft.share_expert_adapters', t.lora_share_expert_adapters);
}

/**
 * What a recipe whose mixed_precision is a preset NAME can run: the preset's precision only, since
 * mixed_precision.<field> keys do not exist on a string, and ConfigContainer's finalize copies the preset's fields
 * over model, optimizer and ddp (training/mixed_precision.py setup / update_config_with_precision_overrides
 * L113-157: ddp.grad_reduce_in_fp32 included). bf16_mixed (L184-197): bf16, no fp8, gradients reduced in fp32.
 * Bridge's fp8 presets use the hybrid format (L217-400), not the e4m3 of the plan (megatron-launch.ts).
 */
function presetPrecision(job: Job, plan: Plan, recipe: BridgePeftRecipe, preset: string, refuse: (why: string) => never): void {
  const where = `${recipe.recipe}'s mixed_precision is the preset name ${preset} (src/megatron/bridge/${recipe.file}), which has no fields to override`;
  if (plan.precision !== 'bf16') refuse(`${plan.precision} training on this PEFT recipe: ${where} (and Bridge's fp8 presets use the hybrid format, not the plan's e4m3)`);
  if (job.training.grad_reduce_in_bf16) refuse(`grad_reduce_in_bf16 on this PEFT recipe: ${where}, and ${preset} reduces gradients in fp32`);
}

/** The header lines of a LoRA export: the base checkpoint it needs, and the recipe's own LoRA for comparison. */
function peftHeader(job: Job): string[] {
  const t = job.training;
  return [
    '',
    `LoRA (--mode lora): rank ${t.lora_rank}, alpha ${t.lora_alpha}, on ${t.lora_target_modules.join(', ')}; the base model is frozen.`,
    'The base weights: PEFT needs checkpoint.pretrained_checkpoint (a Megatron or Hugging Face checkpoint directory),',
    'which this file leaves unset: pass it as --pretrained_checkpoint PATH (run_recipe.py turns it into that override),',
    'or append checkpoint.pretrained_checkpoint=PATH. Without it Bridge stops at start-up ("PEFT requires a',
    'pretrained checkpoint path", training/config.py validate); a made-up path here would only fail later.',
  ];
}
