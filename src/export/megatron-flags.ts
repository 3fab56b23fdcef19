/**
 * The Megatron-LM `pretrain_gpt.py` flags moefold may emit, with their kind, and the rules between them.
 *
 * Names, kinds and choices were read from Megatron-LM's argument parser (megatron/training/arguments.py,
 * HEAD d98e8a6 of 2026-08-22; shared/reference/megatron.md §2 and Appendix A). `parse_args` uses
 * allow_abbrev=False, so a flag must be spelled exactly. The rules in checkMegatronArgs restate the checks of
 * validate_args [VA], TransformerConfig [TC], initialize_model_parallel [PS] and of the first training step
 * [RT] (megatron.md §2) plus a few of moefold's own (marked "ours"), so tests can check an argument list
 * without a Megatron source tree.
 */
import { parseLayerFreqExpression } from '../spec/layer-freq.js';

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
export const RECOMPUTE_MODULES = ['core_attn', 'moe_act', 'layernorm', 'mla_up_proj', 'mlp', 'moe', 'shared_experts',
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
  '--make-vocab-size-divisible-by': int,
  '--vocab-size': int,
  '--multi-latent-attention': sw,
  '--q-lora-rank': int,
  '--kv-lora-rank': int,
  '--qk-head-dim': int,
  '--qk-pos-emb-head-dim': int,
  '--v-head-dim': int,
  '--mtp-num-layers': int,
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
  '--pipeline-model-parallel-layout': str, // never emitted
  '--decoder-first-pipeline-num-layers': int,
  '--decoder-last-pipeline-num-layers': int,
  '--account-for-embedding-in-pipeline-split': sw, // never emitted
  '--account-for-loss-in-pipeline-split': sw, // never emitted
  // data parallel / optimizer
  '--use-distributed-optimizer': sw,
  '--overlap-grad-reduce': sw,
  '--overlap-param-gather': sw,
  // recompute
  '--recompute-granularity': pick('full', 'selective'),
  '--recompute-method': pick('uniform', 'block'),
  '--recompute-num-layers': int,
  '--recompute-modules': { kind: 'list', type: 'str', choices: RECOMPUTE_MODULES },
  // precision
  '--bf16': sw,
  '--fp16': sw, // never emitted
  '--fp8-format': pick('e4m3', 'hybrid'),
  '--fp8-recipe': pick('tensorwise', 'delayed', 'mxfp8', 'blockwise', 'custom'),
  // batch
  '--micro-batch-size': int,
  '--global-batch-size': int,
  // run: data, tokenizer, schedule, checkpoints, logging (mock-data lists and the launcher scripts)
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
  '--eval-interval': int,
  '--eval-iters': int,
};

/** A parsed argument list: flag → its values ([] for a switch). */
export type ParsedArgs = Map<string, string[]>;

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

export interface CheckOptions {
  /** CUDA compute-capability major of the GPUs (9 = Hopper, 10 = Blackwell). Default 9. */
  gpuArchMajor?: number;
}

/**
 * Violations of moefold's Megatron rule set for one launch: `args` as passed to pretrain_gpt.py, `env` the
 * environment the launcher sets, `world` the number of GPUs. Empty when the launch passes. Each entry is one
 * line naming the flags involved.
 */
export function checkMegatronArgs(args: readonly string[], env: Readonly<Record<string, string>>, world: number,
  opts: CheckOptions = {}): string[] {
  const out: string[] = [];
  const a = parseMegatronArgs(args, out);
  const has = (f: string): boolean => a.has(f);
  const one = (f: string): string | undefined => a.get(f)?.[0];
  const num = (f: string, dflt: number): number => {
    const v = one(f);
    const n = v === undefined ? dflt : Number(v);
    return Number.isFinite(n) ? n : dflt;
  };

  // required ([VA] L1313–1316; micro-batch-size [VA] L700; seq-length: ours, every training launch needs it)
  for (const f of ['--num-layers', '--hidden-size', '--num-attention-heads', '--max-position-embeddings',
    '--seq-length', '--micro-batch-size']) {
    if (!has(f)) out.push(`missing required ${f}`);
  }
  const L = num('--num-layers', 0);
  const hidden = num('--hidden-size', 0);
  const heads = num('--num-attention-heads', 0);
  const seq = num('--seq-length', 0);
  const maxPos = num('--max-position-embeddings', 0);
  const tp = num('--tensor-model-parallel-size', 1);
  const pp = num('--pipeline-model-parallel-size', 1);
  const cp = num('--context-parallel-size', 1);
  const ep = num('--expert-model-parallel-size', 1);
  const etp = num('--expert-tensor-parallel-size', tp);
  const mbs = num('--micro-batch-size', 1);
  const experts = num('--num-experts', 0);
  const isMoe = experts > 0;

  for (const [f, v] of [['--tensor-model-parallel-size', tp], ['--pipeline-model-parallel-size', pp],
    ['--context-parallel-size', cp], ['--expert-model-parallel-size', ep], ['--expert-tensor-parallel-size', etp],
    ['--micro-batch-size', mbs]] as const) {
    if (has(f) && v < 1) out.push(`${f} must be >= 1 (got ${v})`);
  }
  if (tp < 1 || pp < 1 || cp < 1 || ep < 1 || etp < 1 || mbs < 1) return out;

  // world size ([VA] L432; [PS] L822, L881) and batch ([VA] L715)
  const dp = world / (tp * cp * pp);
  if (!Number.isInteger(dp)) out.push(`world size ${world} is not divisible by TP*CP*PP = ${tp * cp * pp}`);
  if (world % (etp * ep * pp) !== 0) out.push(`world size ${world} is not divisible by ETP*EP*PP = ${etp * ep * pp}`);
  const gbs = num('--global-batch-size', Number.isInteger(dp) ? mbs * dp : mbs);
  let microbatches = 0;
  if (Number.isInteger(dp)) {
    if (gbs % (mbs * dp) !== 0) {
      out.push(`--global-batch-size ${gbs} is not divisible by micro-batch-size*DP = ${mbs}*${dp}`);
    } else {
      microbatches = gbs / (mbs * dp);
    }
  }

  // attention shape ([TC] L1446–1467, [VA] L1331)
  if (heads > 0 && heads % tp !== 0) out.push(`--num-attention-heads ${heads} is not divisible by TP ${tp}`);
  if (has('--num-query-groups') && !has('--group-query-attention')) {
    out.push('--num-query-groups has no effect without --group-query-attention');
  }
  if (has('--group-query-attention')) {
    const groups = num('--num-query-groups', 1);
    if (groups % tp !== 0 && tp % groups !== 0) {
      out.push(`--num-query-groups ${groups} must be a multiple or a divisor of TP ${tp}`);
    }
    if (has('--multi-latent-attention')) out.push('--group-query-attention cannot be combined with --multi-latent-attention');
  }
  if (!has('--kv-channels') && heads > 0 && hidden % heads !== 0) {
    out.push(`--hidden-size ${hidden} is not divisible by --num-attention-heads ${heads} (give --kv-channels)`);
  }
  if (has('--max-position-embeddings') && has('--seq-length') && maxPos < seq) {
    out.push(`--max-position-embeddings ${maxPos} must be >= --seq-length ${seq}`);
  }
  if (has('--mtp-num-layers') && num('--mtp-num-layers', 0) > 0) {
    const pos = one('--position-embedding-type') ?? 'learned_absolute';
    if (!['learned_absolute', 'rope', 'mrope', 'none'].includes(pos)) {
      out.push(`--mtp-num-layers needs --position-embedding-type rope, mrope, learned_absolute or none (got ${pos})`);
    }
  }
  // GEMM shapes split over TP / ETP ([RT] megatron.core.utils.divide); the dense MLP only where one is built
  if (has('--ffn-hidden-size') && hasDenseMlp(a, isMoe) && num('--ffn-hidden-size', 0) % tp !== 0) {
    out.push(`--ffn-hidden-size ${num('--ffn-hidden-size', 0)} is not divisible by TP ${tp}`);
  }

  // sequence parallel needs TP > 1 ([MPC] L502); an MoE model with TP > 1 needs it ([RT] moe_layer.py); a dense
  // model may run TP without it
  if (tp > 1 && isMoe && !has('--sequence-parallel')) out.push(`--sequence-parallel must be set for an MoE model with TP > 1 (TP=${tp})`);
  if (tp === 1 && has('--sequence-parallel')) out.push('--sequence-parallel must not be set when TP = 1');

  // context parallel ([VA] L1335; [RT] sequence-parallel scatter)
  if (cp > 1 && seq % (2 * cp) !== 0) out.push(`--seq-length ${seq} is not divisible by 2*CP = ${2 * cp}`);
  if (tp > 1 && has('--sequence-parallel') && Number.isInteger(seq / cp) && (seq / cp) % tp !== 0) {
    out.push(`--seq-length ${seq} / CP ${cp} is not divisible by TP ${tp} (sequence-parallel split)`);
  }

  // environment ([VA] L1453–1479)
  const arch = opts.gpuArchMajor ?? 9;
  if ((tp > 1 || cp > 1) && arch < 10 && env.CUDA_DEVICE_MAX_CONNECTIONS !== '1') {
    out.push(`TP > 1 or CP > 1 on GPUs before Blackwell needs CUDA_DEVICE_MAX_CONNECTIONS=1 (got ${env.CUDA_DEVICE_MAX_CONNECTIONS ?? 'unset'})`);
  }

  checkPipeline(a, out, { L, pp, microbatches });
  checkMoe(a, out, { isMoe, experts, ep, etp, tp });
  checkOptimizer(a, out);
  checkRecompute(a, out);
  checkPrecision(a, out);
  checkRun(a, out);
  return out;
}

/** Whether some decoder layer has a dense MLP: every layer of a dense model, the 0s of --moe-layer-freq. */
function hasDenseMlp(a: ParsedArgs, isMoe: boolean): boolean {
  if (!isMoe) return true;
  const v = parseLayerFreqExpression(a.get('--moe-layer-freq')?.[0] ?? '1');
  if (typeof v === 'number') return v !== 1;
  return v === undefined || v.includes(0);
}

function intOf(a: ParsedArgs, f: string): number | undefined {
  const v = a.get(f)?.[0];
  return v === undefined ? undefined : Number(v);
}

function checkPipeline(a: ParsedArgs, out: string[], c: { L: number; pp: number; microbatches: number }): void {
  const { L, pp, microbatches } = c;
  const vppFlags = ['--num-layers-per-virtual-pipeline-stage', '--num-virtual-stages-per-pipeline-rank',
    '--pipeline-model-parallel-layout'].filter((f) => a.has(f));
  if (vppFlags.length > 1) out.push(`at most one of ${vppFlags.join(', ')} may be given ([VA] L928)`);
  const first = intOf(a, '--decoder-first-pipeline-num-layers');
  const last = intOf(a, '--decoder-last-pipeline-num-layers');
  const uneven = first !== undefined || last !== undefined;
  if (uneven && a.has('--num-layers-per-virtual-pipeline-stage')) {
    out.push('--num-layers-per-virtual-pipeline-stage cannot be combined with --decoder-first/last-pipeline-num-layers (use --num-virtual-stages-per-pipeline-rank)');
  }
  if (uneven && a.has('--pipeline-model-parallel-layout')) {
    out.push('--pipeline-model-parallel-layout cannot be combined with --decoder-first/last-pipeline-num-layers');
  }
  if (uneven && (a.has('--account-for-embedding-in-pipeline-split') || a.has('--account-for-loss-in-pipeline-split'))) {
    out.push('--account-for-*-in-pipeline-split cannot be combined with --decoder-first/last-pipeline-num-layers');
  }
  // ours: moefold emits both or neither, so the split is explicit
  if ((first === undefined) !== (last === undefined)) {
    out.push('--decoder-first-pipeline-num-layers and --decoder-last-pipeline-num-layers go together');
  }

  let vpp = 1;
  const perRankLayersFlag = intOf(a, '--num-layers-per-virtual-pipeline-stage');
  if (a.has('--num-virtual-stages-per-pipeline-rank')) vpp = intOf(a, '--num-virtual-stages-per-pipeline-rank') ?? 1;
  else if (perRankLayersFlag !== undefined && perRankLayersFlag > 0 && pp > 0 && L % pp === 0) {
    const perStage = L / pp;
    if (perStage % perRankLayersFlag !== 0) {
      out.push(`layers per pipeline stage ${perStage} are not divisible by --num-layers-per-virtual-pipeline-stage ${perRankLayersFlag}`);
    } else {
      vpp = perStage / perRankLayersFlag;
    }
  }
  if (vpp < 1) {
    out.push(`--num-virtual-stages-per-pipeline-rank must be >= 1 (got ${vpp})`);
    return;
  }
  if (vpp > 1 && pp <= 1) out.push('virtual pipeline stages need --pipeline-model-parallel-size > 1 ([VA] L1000)');

  if (L <= 0 || pp < 1) return;
  if (uneven) {
    // [TC] L2294–2368: a stage without its flag counts as a middle stage
    const f = first ?? 0;
    const l = last ?? 0;
    const shown = `${first ?? '-'}/${last ?? '-'}`;
    if (pp === 1) out.push('--decoder-first/last-pipeline-num-layers need --pipeline-model-parallel-size > 1');
    if ((first !== undefined && first < 1) || (last !== undefined && last < 1)) {
      out.push(`first/last pipeline stage layers must be >= 1 (got ${shown})`);
    }
    if (f % vpp !== 0 || l % vpp !== 0) {
      out.push(`first/last pipeline stage layers ${shown} must be divisible by the virtual stages ${vpp}`);
    }
    const midLayers = L - f - l;
    const midStages = pp - (first !== undefined ? 1 : 0) - (last !== undefined ? 1 : 0);
    if (midLayers < 0 || (midLayers === 0) !== (midStages <= 0)) {
      out.push(`${midLayers} layers left for ${Math.max(midStages, 0)} middle pipeline stages (--num-layers ${L}, first/last ${shown}, PP ${pp})`);
    } else if (midStages > 0) {
      if (midLayers % midStages !== 0) {
        out.push(`${midLayers} middle layers are not divisible by ${midStages} middle pipeline stages`);
      } else if ((midLayers / midStages) % vpp !== 0) {
        out.push(`${midLayers / midStages} layers per middle stage are not divisible by the virtual stages ${vpp}`);
      }
    }
  } else if (L % pp !== 0) {
    out.push(`--num-layers ${L} is not divisible by PP ${pp} ([VA] L987)`);
  } else if (vpp > 1 && (L / pp) % vpp !== 0) {
    out.push(`${L / pp} layers per pipeline stage are not divisible by the virtual stages ${vpp} ([RT] get_num_layers_to_build)`);
  }
  // interleaved schedule ([RT] schedules.py L1160–1180 with the default microbatch group = PP)
  if (vpp > 1 && pp > 1 && microbatches > 0 && (microbatches < pp || microbatches % pp !== 0)) {
    out.push(`the interleaved schedule needs the number of microbatches (${microbatches}) to be a multiple of PP ${pp}`);
  }
}

function checkMoe(a: ParsedArgs, out: string[], c: { isMoe: boolean; experts: number; ep: number; etp: number; tp: number }): void {
  const { isMoe, experts, ep, etp, tp } = c;
  const moeOnly = ['--moe-router-topk', '--moe-ffn-hidden-size', '--moe-shared-expert-intermediate-size',
    '--moe-layer-freq', '--moe-token-dispatcher-type', '--moe-flex-dispatcher-backend', '--moe-grouped-gemm',
    '--moe-permute-fusion', '--moe-router-score-function', '--moe-router-pre-softmax', '--moe-router-num-groups',
    '--moe-router-group-topk', '--moe-router-topk-scaling-factor', '--moe-router-enable-expert-bias',
    '--moe-router-load-balancing-type', '--moe-aux-loss-coeff', '--expert-tensor-parallel-size'];
  if (!isMoe) {
    // ours: a dense launch carries no MoE flags
    const stray = moeOnly.filter((f) => a.has(f));
    if (stray.length) out.push(`MoE flags without --num-experts: ${stray.join(', ')}`);
    if (ep > 1) out.push(`--expert-model-parallel-size ${ep} needs --num-experts ([VA] L1655)`);
    return;
  }
  // [TC] L2611–2615, shared_experts.py:124: bias in MoE only with ETP 1 and never with shared experts
  if (!a.has('--disable-bias-linear')) out.push(`MoE (--num-experts ${experts}) needs --disable-bias-linear`);
  if (experts % ep !== 0) out.push(`--num-experts ${experts} is not divisible by EP ${ep} ([VA] L1656)`);
  const moeFfn = intOf(a, '--moe-ffn-hidden-size') ?? intOf(a, '--ffn-hidden-size');
  if (moeFfn !== undefined && moeFfn % etp !== 0) out.push(`MoE FFN size ${moeFfn} is not divisible by ETP ${etp}`);
  const shared = intOf(a, '--moe-shared-expert-intermediate-size');
  if (shared !== undefined && shared % tp !== 0) {
    out.push(`--moe-shared-expert-intermediate-size ${shared} is not divisible by TP ${tp} (shared experts use attention TP)`);
  }
  // a pattern of the wrong length passes validate_args and fails when the model is built [RT]
  const L = intOf(a, '--num-layers');
  const freq = a.get('--moe-layer-freq')?.[0];
  if (freq !== undefined && L !== undefined) {
    const v = parseLayerFreqExpression(freq);
    if (Array.isArray(v) && v.length !== L) out.push(`--moe-layer-freq lists ${v.length} layers, --num-layers is ${L}`);
    if (typeof v === 'number' && v < 1) out.push(`--moe-layer-freq must be >= 1 (got ${v})`);
  }
  // dispatcher ([TC] L1743–1775; deepep/ncclep assert ETP*EP > 1)
  const disp = a.get('--moe-token-dispatcher-type')?.[0] ?? 'allgather';
  const backend = a.get('--moe-flex-dispatcher-backend')?.[0];
  if (disp === 'flex' && backend === undefined) out.push('--moe-token-dispatcher-type flex needs --moe-flex-dispatcher-backend');
  if (disp !== 'flex' && backend !== undefined) out.push(`--moe-flex-dispatcher-backend needs --moe-token-dispatcher-type flex (got ${disp})`);
  if (disp === 'flex' && (backend ?? 'deepep') !== 'hybridep' && etp * ep <= 1) {
    out.push(`the flex dispatcher with ${backend ?? 'deepep'} needs ETP*EP > 1 (got ${etp * ep})`);
  }
  // router ([TC] L2617–2669)
  const score = a.get('--moe-router-score-function')?.[0] ?? 'softmax';
  const topk = intOf(a, '--moe-router-topk') ?? 2;
  if (topk > experts) out.push(`--moe-router-topk ${topk} is more than --num-experts ${experts}`);
  const balancing = a.get('--moe-router-load-balancing-type') ?? ['aux_loss'];
  if (topk === 1 && score === 'softmax' && !a.has('--moe-router-pre-softmax') && !balancing.includes('sinkhorn')) {
    out.push('--moe-router-topk 1 with softmax scoring needs --moe-router-pre-softmax');
  }
  if (a.has('--moe-router-enable-expert-bias') && score !== 'sigmoid' && score !== 'sqrtsoftplus') {
    out.push(`--moe-router-enable-expert-bias needs --moe-router-score-function sigmoid or sqrtsoftplus (got ${score})`);
  }
  const groups = intOf(a, '--moe-router-num-groups');
  const groupTopk = intOf(a, '--moe-router-group-topk');
  if (groupTopk !== undefined && groups === undefined) out.push('--moe-router-group-topk needs --moe-router-num-groups');
  if (groups !== undefined) {
    if (experts % groups !== 0) out.push(`--num-experts ${experts} is not divisible by --moe-router-num-groups ${groups}`);
    if (groupTopk !== undefined && groupTopk > groups) {
      out.push(`--moe-router-group-topk ${groupTopk} is more than --moe-router-num-groups ${groups}`);
    }
  }
  // recompute modules that need MoE pieces ([TC] L1936–2000)
  const modules = a.get('--recompute-modules') ?? [];
  if (modules.includes('moe_act') && !a.has('--moe-grouped-gemm')) out.push('--recompute-modules moe_act needs --moe-grouped-gemm');
}

function checkOptimizer(a: ParsedArgs, out: string[]): void {
  // [VA] L1024–1029
  if (a.has('--overlap-param-gather')) {
    if (!a.has('--use-distributed-optimizer')) out.push('--overlap-param-gather needs --use-distributed-optimizer');
    if (!a.has('--overlap-grad-reduce')) out.push('--overlap-param-gather needs --overlap-grad-reduce');
  }
}

function checkRecompute(a: ParsedArgs, out: string[]): void {
  const gran = a.get('--recompute-granularity')?.[0];
  const method = a.has('--recompute-method');
  const layers = a.has('--recompute-num-layers');
  if (gran === 'full') {
    // [TC] L1906–1926
    if (!method) out.push('--recompute-granularity full needs --recompute-method (uniform or block)');
    if (!layers) out.push('--recompute-granularity full needs --recompute-num-layers');
    if (a.has('--recompute-modules')) out.push('--recompute-modules applies to --recompute-granularity selective only');
  } else if (gran === 'selective') {
    // [VA] L1425; [TC] L1927
    if (method) out.push('--recompute-granularity selective must not set --recompute-method');
    if (layers) out.push('--recompute-granularity selective must not set --recompute-num-layers');
  } else {
    if (method || layers) out.push('--recompute-method / --recompute-num-layers need --recompute-granularity full');
    if (a.has('--recompute-modules')) out.push('--recompute-modules needs --recompute-granularity selective');
  }
  const n = intOf(a, '--recompute-num-layers');
  if (n !== undefined && n < 1) out.push(`--recompute-num-layers must be >= 1 (got ${n})`);
  const modules = a.get('--recompute-modules') ?? [];
  if (modules.includes('mla_up_proj') && !a.has('--multi-latent-attention')) {
    out.push('--recompute-modules mla_up_proj needs --multi-latent-attention');
  }
}

function checkPrecision(a: ParsedArgs, out: string[]): void {
  if (a.has('--bf16') && a.has('--fp16')) out.push('--bf16 and --fp16 are exclusive');
  // ours: moefold plans bf16 mixed precision (fp8 runs on top of it)
  if (!a.has('--bf16')) out.push('missing --bf16 (moefold plans bf16 or fp8-on-bf16 training)');
  if (a.has('--fp8-recipe') && !a.has('--fp8-format')) {
    out.push('--fp8-recipe has no effect without --fp8-format (there is no --fp8 flag)');
  }
}

function checkRun(a: ParsedArgs, out: string[]): void {
  // [VA]: a single data source
  if (a.has('--mock-data') && a.has('--data-path')) out.push('--mock-data and --data-path are exclusive');
  if (a.get('--tokenizer-type')?.[0] === 'NullTokenizer' && !a.has('--vocab-size')) {
    out.push('--tokenizer-type NullTokenizer needs --vocab-size');
  }
  if (a.has('--save') && !a.has('--save-interval')) out.push('--save needs --save-interval ([VA])');
  const lr = a.get('--lr')?.[0];
  const minLr = a.get('--min-lr')?.[0];
  if (lr !== undefined && minLr !== undefined && Number(minLr) > Number(lr)) out.push(`--min-lr ${minLr} is more than --lr ${lr}`);
}
