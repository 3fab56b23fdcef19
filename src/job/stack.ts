/**
 * The software-stack facts of the run: the `training:` fields, named after Megatron-LM's flags (the snake_case of
 * `--kebab-case`), that move throughput or memory but are not part of a plan. One row per field: the values it
 * accepts, its default, the Megatron-LM flag the export writes, and the cost term it moves (null: accepted and
 * exported, not modelled). The field table (fields.ts TRAINING_FIELDS), the loader's defaults, the command-line
 * overrides (`--<flag> VALUE`), `--explain` and the README table all read this table.
 *
 * Flags, kinds and choices were read from Megatron-LM's megatron/training/arguments.py and
 * megatron/core/{transformer/transformer_config.py, model_parallel_config.py, optimizer/optimizer_config.py} at
 * HEAD (the tree in /work/.mirror/NVIDIA+Megatron-LM). Defaults are Megatron's unless the row says why not.
 */
import type { FieldRule } from './fields.js';
import type { Job, ModelSpec, StackSpec } from './types.js';
import { inputError } from './errors.js';
import { selectiveRecomputeModules } from '../plan/recompute.js';

/** The --recompute-modules the cost model can price (a subset of Megatron's; the others are refused). */
export const COSTED_RECOMPUTE_MODULES = ['core_attn', 'layernorm', 'mla_up_proj', 'mlp', 'moe', 'moe_act'] as const;

/** --cuda-graph-modules values of Megatron-LM HEAD (CudaGraphModule, transformer/enums.py), less mamba. */
export const CUDA_GRAPH_MODULES = ['attn', 'mlp', 'moe', 'moe_router', 'moe_preprocess'] as const;

/** Megatron's --fp8-recipe choices that a launch can use without a custom recipe module. */
export const FP8_RECIPES = ['tensorwise', 'delayed', 'mxfp8', 'blockwise'] as const;

/** Optimizer-state dtypes of the precision-aware optimizer (--exp-avg-dtype, --exp-avg-sq-dtype). */
export const MOMENT_DTYPES = ['fp32', 'fp16', 'bf16', 'fp8'] as const;

export interface StackField {
  rule: FieldRule;
  /** The value when the job does not set it (null: resolved where the fact lives, see `dflt` text). */
  dflt: StackSpec[keyof StackSpec];
  /** The default in words, for the README and --help. */
  dfltText: string;
  /** The Megatron-LM flag the export writes, or null (a planning fact with no flag). */
  flag: string | null;
  /** What it moves in the cost model; null = accepted and exported, not modelled. */
  moves: string | null;
  /** May be null in the job (YAML null, `--flag null`): the default applies. */
  nullable?: boolean;
}

const bool: FieldRule = { kind: 'bool' };
const oneOf = (...values: string[]): FieldRule => ({ kind: 'enum', values });
const listOf = (values: readonly string[]): FieldRule => ({ kind: 'enumList', values });

export const STACK_FIELDS: Readonly<Record<keyof StackSpec, StackField>> = {
  moe_router_force_load_balancing: {
    rule: bool, dflt: false, dfltText: 'false', flag: '--moe-router-force-load-balancing',
    moves: 'expert GEMM rows and EP all-to-all volume: the load factor becomes 1 + moe.routing_imbalance_forced',
  },
  moe_expert_capacity_factor: {
    rule: { kind: 'number', min: 0.01, max: 64 }, dflt: null, dfltText: 'null (dropless)', nullable: true,
    flag: '--moe-expert-capacity-factor',
    moves: 'expert GEMM rows and EP volume: the most loaded expert takes at most this many times the mean (token drop)',
  },
  moe_routing_imbalance: {
    rule: { kind: 'number', min: 1, max: 10 }, dflt: null, nullable: true,
    dfltText: '1 + moe.routing_imbalance_real of the calibration (fitted by npm run fit), 1 + routing_imbalance_forced when forced',
    flag: null, moves: 'expert GEMM rows and EP volume: max/mean tokens per expert under real routing',
  },
  grad_reduce_in_bf16: {
    rule: bool, dflt: false, dfltText: 'false', flag: '--grad-reduce-in-bf16',
    moves: 'main-gradient memory and DP reduce bytes: 2 B/param instead of overhead.grad_reduce_bytes_per_param (4)',
  },
  overlap_moe_expert_parallel_comm: {
    rule: bool, dflt: false, dfltText: 'false', flag: '--overlap-moe-expert-parallel-comm',
    moves: 'exposed EP all-to-all: overlap.ep_a2a_overlap_fraction hidden (EP > 1, alltoall/flex, no full recompute)',
  },
  delay_wgrad_compute: {
    rule: bool, dflt: false, dfltText: 'false', flag: '--delay-wgrad-compute', moves: null,
  },
  recompute_modules: {
    rule: listOf(COSTED_RECOMPUTE_MODULES), dflt: null, nullable: true,
    dfltText: "moefold's selective set: core_attn layernorm [moe_act] [mla_up_proj] (src/plan/recompute.ts)",
    flag: '--recompute-modules', moves: 'recompute time and activation memory of plans with recompute selective',
  },
  cross_entropy_loss_fusion: {
    rule: bool, dflt: true, flag: '--cross-entropy-loss-fusion',
    dfltText: "true (Megatron's is false; its MoE README's performance flags and Megatron-Bridge's DeepSeek-V3 recipe turn it on)",
    moves: 'logits and loss memory: 2 B per logit element instead of 6',
  },
  cross_entropy_fusion_impl: {
    rule: oneOf('native', 'te'), dflt: 'native', flag: '--cross-entropy-fusion-impl', moves: null,
    dfltText: "native (Megatron's; HEAD refuses te with the fusion on, arguments.py L1698, though Bridge's perf recipes set te)",
  },
  tp_comm_overlap: {
    rule: bool, dflt: true, flag: '--tp-comm-overlap',
    dfltText: "true (Megatron's is false; NVIDIA's recipes run TP > 1 with it, and the calibration was fitted so); written where tpCommOverlapRuns: TP > 1 with sequence parallel",
    moves: 'exposed TP/SP collectives: overlap.tp_overlap_fraction hidden where tpCommOverlapRuns (TP > 1 with sequence parallel), none otherwise',
  },
  cuda_graph_impl: {
    rule: oneOf('none', 'local', 'transformer_engine'), dflt: 'none', dfltText: 'none', flag: '--cuda-graph-impl',
    moves: null,
  },
  cuda_graph_modules: {
    rule: listOf(CUDA_GRAPH_MODULES), dflt: [], dfltText: '[] (the whole layer, when cuda_graph_impl is set)',
    flag: '--cuda-graph-modules', moves: null,
  },
  moe_permute_fusion: {
    rule: bool, dflt: true, flag: '--moe-permute-fusion',
    dfltText: "true (Megatron's is false; moefold's export always set it, and the calibration assumes fused permutes)",
    moves: null,
  },
  moe_router_fusion: {
    rule: bool, dflt: true, flag: '--moe-router-fusion', moves: null,
    dfltText: "true (Megatron's is false; Bridge's Qwen3 and DeepSeek-V3 perf recipes and Megatron's MoE README turn it on; needs Transformer Engine 2.7, transformer_config.py L944)",
  },
  fp8_recipe: {
    rule: oneOf(...FP8_RECIPES), dflt: null, nullable: true, flag: '--fp8-recipe',
    dfltText: 'null: blockwise on Hopper, mxfp8 on Blackwell (src/export/gpu-arch.ts)', moves: null,
  },
  fp8_param_gather: {
    rule: bool, dflt: false, flag: '--fp8-param-gather',
    dfltText: "false (Megatron's; Megatron-Bridge 067f987's H100 recipes keep it off, e.g. recipes/deepseek/h100/deepseek_v3.py L216; only its GB200/GB300 DeepSeek recipes turn it on); written on fp8 plans with the distributed optimizer only ([VA] L1095)",
    moves: 'DP parameter all-gather bytes of fp8 plans with the distributed optimizer: 1 B/param instead of overhead.param_gather_bytes_per_param (2)',
  },
  moe_router_padding_for_fp8: {
    rule: bool, dflt: true, flag: '--moe-router-padding-for-fp8', moves: null,
    dfltText: "true (Megatron's is false; Bridge's fp8 MoE perf recipes pad the routing map); written where routerPaddingRuns: fp8 MoE plans with the alltoall or flex dispatcher",
  },
  moe_flex_dispatcher_backend: {
    rule: oneOf('deepep', 'hybridep'), dflt: 'deepep', dfltText: 'deepep', flag: '--moe-flex-dispatcher-backend',
    moves: null,
  },
  attention_dropout: {
    rule: { kind: 'number', min: 0, max: 1 }, dflt: 0.1, dfltText: '0.1', flag: '--attention-dropout', moves: null,
  },
  hidden_dropout: {
    rule: { kind: 'number', min: 0, max: 1 }, dflt: 0.1, dfltText: '0.1', flag: '--hidden-dropout',
    moves: 'activation memory: above 0, a 1 B mask per stored residual element per bias-dropout-add (2 per layer) and the embedding dropout',
  },
  manual_gc: {
    rule: bool, dflt: true, flag: '--manual-gc', moves: null,
    dfltText: "true (Megatron's is false; every Megatron-Bridge recipe and its perf scripts run it, recipes/common.py L68)",
  },
  manual_gc_interval: {
    rule: { kind: 'int', min: 0, max: 1000000 }, dflt: 100, flag: '--manual-gc-interval', moves: null,
    dfltText: "100 (Megatron's is 0: collect only at checkpoints and evaluation; Bridge's recipes use 100, recipes/common.py L69)",
  },
  use_precision_aware_optimizer: {
    rule: bool, dflt: false, dfltText: 'false', flag: '--use-precision-aware-optimizer',
    moves: 'optimizer-state memory: the three dtypes below instead of 12 B/param (fp32 master + Adam m, v)',
  },
  main_params_dtype: {
    rule: oneOf('fp32', 'fp16'), dflt: 'fp32', dfltText: 'fp32', flag: '--main-params-dtype',
    moves: 'optimizer-state memory (with use_precision_aware_optimizer)',
  },
  exp_avg_dtype: {
    rule: oneOf(...MOMENT_DTYPES), dflt: 'fp32', dfltText: 'fp32', flag: '--exp-avg-dtype',
    moves: 'optimizer-state memory (with use_precision_aware_optimizer)',
  },
  exp_avg_sq_dtype: {
    rule: oneOf(...MOMENT_DTYPES), dflt: 'fp32', dfltText: 'fp32', flag: '--exp-avg-sq-dtype',
    moves: 'optimizer-state memory (with use_precision_aware_optimizer)',
  },
};

export const STACK_KEYS = Object.keys(STACK_FIELDS) as (keyof StackSpec)[];

/** The stack facts with every default. */
export function defaultStack(): StackSpec {
  const out: Record<string, unknown> = {};
  for (const k of STACK_KEYS) {
    const d = STACK_FIELDS[k].dflt;
    out[k] = Array.isArray(d) ? [...d] : d;
  }
  return out as unknown as StackSpec;
}

/** The field a command-line flag `--x-y` sets (`x_y`), for the stack fields. */
export function stackFlagName(field: keyof StackSpec): string {
  return `--${field.replace(/_/g, '-')}`;
}

/** What `recompute: selective` stands for in this job: the job's recompute_modules, else moefold's set. */
export function recomputeModulesOf(job: Job): string[] {
  return job.training.recompute_modules ?? selectiveRecomputeModules(job.model);
}

/** The FP8 recipe of the launch: the job's, else blockwise on Hopper and mxfp8 on Blackwell (arch = CC major). */
export function fp8RecipeOf(job: Job, arch: number): string {
  return job.training.fp8_recipe ?? (arch >= 10 ? 'mxfp8' : 'blockwise');
}

/** The plan fields the 1F1B EP overlap depends on. */
export interface EpOverlapPlan { ep: number; dispatcher: string; recompute: string; pp: number; vpp: number }

/**
 * Why Megatron cannot run --overlap-moe-expert-parallel-comm for a plan (TransformerConfig.__post_init__): it needs
 * EP > 1, the alltoall or flex dispatcher, no full recompute, and VPP when PP > 1; null when it can. The job-level
 * conditions (no `moe` recompute module, at most one MTP layer) are checked when the job is read.
 */
export function epA2aOverlapProblem(plan: EpOverlapPlan): string | null {
  if (plan.ep <= 1) return 'needs --expert-model-parallel-size > 1';
  if (plan.dispatcher !== 'alltoall' && plan.dispatcher !== 'flex') return `needs the alltoall or flex dispatcher (got ${plan.dispatcher})`;
  if (plan.recompute === 'full') return 'cannot be combined with --recompute-granularity full';
  if (plan.pp > 1 && plan.vpp <= 1) return 'with PP > 1 needs virtual pipeline stages';
  return null;
}

/**
 * Where Megatron runs the job's --overlap-moe-expert-parallel-comm for a plan (epA2aOverlapProblem). The cost model
 * (layer-costs.ts) and the export both read it, so a plan is priced with the overlap exactly where its launch runs it.
 */
export function epA2aOverlapRuns(job: Job, plan: EpOverlapPlan): boolean {
  return job.training.overlap_moe_expert_parallel_comm && epA2aOverlapProblem(plan) === null;
}

/** The plan fields FP8 parameter gather depends on. */
export interface Fp8ParamGatherPlan { precision: string; distributedOptimizer: boolean }

/**
 * Where the launch runs the job's --fp8-param-gather: fp8 plans with the distributed optimizer (validate_args asserts
 * it, arguments.py L1095 at d98e8a6). The scorer (stage.ts, score.ts: FP8 primary weights) and both exports read this
 * one predicate.
 */
export function fp8ParamGatherRuns(job: Job, plan: Fp8ParamGatherPlan): boolean {
  return job.training.fp8_param_gather && plan.precision === 'fp8' && plan.distributedOptimizer;
}

/** The plan fields TP communication overlap depends on. */
export interface TpOverlapPlan { tp: number; sequenceParallel: boolean }

/**
 * Where the launch runs the job's --tp-comm-overlap: TP > 1 with sequence parallel (validate_args asserts sequence
 * parallel, arguments.py L1441 at d98e8a6; with TP 1 there is nothing to overlap). The scorer (layer-costs.ts: TP
 * collectives hidden; stage.ts: userbuffer memory) and the exports read this one predicate, so a plan is priced
 * with the overlap exactly where its launch turns it on.
 */
export function tpCommOverlapRuns(job: Job, plan: TpOverlapPlan): boolean {
  return job.training.tp_comm_overlap && plan.tp > 1 && plan.sequenceParallel;
}

/** The plan fields the router padding depends on. */
export interface RouterPaddingPlan { precision: string; dispatcher: string }

/**
 * Why Megatron cannot run --moe-router-padding-for-fp8 for a plan (TransformerConfig.__post_init__ at d98e8a6), null
 * when it can: it needs fp8 (L2649–2653: fp8 or fp4 must be set), a dispatcher other than allgather (L2654–2658), and
 * not the alltoall dispatcher with a moe_preprocess CUDA graph (`preprocessGraph`; L2845–2852: the padding adds a
 * device-to-host copy to the preprocess step). The export (routerPaddingRuns) and the argument-list check
 * (megatron-argv-checks.ts) both read it.
 */
export function routerPaddingProblem(plan: RouterPaddingPlan, preprocessGraph: boolean): string | null {
  if (plan.precision !== 'fp8') return 'needs fp8 (--fp8-format)';
  if (plan.dispatcher === 'allgather') return 'does not work with the allgather dispatcher';
  if (plan.dispatcher === 'alltoall' && preprocessGraph) return 'with the alltoall dispatcher cannot be combined with --cuda-graph-modules moe_preprocess';
  return null;
}

/** Where the launch runs the job's --moe-router-padding-for-fp8: an MoE model where routerPaddingProblem has none. */
export function routerPaddingRuns(job: Job, isMoe: boolean, plan: RouterPaddingPlan): boolean {
  const s = job.training;
  const preprocessGraph = s.cuda_graph_impl !== 'none' && s.cuda_graph_modules.includes('moe_preprocess');
  return s.moe_router_padding_for_fp8 && isMoe && routerPaddingProblem(plan, preprocessGraph) === null;
}

/** The README's stack-field table (README.md "The job file" holds exactly this; test/cost/stack.test.ts checks). */
export function stackFieldTableMarkdown(): string {
  const rows = STACK_KEYS.map((k) => {
    const f = STACK_FIELDS[k];
    return `| \`${k}\` | ${f.flag === null ? '— (planning fact)' : `\`${f.flag}\``} | ${f.dfltText} | ${f.moves ?? 'not modelled'} |`;
  });
  return ['| field | Megatron flag | default | cost term it moves |', '|---|---|---|---|', ...rows].join('\n');
}

/** The stack fields the cost model does not read, with the job's values (`--explain`). */
export function notModelledText(s: StackSpec): string {
  return STACK_KEYS.filter((k) => STACK_FIELDS[k].moves === null)
    .map((k) => `${k} ${valueText(s[k])}`).join(', ');
}

function valueText(v: unknown): string {
  if (v === null) return 'default';
  if (Array.isArray(v)) return `[${v.join(' ')}]`;
  return String(v);
}

/** The rules between a stack fact and the model (after both are read); `file` names the job. */
export function checkStackWithModel(s: StackSpec, m: ModelSpec, file: string): void {
  const mods = s.recompute_modules ?? [];
  if (mods.includes('mla_up_proj') && !m.multi_latent_attention) {
    throw inputError(file, 'training.recompute_modules', 'mla_up_proj needs a model with multi_latent_attention');
  }
  if (m.num_experts === 0) {
    const moeMod = mods.find((x) => x === 'moe' || x === 'moe_act');
    if (moeMod !== undefined) throw inputError(file, 'training.recompute_modules', `${moeMod} needs an MoE model (num_experts > 0)`);
  }
  if (s.moe_expert_capacity_factor !== null && m.moe_router_load_balancing_type === 'sinkhorn') {
    throw inputError(file, 'training.moe_expert_capacity_factor',
      'works with aux_loss, seq_aux_loss, global_aux_loss or none load balancing, not sinkhorn (Megatron TransformerConfig)');
  }
  if (s.overlap_moe_expert_parallel_comm && m.mtp_num_layers > 1) {
    throw inputError(file, 'training.overlap_moe_expert_parallel_comm',
      `supports at most one MTP layer (model.mtp_num_layers ${m.mtp_num_layers}; Megatron TransformerConfig)`);
  }
}
