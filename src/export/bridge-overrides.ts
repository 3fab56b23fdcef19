/**
 * `megatron-bridge` format: the plan as ConfigContainer overrides for NVIDIA-NeMo/Megatron-Bridge, in Hydra
 * `key=value` form, one per line (`#` lines are comments). They go after the recipe of the model on
 * scripts/training/run_recipe.py, which applies trailing KEY=VALUE overrides to the recipe's ConfigContainer.
 * Only the parallel mapping, MoE dispatch, recompute, precision, batch, logging and environment are overridden:
 * the recipe owns the architecture, data, tokenizer and optimizer.
 *
 * Key names were checked against Megatron-Bridge 067f987 (2026-08-22):
 * - scripts/training/run_recipe.py: the trailing KEY=VALUE overrides and the model.* parallel keys
 *   (model.tensor_model_parallel_size, model.virtual_pipeline_model_parallel_size,
 *   model.expert_tensor_parallel_size, …; train.micro_batch_size, train.global_batch_size, dataset.seq_length);
 * - docs/megatron-lm-to-megatron-bridge.md and scripts/translate_mlm_to_bridge.py (the Megatron-LM flag to
 *   Bridge key table: model.sequence_parallel, model.num_layers_in_first/last_pipeline_stage,
 *   model.moe_token_dispatcher_type, model.recompute_*, ddp.use_distributed_optimizer,
 *   ddp.overlap_grad_reduce, ddp.overlap_param_gather, mixed_precision=bf16_mixed, logger.log_interval,
 *   logger.log_throughput, …);
 * - src/megatron/bridge/training/config.py (ConfigContainer groups; ddp.* and optimizer.* distributed-optimizer
 *   settings are synchronised, so both are written); src/megatron/bridge/training/mixed_precision.py (named
 *   precision recipes); scripts/training/recipe_runner.py (setting model.pipeline_model_parallel_layout stops
 *   the runner from rebuilding a recipe's own layout); docs recipe-usage (`++env_vars.NAME=value`).
 * The model.* keys are Megatron-Core TransformerConfig / ModelParallelConfig fields.
 */
import type { Plan } from '../enumerate/plan.js';
import { isUnevenSplit } from '../plan/layout.js';
import { epA2aOverlapRuns, fp8RecipeOf, recomputeModulesOf } from '../job/stack.js';
import { inputError } from '../job/errors.js';
import type { Job, ModelShape } from '../job/types.js';
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

export function bridgeOverrides(job: Job, shape: ModelShape, plan: Plan, rank: number): string {
  // the same launch Megatron-LM would run: refuses what Megatron refuses, and gives the environment
  const { env } = megatronLaunch(job, shape, plan);
  const refuse = (why: string): never => {
    throw inputError(job.source, 'export', `megatron-bridge cannot express ${why}`);
  };
  const arch = gpuArchMajor(job.cluster.gpu);
  const kv: [string, HydraValue][] = [];
  const set = (k: string, v: HydraValue): void => {
    kv.push([k, v]);
  };

  set('model.tensor_model_parallel_size', plan.tp);
  set('model.context_parallel_size', plan.cp);
  set('model.pipeline_model_parallel_size', plan.pp);
  set('model.virtual_pipeline_model_parallel_size', plan.vpp > 1 ? plan.vpp : null);
  // the plan's split replaces any layout the recipe builds for its own PP size (a layout's VPP is its stage
  // count / PP, which the plan's VPP equals: TransformerConfig accepts a VPP equal to the layout's)
  set('model.pipeline_model_parallel_layout', plan.layout === '' ? null : plan.layout);
  set('model.account_for_embedding_in_pipeline_split', plan.accountEmbedding);
  set('model.account_for_loss_in_pipeline_split', plan.accountLoss);
  set('model.microbatch_group_size_per_vp_stage', plan.vpp > 1 && plan.mbGroup !== plan.pp ? plan.mbGroup : null);
  const uneven = isUnevenSplit(plan, job.model.num_layers);
  set('model.num_layers_in_first_pipeline_stage', uneven ? plan.firstStageLayers : null);
  set('model.num_layers_in_last_pipeline_stage', uneven ? plan.lastStageLayers : null);
  if (shape.isMoe) {
    set('model.expert_model_parallel_size', plan.ep);
    set('model.expert_tensor_parallel_size', plan.etp);
  }
  set('model.sequence_parallel', plan.sequenceParallel);
  if (shape.isMoe) {
    set('model.moe_token_dispatcher_type', plan.dispatcher);
    if (plan.dispatcher === 'flex') set('model.moe_flex_dispatcher_backend', job.training.moe_flex_dispatcher_backend);
    // shared-expert overlap works with alltoall and flex only
    if (plan.dispatcher === 'allgather') set('model.moe_shared_expert_overlap', false);
    set('model.moe_grouped_gemm', true);
  }
  // ---- software stack (job.training, src/job/stack.ts): Megatron-Core TransformerConfig / ModelParallelConfig
  // fields as model.* keys, TP overlap as Bridge's comm_overlap.tp_comm_overlap; written where the Megatron-LM
  // export writes the flag (the same conditions), so both launches run the same stack ----
  const st = job.training;
  if (shape.isMoe) {
    set('model.moe_permute_fusion', st.moe_permute_fusion);
    set('model.moe_router_fusion', st.moe_router_fusion);
    set('model.moe_router_force_load_balancing', st.moe_router_force_load_balancing);
    set('model.moe_expert_capacity_factor', st.moe_expert_capacity_factor);
    const a2a = epA2aOverlapRuns(job, plan);
    set('model.overlap_moe_expert_parallel_comm', a2a);
    set('model.delay_wgrad_compute', a2a && st.delay_wgrad_compute);
  }
  set('comm_overlap.tp_comm_overlap', st.tp_comm_overlap && plan.tp > 1 && plan.sequenceParallel);
  set('model.cross_entropy_loss_fusion', st.cross_entropy_loss_fusion);
  set('model.cross_entropy_fusion_impl', st.cross_entropy_fusion_impl);
  set('model.cuda_graph_impl', st.cuda_graph_impl);
  if (st.cuda_graph_impl !== 'none' && st.cuda_graph_modules.length > 0) set('model.cuda_graph_modules', st.cuda_graph_modules);
  set('model.attention_dropout', st.attention_dropout);
  set('model.hidden_dropout', st.hidden_dropout);
  // ---- end of software stack ----
  if (plan.recompute === 'none') {
    set('model.recompute_granularity', null);
    set('model.recompute_method', null);
    set('model.recompute_num_layers', null);
    set('model.recompute_modules', null);
  } else if (plan.recompute === 'selective') {
    set('model.recompute_granularity', 'selective');
    set('model.recompute_method', null);
    set('model.recompute_num_layers', null);
    set('model.recompute_modules', recomputeModulesOf(job));
  } else {
    set('model.recompute_granularity', 'full');
    set('model.recompute_method', 'uniform');
    set('model.recompute_num_layers', 1);
    set('model.recompute_modules', null);
  }
  set('model.seq_length', job.training.seq_length);
  set('dataset.seq_length', job.training.seq_length);
  set('train.micro_batch_size', plan.microBatchSize);
  set('train.global_batch_size', job.training.global_batch_size);
  set('ddp.use_distributed_optimizer', plan.distributedOptimizer);
  set('optimizer.use_distributed_optimizer', plan.distributedOptimizer);
  set('ddp.overlap_grad_reduce', true);
  set('ddp.overlap_param_gather', plan.distributedOptimizer);
  set('optimizer.overlap_param_gather', plan.distributedOptimizer);
  // logging for `moefold calibrate`, as the Megatron-LM export (megatron-launch.ts, logging): Bridge's LoggerConfig
  // extends Megatron-LM's (log_interval, log_throughput) and prints the same "elapsed time per iteration (ms)" and
  // "throughput per GPU (TFLOP/s/GPU)" fields (training/utils/train_utils.py training_log L1093–1096); its memory
  // report is its own ("memory (GB) | <torch memory_stats key>: ..."), printed at the first logged iterations
  set('logger.log_interval', MEGATRON_LOG_INTERVAL);
  set('logger.log_throughput', true);
  const recipe = fp8RecipeOf(job, arch);
  if (plan.precision === 'bf16') {
    set('mixed_precision', 'bf16_mixed');
  } else if (recipe === 'tensorwise') {
    set('mixed_precision', 'bf16_with_fp8_current_scaling_mixed');
  } else if (recipe === 'delayed') {
    set('mixed_precision', 'bf16_with_fp8_delayed_scaling_mixed');
  } else if (recipe === 'mxfp8') {
    if (!plan.distributedOptimizer) {
      throw inputError(job.source, 'export', 'megatron-bridge cannot express fp8 on Blackwell without the distributed optimizer (its bf16_with_mxfp8_mixed recipe gathers FP8 parameters, which needs it)');
    }
    set('mixed_precision', 'bf16_with_mxfp8_mixed');
  } else {
    // per-block FP8 scaling, Megatron-LM's --fp8-recipe blockwise
    set('mixed_precision', 'bf16_with_fp8_subchannel_scaling_mixed');
  }
  for (const [k, v] of Object.entries(env)) set(`++env_vars.${k}`, /^\d+$/.test(v) ? Number(v) : v);

  const lines = [
    ...comment([
      ...planSummaryLines(job, shape, plan, rank),
      '',
      'Megatron-Bridge ConfigContainer overrides (Hydra key=value, one per line) for scripts/training/run_recipe.py.',
      `Choose the recipe of ${job.model.name} (its architecture, data, tokenizer and optimizer are kept), then:`,
      "  mapfile -t OVERRIDES < <(grep -v '^#' plan.bridge-overrides.txt)",
      '  python scripts/training/run_recipe.py --recipe <recipe> --mode pretrain "${OVERRIDES[@]}"',
      `on ${job.cluster.gpus} GPUs. The pipeline split assumes the recipe's model has ${job.model.num_layers} layers.`,
      'Keys checked against NVIDIA-NeMo/Megatron-Bridge 067f987 (2026-08-22), see src/export/bridge-overrides.ts.',
      ...recipeOwned(job),
    ]),
    ...kv.map(([k, v]) => `${k}=${hydraValue(v, refuse)}`),
    '',
  ];
  return lines.join('\n');
}

/**
 * Stack facts of the job that these overrides leave to the recipe (its mixed_precision and optimizer own them), as
 * comment lines, so a run that needs them sets them in the recipe: the optimizer dtypes, bf16 gradient reduce and
 * fp8 parameter gather.
 */
function recipeOwned(job: Job): string[] {
  const s = job.training;
  const set: string[] = [];
  if (s.grad_reduce_in_bf16) set.push('grad_reduce_in_bf16 (ddp/mixed_precision grad_reduce_in_fp32 false)');
  if (s.fp8_param_gather) set.push('fp8_param_gather (mixed_precision)');
  if (s.use_precision_aware_optimizer) {
    set.push(`precision-aware optimizer: main params ${s.main_params_dtype}, exp_avg ${s.exp_avg_dtype}, exp_avg_sq ${s.exp_avg_sq_dtype} (optimizer)`);
  }
  return set.length === 0 ? [] : ['', 'Left to the recipe (set them there): ' + set.join('; ') + '.'];
}
