/**
 * The Megatron-LM `pretrain_gpt.py` argument list and environment for one plan: model shape, MoE and router
 * settings, the folded parallel mapping, recompute, precision, batch, and the logging `moefold calibrate` reads.
 * Data, tokenizer, checkpoint and optimizer settings belong to the launcher (the torchrun / SLURM exports add
 * them from variables); with `mockData` the list gets mock data, a NullTokenizer, a learning rate and an
 * iteration count so it runs (and passes Megatron's validate_args) as it is.
 *
 * Every list is checked before it is returned (checkMegatronArgs: the list read back into a layout and run
 * through the rule table, plus the flag checks); a plan Megatron would refuse is refused here with the reasons.
 */
import type { Plan } from '../enumerate/plan.js';
import { isUnevenSplit } from '../plan/layout.js';
import type { RuleViolation } from '../enumerate/rules.js';
import { checkPlan, ruleByName } from '../enumerate/rules.js';
import { epA2aOverlapRuns, fp8ParamGatherRuns, fp8RecipeOf, recomputeModulesOf, routerPaddingRuns, tpCommOverlapRuns } from '../job/stack.js';
import { inputError } from '../job/errors.js';
import { formatLayerFreq } from '../job/layer-freq.js';
import { MODEL_HYPER_DEFAULTS } from '../job/resolve-model.js';
import { MEGATRON_ROPE_SCALING_FACTOR_DEFAULT, MEGATRON_ROTARY_SCALING_FACTOR_DEFAULT, YARN_DEFAULTS } from '../job/rope.js';
import type { Job, ModelShape, ModelSpec } from '../job/types.js';
import { gpuArchMajor } from './gpu-arch.js';
import { checkMegatronArgs } from './megatron-flags.js';

export interface MegatronLaunch {
  args: string[];
  env: Record<string, string>;
}

export interface MegatronLaunchOptions {
  /** Add --mock-data, a NullTokenizer with the model's vocabulary, --lr and --train-iters. */
  mockData?: boolean;
  /** Iterations for a mock run (default 10). */
  trainIters?: number;
}

/**
 * Why each environment variable is set; the script exports print these next to the export.
 * - CUDA_DEVICE_MAX_CONNECTIONS=1: Megatron's validate_args requires it when TP > 1 or CP > 1 on GPUs before
 *   Blackwell (one hardware queue keeps TP/CP communication kernels ordered ahead of the GEMMs they overlap).
 *   Blackwell lifts the requirement, so it is left unset there (the CUDA default, 8, lets streams overlap).
 * - PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True: MoE token buffers change size every step; expandable
 *   segments keep the caching allocator from fragmenting (Megatron MoE README "General performance tips",
 *   megatron.md §4.1; Megatron-Bridge sets it in every recipe, recipes/utils/environment_utils.py).
 * - NCCL_NVLS_ENABLE=0: NVLink SHARP buffers take extra GPU memory for every communicator, and a folded
 *   mapping builds many (TP, CP, DP, EP, ETP, EDP, PP groups); moefold's memory model does not count them.
 *   The same two sources disable it.
 */
export const ENV_REASONS: Readonly<Record<string, string>> = {
  CUDA_DEVICE_MAX_CONNECTIONS: 'required by Megatron with TP > 1 or CP > 1 before Blackwell',
  PYTORCH_CUDA_ALLOC_CONF: 'MoE buffers change size every step: avoid allocator fragmentation',
  NCCL_NVLS_ENABLE: 'no NVLink SHARP buffers (extra memory per communicator, not in the memory model)',
  NCCL_GRAPH_REGISTER: 'required by Megatron with CUDA graphs and expandable segments (illegal memory access otherwise)',
};

/** The launch of `plan` for `job`. Throws InputError when Megatron could not run the plan. */
export function megatronLaunch(job: Job, shape: ModelShape, plan: Plan, opts: MegatronLaunchOptions = {}): MegatronLaunch {
  const m = job.model;
  const world = job.cluster.gpus;
  const arch = gpuArchMajor(job.cluster.gpu);
  const broken = checkPlanConsistent(job, shape, plan);
  if (plan.precision === 'fp8' && arch < 9) {
    throw inputError(job.source, 'export', `fp8 training needs Hopper or newer GPUs (cluster gpu ${job.cluster.gpu})`);
  }
  if (plan.precision === 'fp8' && job.training.fp8_recipe === 'mxfp8' && arch < 10) {
    throw inputError(job.source, 'training.fp8_recipe', `mxfp8 needs Blackwell GPUs (cluster gpu ${job.cluster.gpu}: use blockwise, tensorwise or delayed)`);
  }

  const args: string[] = [];
  const put = (flag: string, ...values: (string | number)[]): void => {
    args.push(flag, ...values.map(String));
  };

  // model
  put('--num-layers', m.num_layers);
  put('--hidden-size', m.hidden_size);
  put('--ffn-hidden-size', m.ffn_hidden_size);
  put('--num-attention-heads', m.num_attention_heads);
  if (!m.multi_latent_attention && m.num_query_groups < m.num_attention_heads) {
    put('--group-query-attention');
    put('--num-query-groups', m.num_query_groups);
  }
  put('--kv-channels', m.kv_channels);
  put('--seq-length', job.training.seq_length);
  put('--max-position-embeddings', m.max_position_embeddings);
  put('--position-embedding-type', positionEmbeddingFlag(m));
  putRotaryFlags(m, put);
  put('--normalization', m.normalization);
  if (m.norm_epsilon !== MODEL_HYPER_DEFAULTS.norm_epsilon) put('--norm-epsilon', m.norm_epsilon);
  if (m.init_method_std !== MODEL_HYPER_DEFAULTS.init_method_std) put('--init-method-std', m.init_method_std);
  if (m.swiglu) put('--swiglu');
  if (m.untie_embeddings_and_output_weights) put('--untie-embeddings-and-output-weights');
  // Megatron's add_bias_linear defaults to true; moefold's to false (bias-free Llama/Mixtral/DeepSeek/Qwen style).
  // With biases and MoE, Megatron needs ETP 1 ([TC] L2612–2615) and no shared expert (shared_experts.py:124).
  if (!m.add_bias_linear) put('--disable-bias-linear');
  if (m.add_qkv_bias) put('--add-qkv-bias');
  if (m.qk_layernorm) put('--qk-layernorm');
  if (m.softmax_type !== 'vanilla') put('--softmax-type', m.softmax_type);
  if (m.window_size > 0) {
    // TransformerConfig.window_size (left, right): moefold's window is the left one, causal (right 0)
    put('--window-size', `${m.window_size},0`);
    if (m.window_attn_skip_freq !== 0) put('--window-attn-skip-freq', formatLayerFreq(m.window_attn_skip_freq));
  }
  put('--make-vocab-size-divisible-by', m.make_vocab_size_divisible_by);
  if (m.multi_latent_attention) {
    put('--multi-latent-attention');
    if (m.q_lora_rank > 0) put('--q-lora-rank', m.q_lora_rank);
    put('--kv-lora-rank', m.kv_lora_rank);
    put('--qk-head-dim', m.qk_head_dim);
    put('--qk-pos-emb-head-dim', m.qk_pos_emb_head_dim);
    put('--v-head-dim', m.v_head_dim);
  }
  if (m.mtp_num_layers > 0) put('--mtp-num-layers', m.mtp_num_layers);

  // MoE
  if (shape.isMoe) {
    put('--num-experts', m.num_experts);
    put('--moe-router-topk', m.moe_router_topk);
    put('--moe-ffn-hidden-size', m.moe_ffn_hidden_size);
    if (m.moe_shared_expert_intermediate_size > 0) {
      put('--moe-shared-expert-intermediate-size', m.moe_shared_expert_intermediate_size);
      if (m.moe_shared_expert_gate) put('--moe-shared-expert-gate');
    }
    put('--moe-layer-freq', formatLayerFreq(m.moe_layer_freq));
    put('--moe-router-score-function', m.moe_router_score_function);
    if (m.moe_router_pre_softmax) put('--moe-router-pre-softmax');
    if (m.moe_router_num_groups > 0) put('--moe-router-num-groups', m.moe_router_num_groups);
    if (m.moe_router_group_topk > 0) put('--moe-router-group-topk', m.moe_router_group_topk);
    if (m.moe_router_topk_scaling_factor > 0) put('--moe-router-topk-scaling-factor', m.moe_router_topk_scaling_factor);
    if (m.moe_router_enable_expert_bias) put('--moe-router-enable-expert-bias');
    put('--moe-router-load-balancing-type', m.moe_router_load_balancing_type);
    put('--moe-aux-loss-coeff', m.moe_aux_loss_coeff);
    put('--moe-token-dispatcher-type', plan.dispatcher);
    if (plan.dispatcher === 'flex') put('--moe-flex-dispatcher-backend', job.training.moe_flex_dispatcher_backend);
    put('--moe-grouped-gemm');
  }

  // parallel mapping
  put('--tensor-model-parallel-size', plan.tp);
  put('--context-parallel-size', plan.cp);
  put('--pipeline-model-parallel-size', plan.pp);
  // the split: a layout states VPP itself; the other splits state it with --num-virtual-stages-per-pipeline-rank
  if (plan.layout !== '') {
    put('--pipeline-model-parallel-layout', plan.layout);
  } else {
    if (plan.vpp > 1) put('--num-virtual-stages-per-pipeline-rank', plan.vpp);
    if (plan.accountEmbedding) put('--account-for-embedding-in-pipeline-split');
    if (plan.accountLoss) put('--account-for-loss-in-pipeline-split');
  }
  if (isUnevenSplit(plan, m.num_layers)) {
    put('--decoder-first-pipeline-num-layers', plan.firstStageLayers);
    put('--decoder-last-pipeline-num-layers', plan.lastStageLayers);
  }
  if (plan.vpp > 1 && plan.mbGroup !== plan.pp) put('--microbatch-group-size-per-virtual-pipeline-stage', plan.mbGroup);
  if (shape.isMoe) {
    put('--expert-model-parallel-size', plan.ep);
    put('--expert-tensor-parallel-size', plan.etp);
  }
  if (plan.sequenceParallel) put('--sequence-parallel');

  // data parallel: gradient reduce overlapped with backward; the distributed optimizer shards optimizer
  // state over DP and gathers parameters overlapped with the forward pass
  if (plan.distributedOptimizer) put('--use-distributed-optimizer');
  put('--overlap-grad-reduce');
  if (plan.distributedOptimizer) put('--overlap-param-gather');

  // recompute (selective: moefold's module list, the same one the cost model prices)
  if (plan.recompute === 'selective') {
    put('--recompute-granularity', 'selective');
    put('--recompute-modules', ...recomputeModulesOf(job));
  }
  if (plan.recompute === 'full') {
    put('--recompute-granularity', 'full');
    put('--recompute-method', 'uniform');
    put('--recompute-num-layers', 1);
  }

  // precision: bf16 mixed; fp8 on top with per-block scaling (Hopper) or MXFP8 (Blackwell)
  put('--bf16');
  if (plan.precision === 'fp8') {
    put('--fp8-format', 'e4m3');
    put('--fp8-recipe', fp8RecipeOf(job, arch));
  }

  putStackFlags(job, shape, plan, put);

  // batch
  put('--micro-batch-size', plan.microBatchSize);
  put('--global-batch-size', job.training.global_batch_size);

  putLoggingFlags(put);

  if (opts.mockData) {
    put('--mock-data');
    put('--tokenizer-type', 'NullTokenizer');
    put('--vocab-size', m.vocab_size);
    put('--lr', '1.0e-4');
    put('--train-iters', opts.trainIters ?? 10);
  }

  const env: Record<string, string> = {};
  if ((plan.tp > 1 || plan.cp > 1) && arch < 10) env.CUDA_DEVICE_MAX_CONNECTIONS = '1';
  env.PYTORCH_CUDA_ALLOC_CONF = 'expandable_segments:True';
  env.NCCL_NVLS_ENABLE = '0';
  if (job.training.cuda_graph_impl !== 'none') env.NCCL_GRAPH_REGISTER = '0'; // [VA]: CUDA graphs + expandable segments

  const problems = checkMegatronArgs(args, env, world, { gpuArchMajor: arch });
  if (problems.length === 0) for (const v of broken) problems.push(`${v.reason} (${v.rule})`);
  if (problems.length > 0) {
    throw inputError(job.source, 'export', `Megatron-LM would refuse this plan: ${problems.join('; ')}`);
  }
  return { args, env };
}

/**
 * ---- model: rotary positions ----
 * `--position-embedding-type yarn` for YaRN on standard attention (GPTModel builds YarnRotaryEmbedding for it,
 * megatron/core/models/gpt/gpt_model.py L197–215 at d98e8a6); MLA keeps `rope` and does its own rotary (YaRN by
 * default: MLATransformerConfig.rope_type, transformer_config.py L3306; with no rope_scaling the factor stays at
 * --rotary-scaling-factor's default 1.0, where YaRN's frequencies and mscale are plain RoPE's).
 */
function positionEmbeddingFlag(m: ModelSpec): string {
  return m.rope_scaling?.type === 'yarn' && !m.multi_latent_attention ? 'yarn' : m.position_embedding_type;
}

/**
 * The rotary flags, each where it differs from Megatron-LM's default (src/job/rope.ts has the sources):
 * --rotary-base, --rotary-percent; Llama 3.x scaling as --use-rope-scaling with --rope-scaling-factor (the other
 * factors are fixed in Megatron's code and checked on import); YaRN as --rotary-scaling-factor, --mscale,
 * --mscale-all-dim and, for standard attention only, --yarn-original-max-position-embeddings, --yarn-beta-fast,
 * --yarn-beta-slow (MLA takes those three from MLATransformerConfig; resolve-model.ts refuses other values).
 */
function putRotaryFlags(m: ModelSpec, put: (flag: string, ...values: (string | number)[]) => void): void {
  if (m.position_embedding_type !== 'rope') return;
  if (m.rotary_base !== MODEL_HYPER_DEFAULTS.rotary_base) put('--rotary-base', m.rotary_base);
  if (m.rotary_percent !== MODEL_HYPER_DEFAULTS.rotary_percent) put('--rotary-percent', m.rotary_percent);
  const rs = m.rope_scaling;
  if (rs === null) return;
  if (rs.type === 'llama3') {
    put('--use-rope-scaling');
    if (rs.factor !== MEGATRON_ROPE_SCALING_FACTOR_DEFAULT) put('--rope-scaling-factor', rs.factor);
    return;
  }
  if (rs.factor !== MEGATRON_ROTARY_SCALING_FACTOR_DEFAULT) put('--rotary-scaling-factor', rs.factor);
  if (rs.mscale !== YARN_DEFAULTS.mscale) put('--mscale', rs.mscale);
  if (rs.mscale_all_dim !== YARN_DEFAULTS.mscale_all_dim) put('--mscale-all-dim', rs.mscale_all_dim);
  if (m.multi_latent_attention) return;
  if (rs.original_max_position_embeddings !== YARN_DEFAULTS.original_max_position_embeddings) {
    put('--yarn-original-max-position-embeddings', rs.original_max_position_embeddings);
  }
  if (rs.beta_fast !== YARN_DEFAULTS.beta_fast) put('--yarn-beta-fast', rs.beta_fast);
  if (rs.beta_slow !== YARN_DEFAULTS.beta_slow) put('--yarn-beta-slow', rs.beta_slow);
}
// ---- end of model: rotary positions ----

/**
 * Iterations between two of Megatron's iteration lines. Each line states the mean time of the iterations since
 * the line before (training_log, [TL] below, L3547–3548: the interval timer over total_iterations), so 10 gives
 * a 50–100 iteration calibration run 5–10 lines at iterations 10, 20, … (HEAD prints iteration 1 as well, which
 * averages the start-up): enough for a median once the first is left out. A production run of 100k iterations
 * writes 10k lines (a few MB), where Megatron's default, 100, would leave a 50-iteration run with none.
 * Megatron-Bridge's pretraining recipes log every 10 iterations too (src/megatron/bridge/recipes/common.py).
 */
export const MEGATRON_LOG_INTERVAL = 10;

/**
 * ---- logging ----
 * What `moefold calibrate` reads from a Megatron-LM training log, so that a team's first run of a plan is also
 * calibration data ([TL] = megatron/training/training.py training_log at HEAD d98e8a6; the flags are LoggerConfig
 * fields, megatron/training/config/training_config.py L247–309):
 * - --log-interval MEGATRON_LOG_INTERVAL: the iteration line, "elapsed time per iteration (ms)" ([TL] L3539, L3574);
 * - --log-throughput (off by default): its "throughput per GPU (TFLOP/s/GPU)" field ([TL] L3577–3578);
 * - the memory report ("[Rank N] (after K iterations) memory (MB) | allocated ... | max allocated ...") needs no
 *   flag: report_memory runs at the first logged iteration by default ([TL] L3679–3692; HEAD reports the first
 *   two logged iterations, so the optimizer state is counted). --log-memory-interval, which repeats it, exists
 *   only since Megatron-Core 0.16 (commit 82ea022 "Improve memory logging", 2026-01-21); it is not emitted, so
 *   the lists also run on the 0.13–0.15 releases, whose parser rejects an unknown flag.
 */
function putLoggingFlags(put: (flag: string, ...values: (string | number)[]) => void): void {
  put('--log-interval', MEGATRON_LOG_INTERVAL);
  put('--log-throughput');
}
// ---- end of logging ----

/**
 * ---- software stack ----
 * The stack facts of the job (job.training, src/job/stack.ts) as their Megatron-LM flags: each is written when it
 * differs from Megatron's own default, and only where Megatron runs it for this plan: --tp-comm-overlap where
 * tpCommOverlapRuns holds (TP > 1 with sequence parallel: the predicate the scorer prices), the EP overlap where
 * epA2aOverlapRuns holds, --fp8-param-gather on fp8 plans with the distributed optimizer ([VA] L1095),
 * --moe-router-padding-for-fp8 where routerPaddingRuns holds, MoE flags on MoE models. --recompute-modules and
 * --fp8-recipe are written above.
 * - --moe-router-fusion: moefold's routers (softmax or sigmoid, no quantile balancing, fields.ts) are all ones
 *   the fused TE kernel takes (router.py L328 refuses quantile balancing; moe_utils.py L833 sqrtsoftplus before
 *   TE 2.13); Transformer Engine 2.7 or later runs it (transformer_config.py L944).
 * - --moe-router-padding-for-fp8 rather than HEAD's --moe-router-padding-for-quantization: HEAD accepts both (the
 *   former turns the latter on, transformer_config.py L2641–2647) and Megatron-Core 0.15 knows only the former
 *   (arguments.py L3116 at core_v0.15.0).
 * - --manual-gc / --manual-gc-interval: Python's collector runs on every rank at the same iteration instead of at
 *   random times (training_config.py L91–100 at d98e8a6; the flags exist since Megatron-Core 0.14).
 */
function putStackFlags(job: Job, shape: ModelShape, plan: Plan, put: (flag: string, ...values: (string | number)[]) => void): void {
  const s = job.training;
  if (shape.isMoe) {
    if (s.moe_router_force_load_balancing) put('--moe-router-force-load-balancing');
    if (s.moe_expert_capacity_factor !== null) put('--moe-expert-capacity-factor', s.moe_expert_capacity_factor);
    if (s.moe_permute_fusion) put('--moe-permute-fusion');
    if (s.moe_router_fusion) put('--moe-router-fusion');
    if (routerPaddingRuns(job, shape.isMoe, plan)) put('--moe-router-padding-for-fp8');
    if (epA2aOverlapRuns(job, plan)) {
      put('--overlap-moe-expert-parallel-comm');
      if (s.delay_wgrad_compute) put('--delay-wgrad-compute');
    }
  }
  if (s.grad_reduce_in_bf16) put('--grad-reduce-in-bf16');
  if (s.cross_entropy_loss_fusion) put('--cross-entropy-loss-fusion');
  if (s.cross_entropy_fusion_impl !== 'native') put('--cross-entropy-fusion-impl', s.cross_entropy_fusion_impl);
  if (tpCommOverlapRuns(job, plan)) put('--tp-comm-overlap');
  if (s.cuda_graph_impl !== 'none') {
    put('--cuda-graph-impl', s.cuda_graph_impl);
    if (s.cuda_graph_modules.length > 0) put('--cuda-graph-modules', ...s.cuda_graph_modules);
  }
  if (fp8ParamGatherRuns(job, plan)) put('--fp8-param-gather');
  if (s.manual_gc) {
    put('--manual-gc');
    if (s.manual_gc_interval !== 0) put('--manual-gc-interval', s.manual_gc_interval);
  }
  if (s.attention_dropout !== 0.1) put('--attention-dropout', s.attention_dropout);
  if (s.hidden_dropout !== 0.1) put('--hidden-dropout', s.hidden_dropout);
  if (s.use_precision_aware_optimizer) {
    put('--use-precision-aware-optimizer');
    if (s.main_params_dtype !== 'fp32') put('--main-params-dtype', s.main_params_dtype);
    if (s.exp_avg_dtype !== 'fp32') put('--exp-avg-dtype', s.exp_avg_dtype);
    if (s.exp_avg_sq_dtype !== 'fp32') put('--exp-avg-sq-dtype', s.exp_avg_sq_dtype);
  }
}
// ---- end of software stack ----

/**
 * The plan's numbers must be whole and its derived sizes (DP, EDP, micro-batches, stage sizes) the ones its
 * layout derives (src/plan/layout.ts): the rule table's plan-level rule (derived-sizes-consistent; the enumerator
 * guarantees it). Returns the plan's other broken rules: the table also runs on the emitted list
 * (checkMegatronArgs reads it back into a layout) and words them in flag terms; these are the fallback for what a
 * list cannot state (a dense model's EP and ETP, which no flag carries).
 */
function checkPlanConsistent(job: Job, shape: ModelShape, p: Plan): RuleViolation[] {
  const bad: string[] = [];
  const ints = { tp: p.tp, cp: p.cp, dp: p.dp, pp: p.pp, vpp: p.vpp, ep: p.ep, etp: p.etp, edp: p.edp,
    microBatchSize: p.microBatchSize, numMicroBatches: p.numMicroBatches };
  for (const [k, v] of Object.entries(ints)) if (!Number.isInteger(v) || v < 1) bad.push(`${k} must be an integer >= 1 (got ${v})`);
  // a dense model's ETP follows TP (no flag states it, and nothing depends on it)
  const broken = bad.length === 0 ? checkPlan(job, shape, shape.isMoe ? p : { ...p, etp: p.tp }) : [];
  for (const v of broken) if (ruleByName(v.rule).level === 'plan') bad.push(v.reason);
  if (bad.length > 0) throw inputError(job.source, 'export', `plan is inconsistent: ${bad.join('; ')}`);
  return broken;
}
