/**
 * The Megatron-LM `pretrain_gpt.py` flags moefold may emit, with their kind, and the rules between them.
 *
 * Names, kinds and choices were read from Megatron-LM's argument parser (megatron/training/arguments.py,
 * HEAD d98e8a6 of 2026-08-22; shared/reference/megatron.md §2 and Appendix A). `parse_args` uses
 * allow_abbrev=False, so a flag must be spelled exactly. checkMegatronArgs checks a list without a Megatron source
 * tree: it reads the list back into a layout and runs the rule table (src/enumerate/rules.ts: the checks of
 * validate_args [VA], TransformerConfig [TC], initialize_model_parallel [PS] and the first training step [RT],
 * megatron.md §2) on it, the same rules the enumerator prunes with; the checks about the flags themselves (pairs,
 * exclusions, MoE/router/recompute/precision flags, a few of moefold's own marked "ours") are in
 * megatron-argv-checks.ts.
 */
import { parseLayerFreqExpression } from '../job/layer-freq.js';
import type { ArgvLayout, ParsedArgs } from './megatron-argv-layout.js';
import { argvRuleViolations, flagNumber, layoutFromArgs } from './megatron-argv-layout.js';
import {
  checkAttentionFlags, checkMoeFlags, checkOptimizer, checkPipelineFlags, checkPrecision, checkRecompute, checkRun,
  checkStackFlags,
} from './megatron-argv-checks.js';

export type FlagKind =
  /** argparse store_true / store_false: no value. */
  | 'switch'
  /** exactly one value. */
  | 'value'
  /** nargs '+' or '*': one or more values, up to the next flag. */
  | 'list';

export type FlagValueType = 'int' | 'float' | 'str' | 'moe_freq';

export interface FlagSpec {
  kind: FlagKind;
  type?: FlagValueType;
  choices?: readonly string[];
}

const sw: FlagSpec = { kind: 'switch' };
const int: FlagSpec = { kind: 'value', type: 'int' };
const float: FlagSpec = { kind: 'value', type: 'float' };
const str: FlagSpec = { kind: 'value', type: 'str' };
const pick = (...choices: string[]): FlagSpec => ({ kind: 'value', type: 'str', choices });

/** Allowed --recompute-modules values in HEAD (transformer_config.py). */
export const MEGATRON_RECOMPUTE_MODULES = ['core_attn', 'moe_act', 'layernorm', 'mla_up_proj', 'mlp', 'moe', 'shared_experts',
  'gdn_norm_out', 'gdp_in_proj', 'gdp_qkv', 'mhc'] as const;

/**
 * Every flag moefold may emit (and the few it never emits but whose rules it checks, e.g. the other two VPP
 * flags). A flag missing here is reported as unknown.
 */
export const MEGATRON_FLAGS: Readonly<Record<string, FlagSpec>> = {
  // model shape
  '--num-layers': int,
  '--hidden-size': int,
  '--ffn-hidden-size': int,
  '--num-attention-heads': int,
  '--group-query-attention': sw,
  '--num-query-groups': int,
  '--kv-channels': int,
  '--max-position-embeddings': int,
  '--seq-length': int,
  '--position-embedding-type': pick('learned_absolute', 'rope', 'yarn', 'mrope', 'relative', 'none'),
  '--normalization': pick('LayerNorm', 'RMSNorm'),
  '--swiglu': sw,
  '--untie-embeddings-and-output-weights': sw,
  '--disable-bias-linear': sw,
  '--add-qkv-bias': sw,
  '--qk-layernorm': sw,
  '--softmax-type': pick('vanilla', 'off-by-one', 'learnable'),
  '--window-size': { kind: 'value', type: 'str' },
  '--window-attn-skip-freq': { kind: 'value', type: 'moe_freq' },
  '--make-vocab-size-divisible-by': int,
  '--vocab-size': int,
  '--multi-latent-attention': sw,
  '--q-lora-rank': int,
  '--kv-lora-rank': int,
  '--qk-head-dim': int,
  '--qk-pos-emb-head-dim': int,
  '--v-head-dim': int,
  '--mtp-num-layers': int,
  // rotary positions, norms, initialisation (arguments.py L2400–2427, L2906–2909, L3558–3563; --norm-epsilon,
  // --init-method-std and --moe-shared-expert-gate are TransformerConfig fields, argument_utils.py; HEAD d98e8a6)
  '--rotary-base': int,
  '--rotary-percent': float,
  '--use-rope-scaling': sw,
  '--rope-scaling-factor': float,
  '--rope-type': pick('rope', 'yarn'), // never emitted (MLA's default is yarn); checked for its rule
  '--rotary-scaling-factor': float,
  '--mscale': float,
  '--mscale-all-dim': float,
  '--yarn-original-max-position-embeddings': int,
  '--yarn-beta-fast': float,
  '--yarn-beta-slow': float,
  '--norm-epsilon': float,
  '--init-method-std': float,
  '--moe-shared-expert-gate': sw,
  // MoE
  '--num-experts': int,
  '--moe-router-topk': int,
  '--moe-ffn-hidden-size': int,
  '--moe-shared-expert-intermediate-size': int,
  '--moe-layer-freq': { kind: 'value', type: 'moe_freq' },
  '--moe-token-dispatcher-type': pick('allgather', 'alltoall', 'flex'),
  '--moe-flex-dispatcher-backend': pick('deepep', 'hybridep', 'ncclep'),
  '--moe-grouped-gemm': sw,
  '--moe-permute-fusion': sw,
  '--moe-router-score-function': pick('softmax', 'sigmoid', 'sqrtsoftplus'),
  '--moe-router-pre-softmax': sw,
  '--moe-router-num-groups': int,
  '--moe-router-group-topk': int,
  '--moe-router-topk-scaling-factor': float,
  '--moe-router-enable-expert-bias': sw,
  '--moe-router-load-balancing-type': {
    kind: 'list', type: 'str',
    choices: ['aux_loss', 'seq_aux_loss', 'global_aux_loss', 'sinkhorn', 'quantile_balancing', 'none'],
  },
  '--moe-aux-loss-coeff': { kind: 'list', type: 'float' },
  // parallel sizes and pipeline layout
  '--tensor-model-parallel-size': int,
  '--pipeline-model-parallel-size': int,
  '--context-parallel-size': int,
  '--expert-model-parallel-size': int,
  '--expert-tensor-parallel-size': int,
  '--sequence-parallel': sw,
  '--num-virtual-stages-per-pipeline-rank': int,
  '--num-layers-per-virtual-pipeline-stage': int, // never emitted (not usable with uneven stages)
  '--pipeline-model-parallel-layout': str,
  '--decoder-first-pipeline-num-layers': int,
  '--decoder-last-pipeline-num-layers': int,
  '--account-for-embedding-in-pipeline-split': sw,
  '--account-for-loss-in-pipeline-split': sw,
  '--microbatch-group-size-per-virtual-pipeline-stage': int,
  // data parallel / optimizer
  '--use-distributed-optimizer': sw,
  '--overlap-grad-reduce': sw,
  '--overlap-param-gather': sw,
  // recompute
  '--recompute-granularity': pick('full', 'selective'),
  '--recompute-method': pick('uniform', 'block'),
  '--recompute-num-layers': int,
  '--recompute-modules': { kind: 'list', type: 'str', choices: MEGATRON_RECOMPUTE_MODULES },
  // precision
  '--bf16': sw,
  '--fp16': sw, // never emitted
  '--fp8-format': pick('e4m3', 'hybrid'),
  '--fp8-recipe': pick('tensorwise', 'delayed', 'mxfp8', 'blockwise', 'custom'),
  // ---- software stack (job.training stack fields, src/job/stack.ts) ----
  '--moe-router-force-load-balancing': sw,
  '--moe-expert-capacity-factor': float,
  '--grad-reduce-in-bf16': sw,
  '--overlap-moe-expert-parallel-comm': sw,
  '--delay-wgrad-compute': sw,
  '--cross-entropy-loss-fusion': sw,
  '--cross-entropy-fusion-impl': pick('native', 'te'),
  '--tp-comm-overlap': sw,
  '--cuda-graph-impl': pick('none', 'local', 'transformer_engine', 'full_iteration'),
  '--cuda-graph-modules': { kind: 'list', type: 'str', choices: ['attn', 'mlp', 'moe', 'moe_router', 'moe_preprocess', 'mamba'] },
  '--moe-router-fusion': sw,
  '--fp8-param-gather': sw,
  '--attention-dropout': float,
  '--hidden-dropout': float,
  '--use-precision-aware-optimizer': sw,
  '--main-params-dtype': pick('fp32', 'fp16'),
  '--exp-avg-dtype': pick('fp32', 'fp16', 'bf16', 'fp8'),
  '--exp-avg-sq-dtype': pick('fp32', 'fp16', 'bf16', 'fp8'),
  '--moe-router-padding-for-fp8': sw,
  '--manual-gc': sw,
  '--manual-gc-interval': int,
  // ---- end of software stack ----
  // batch
  '--micro-batch-size': int,
  '--global-batch-size': int,
  // run: data, tokenizer, schedule, checkpoints (mock-data lists and the launcher scripts); logging (every list)
  '--mock-data': sw,
  '--data-path': { kind: 'list', type: 'str' },
  '--split': str,
  '--tokenizer-type': pick('BertWordPieceLowerCase', 'BertWordPieceCase', 'GPT2BPETokenizer', 'SentencePieceTokenizer',
    'GPTSentencePieceTokenizer', 'HuggingFaceTokenizer', 'Llama2Tokenizer', 'TikTokenizer', 'MultimodalTokenizer',
    'NullTokenizer', 'NullMultimodalTokenizer', 'SFTTokenizer'),
  '--tokenizer-model': str,
  '--train-iters': int,
  '--lr': float,
  '--min-lr': float,
  '--lr-decay-style': pick('constant', 'linear', 'cosine', 'inverse-square-root', 'WSD'),
  '--lr-warmup-iters': int,
  '--save': str,
  '--load': str,
  '--save-interval': int,
  '--log-interval': int,
  '--log-throughput': sw,
  // never emitted: Megatron-Core 0.16 and later only (megatron-launch.ts, logging); checked for its rule
  '--log-memory-interval': int,
  '--eval-interval': int,
  '--eval-iters': int,
  // launcher scripts (launch-scripts.ts): process-group timeout and the checkpoint-on-SIGTERM handler
  '--distributed-timeout-minutes': int,
  '--exit-signal-handler': sw,
};

/** A parsed argument list: flag → its values ([] for a switch). */
export type { ParsedArgs } from './megatron-argv-layout.js';

/** Splits an argument list into flags and values; problems (unknown flag, missing value, …) go to `out`. */
export function parseMegatronArgs(args: readonly string[], out: string[] = []): ParsedArgs {
  const parsed: ParsedArgs = new Map();
  let i = 0;
  while (i < args.length) {
    const tok = args[i];
    if (!tok.startsWith('--')) {
      out.push(`unexpected value ${JSON.stringify(tok)} with no flag before it`);
      i++;
      continue;
    }
    const spec = MEGATRON_FLAGS[tok];
    const values: string[] = [];
    let j = i + 1;
    while (j < args.length && !args[j].startsWith('--')) values.push(args[j++]);
    i = j;
    if (!spec) {
      out.push(`unknown flag ${tok} (Megatron-LM rejects unknown and abbreviated flags)`);
      continue;
    }
    if (parsed.has(tok)) out.push(`${tok} is given twice`);
    if (spec.kind === 'switch' && values.length > 0) {
      out.push(`${tok} takes no value (got ${values.join(' ')})`);
    } else if (spec.kind === 'value' && values.length !== 1) {
      out.push(values.length === 0 ? `${tok} needs a value` : `${tok} takes one value (got ${values.join(' ')})`);
    } else if (spec.kind === 'list' && values.length === 0) {
      out.push(`${tok} needs at least one value`);
    }
    for (const v of values) {
      const problem = valueProblem(spec, v);
      if (problem) out.push(`${tok}: ${problem}`);
    }
    parsed.set(tok, values);
  }
  return parsed;
}

function valueProblem(spec: FlagSpec, v: string): string | undefined {
  if (spec.type === 'int' && !/^-?\d+$/.test(v)) return `must be an integer (got ${v})`;
  if (spec.type === 'float' && !Number.isFinite(Number(v))) return `must be a number (got ${v})`;
  if (spec.type === 'moe_freq') {
    if (/[^,\d[\]()+*]/.test(v)) return `must be an integer or a list expression of digits , [ ] ( ) + * (got ${v})`;
    if (parseLayerFreqExpression(v) === undefined) return `is not a valid list expression (got ${v})`;
  }
  if (spec.choices && !spec.choices.includes(v)) return `${JSON.stringify(v)} is not one of ${spec.choices.join(', ')}`;
  return undefined;
}

/**
 * The layout an argument list states on `world` GPUs (problems with the flags are left to checkMegatronArgs):
 * exactly what checkMegatronArgs runs the rule table on.
 */
export function megatronArgsLayout(args: readonly string[], world: number): ArgvLayout {
  const ignored: string[] = [];
  const a = parseMegatronArgs(args, ignored);
  const vpp = checkPipelineFlags(a, ignored, flagNumber(a, '--num-layers', 0), flagNumber(a, '--pipeline-model-parallel-size', 1));
  return layoutFromArgs(a, world, vpp);
}

export interface CheckOptions {
  /** CUDA compute-capability major of the GPUs (9 = Hopper, 10 = Blackwell). Default 9. */
  gpuArchMajor?: number;
}

/**
 * Violations of moefold's Megatron rule set for one launch: `args` as passed to pretrain_gpt.py, `env` the
 * environment the launcher sets, `world` the number of GPUs. Empty when the launch passes. Each entry is one
 * line naming the flags involved: flag problems first, then the attention, environment, pipeline and MoE flag
 * checks, then the broken mapping rules of the list's layout (RULES order), then the optimizer, recompute,
 * precision and run flags.
 */
export function checkMegatronArgs(args: readonly string[], env: Readonly<Record<string, string>>, world: number,
  opts: CheckOptions = {}): string[] {
  const out: string[] = [];
  const a = parseMegatronArgs(args, out);
  const num = (f: string, dflt: number): number => flagNumber(a, f, dflt);

  // required ([VA] L1313–1316; micro-batch-size [VA] L700; seq-length: ours, every training launch needs it)
  for (const f of ['--num-layers', '--hidden-size', '--num-attention-heads', '--max-position-embeddings',
    '--seq-length', '--micro-batch-size']) {
    if (!a.has(f)) out.push(`missing required ${f}`);
  }
  const tp = num('--tensor-model-parallel-size', 1);
  const pp = num('--pipeline-model-parallel-size', 1);
  const cp = num('--context-parallel-size', 1);
  const ep = num('--expert-model-parallel-size', 1);
  const etp = num('--expert-tensor-parallel-size', tp);
  const mbs = num('--micro-batch-size', 1);
  for (const [f, v] of [['--tensor-model-parallel-size', tp], ['--pipeline-model-parallel-size', pp],
    ['--context-parallel-size', cp], ['--expert-model-parallel-size', ep], ['--expert-tensor-parallel-size', etp],
    ['--micro-batch-size', mbs]] as const) {
    if (a.has(f) && v < 1) out.push(`${f} must be >= 1 (got ${v})`);
  }
  if (tp < 1 || pp < 1 || cp < 1 || ep < 1 || etp < 1 || mbs < 1) return out;

  checkAttentionFlags(a, out);
  // environment ([VA] L1453–1479)
  const arch = opts.gpuArchMajor ?? 9;
  if ((tp > 1 || cp > 1) && arch < 10 && env.CUDA_DEVICE_MAX_CONNECTIONS !== '1') {
    out.push(`TP > 1 or CP > 1 on GPUs before Blackwell needs CUDA_DEVICE_MAX_CONNECTIONS=1 (got ${env.CUDA_DEVICE_MAX_CONNECTIONS ?? 'unset'})`);
  }
  if (a.has('--cuda-graph-impl') && a.get('--cuda-graph-impl')?.[0] !== 'none'
    && (env.PYTORCH_CUDA_ALLOC_CONF ?? '').includes('expandable_segments:True') && env.NCCL_GRAPH_REGISTER !== '0') {
    out.push('CUDA graphs with PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True need NCCL_GRAPH_REGISTER=0');
  }
  const vpp = checkPipelineFlags(a, out, num('--num-layers', 0), pp);
  checkMoeFlags(a, out);

  // the mapping: the rule table on the list's layout (hybridep is the one flex backend without the ETP·EP > 1 assert)
  const layout = layoutFromArgs(a, world, vpp);
  const skip = new Set<string>(layout.flexBackend === 'hybridep' ? ['flex-needs-ep-etp'] : []);
  out.push(...argvRuleViolations(layout, skip));

  checkOptimizer(a, out);
  checkRecompute(a, out);
  checkPrecision(a, out);
  // the plan the flags state (its VPP: the VPP flag's, or a layout's stage count)
  checkStackFlags(a, out, layout.plan);
  checkRun(a, out);
  return out;
}
