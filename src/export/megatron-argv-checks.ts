/**
 * The checks of a Megatron-LM argument list that are about the list itself, not the mapping: flags that go
 * together or exclude each other, MoE and router flags, recompute, precision, data and schedule flags, and how the
 * VPP flags state the virtual stages. The mapping rules (sizes, splits, batch) are the rule table's, run by
 * checkMegatronArgs on the list's layout (megatron-argv-layout.ts). Sources as in megatron-flags.ts.
 */
import { epA2aOverlapProblem, routerPaddingProblem, type EpOverlapPlan } from '../job/stack.js';
import { parseLayerFreqExpression } from '../job/layer-freq.js';
import type { ParsedArgs } from './megatron-argv-layout.js';
import { flagInt as intOf, flagNumber } from './megatron-argv-layout.js';

/** Attention and position flags ([TC] L1446–1467, [VA] L1331). */
export function checkAttentionFlags(a: ParsedArgs, out: string[]): void {
  const num = (f: string, dflt: number) => flagNumber(a, f, dflt);
  const heads = num('--num-attention-heads', 0);
  const hidden = num('--hidden-size', 0);
  if (a.has('--num-query-groups') && !a.has('--group-query-attention')) {
    out.push('--num-query-groups has no effect without --group-query-attention');
  }
  if (a.has('--group-query-attention') && a.has('--multi-latent-attention')) {
    out.push('--group-query-attention cannot be combined with --multi-latent-attention');
  }
  if (!a.has('--kv-channels') && heads > 0 && hidden % heads !== 0) {
    out.push(`--hidden-size ${hidden} is not divisible by --num-attention-heads ${heads} (give --kv-channels)`);
  }
  checkRotaryFlags(a, out);
  if (a.has('--moe-shared-expert-gate') && !a.has('--moe-shared-expert-intermediate-size')) {
    out.push('--moe-shared-expert-gate has no effect without --moe-shared-expert-intermediate-size (transformer_config.py L713)');
  }
  if (a.has('--mtp-num-layers') && num('--mtp-num-layers', 0) > 0) {
    const pos = a.get('--position-embedding-type')?.[0] ?? 'learned_absolute';
    if (!['learned_absolute', 'rope', 'mrope', 'none'].includes(pos)) {
      out.push(`--mtp-num-layers needs --position-embedding-type rope, mrope, learned_absolute or none (got ${pos})`);
    }
  }
}

/**
 * Rotary flags that only act together (Megatron-LM HEAD d98e8a6):
 * - Llama 3.x scaling runs only in GPTModel's rope branch without MLA (gpt_model.py L184–194), and the factor
 *   only with --use-rope-scaling;
 * - the YaRN settings act with --position-embedding-type yarn (standard attention) or MLA, whose rotary reads
 *   factor / mscale / mscale-all-dim only (the --yarn-* values reach the non-MLA config alone:
 *   argument_utils.py _apply_yarn_config_from_args L397–399);
 * - yarn with MLA crashes: GPTModel's yarn branch reads config.yarn_* attributes, which are not set for MLA
 *   (the same function returns early);
 * - --rope-type other than rope needs MLA (argument_utils.py L339–341 asserts it).
 */
function checkRotaryFlags(a: ParsedArgs, out: string[]): void {
  const pos = a.get('--position-embedding-type')?.[0] ?? 'learned_absolute';
  const mla = a.has('--multi-latent-attention');
  if (a.has('--use-rope-scaling') && (pos !== 'rope' || mla)) {
    out.push(`--use-rope-scaling needs --position-embedding-type rope without --multi-latent-attention (got ${pos}${mla ? ' with MLA' : ''})`);
  }
  if (a.has('--rope-scaling-factor') && !a.has('--use-rope-scaling')) out.push('--rope-scaling-factor has no effect without --use-rope-scaling');
  if (pos === 'yarn' && mla) out.push('--position-embedding-type yarn cannot be combined with --multi-latent-attention (MLA takes YaRN from its own config)');
  for (const f of ['--rotary-scaling-factor', '--mscale', '--mscale-all-dim']) {
    if (a.has(f) && pos !== 'yarn' && !mla) out.push(`${f} has no effect without --position-embedding-type yarn or --multi-latent-attention`);
  }
  for (const f of ['--yarn-original-max-position-embeddings', '--yarn-beta-fast', '--yarn-beta-slow']) {
    if (a.has(f) && (pos !== 'yarn' || mla)) out.push(`${f} has no effect without --position-embedding-type yarn, nor with --multi-latent-attention`);
  }
  const ropeType = a.get('--rope-type')?.[0];
  if (ropeType !== undefined && ropeType !== 'rope' && !mla) out.push(`--rope-type ${ropeType} needs --multi-latent-attention (standard attention takes rope)`);
  for (const f of ['--rotary-base', '--rotary-percent']) {
    if (a.has(f) && !['rope', 'yarn', 'mrope'].includes(pos) && !mla) out.push(`${f} has no effect with --position-embedding-type ${pos}`);
  }
}

/** num_layers plus the embedding and loss an accounted split counts ([VA] L962–966). */
function accountedL(a: ParsedArgs, L: number): number {
  return L + (a.has('--account-for-embedding-in-pipeline-split') ? 1 : 0) + (a.has('--account-for-loss-in-pipeline-split') ? 1 : 0);
}

/**
 * The pipeline flags: which may be combined, and the virtual stages per PP rank they state (returned; 1 when
 * they state none or a bad number, which is reported). The split itself is checked by the rule table.
 */
export function checkPipelineFlags(a: ParsedArgs, out: string[], L: number, pp: number): number {
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
  const accounted = a.has('--account-for-embedding-in-pipeline-split') || a.has('--account-for-loss-in-pipeline-split');
  if (uneven && accounted) {
    out.push('--account-for-*-in-pipeline-split cannot be combined with --decoder-first/last-pipeline-num-layers ([TC] L2229)');
  }
  if (accounted && a.has('--pipeline-model-parallel-layout')) {
    out.push('--pipeline-model-parallel-layout cannot be combined with --account-for-*-in-pipeline-split ([TC] L2242)');
  }
  // ours: moefold emits both or neither, so the split is explicit
  if ((first === undefined) !== (last === undefined)) {
    out.push('--decoder-first-pipeline-num-layers and --decoder-last-pipeline-num-layers go together');
  }

  let vpp = 1;
  const perRankLayersFlag = intOf(a, '--num-layers-per-virtual-pipeline-stage');
  if (a.has('--num-virtual-stages-per-pipeline-rank')) vpp = intOf(a, '--num-virtual-stages-per-pipeline-rank') ?? 1;
  else if (perRankLayersFlag !== undefined && perRankLayersFlag > 0 && pp > 0
    && accountedL(a, L) % pp === 0) {
    const perStage = accountedL(a, L) / pp;
    if (perStage % perRankLayersFlag !== 0) {
      out.push(`layers per pipeline stage ${perStage} are not divisible by --num-layers-per-virtual-pipeline-stage ${perRankLayersFlag}`);
    } else {
      vpp = perStage / perRankLayersFlag;
    }
  }
  if (!Number.isInteger(vpp) || vpp < 1) {
    out.push(`--num-virtual-stages-per-pipeline-rank must be >= 1 (got ${vpp})`);
    return 1;
  }
  return vpp;
}

/** MoE, router and dispatcher flags (the expert sizes are the rule table's). */
export function checkMoeFlags(a: ParsedArgs, out: string[]): void {
  const experts = flagNumber(a, '--num-experts', 0);
  const moeOnly = ['--moe-router-topk', '--moe-ffn-hidden-size', '--moe-shared-expert-intermediate-size',
    '--moe-layer-freq', '--moe-token-dispatcher-type', '--moe-flex-dispatcher-backend', '--moe-grouped-gemm',
    '--moe-permute-fusion', '--moe-router-score-function', '--moe-router-pre-softmax', '--moe-router-num-groups',
    '--moe-router-group-topk', '--moe-router-topk-scaling-factor', '--moe-router-enable-expert-bias',
    '--moe-router-load-balancing-type', '--moe-aux-loss-coeff', '--expert-tensor-parallel-size',
    '--moe-router-force-load-balancing', '--moe-expert-capacity-factor', '--moe-router-fusion',
    '--overlap-moe-expert-parallel-comm', '--delay-wgrad-compute', '--moe-router-padding-for-fp8'];
  if (experts <= 0) {
    // ours: a dense launch carries no MoE flags
    const stray = moeOnly.filter((f) => a.has(f));
    if (stray.length) out.push(`MoE flags without --num-experts: ${stray.join(', ')}`);
    return;
  }
  // [TC] L2611–2615, shared_experts.py:124: bias in MoE only with ETP 1 and never with shared experts
  if (!a.has('--disable-bias-linear')) {
    const etp = intOf(a, '--expert-tensor-parallel-size') ?? intOf(a, '--tensor-model-parallel-size') ?? 1;
    if (etp !== 1) out.push(`MoE biases (no --disable-bias-linear) need --expert-tensor-parallel-size 1 (got ${etp})`);
    if (a.has('--moe-shared-expert-intermediate-size')) {
      out.push('MoE biases (no --disable-bias-linear) are not supported with a shared expert: add --disable-bias-linear');
    }
  }
  // a pattern of the wrong length passes validate_args and fails when the model is built [RT]
  const L = intOf(a, '--num-layers');
  const freq = a.get('--moe-layer-freq')?.[0];
  if (freq !== undefined && L !== undefined) {
    const v = parseLayerFreqExpression(freq);
    if (Array.isArray(v) && v.length !== L) out.push(`--moe-layer-freq lists ${v.length} layers, --num-layers is ${L}`);
    if (typeof v === 'number' && v < 1) out.push(`--moe-layer-freq must be >= 1 (got ${v})`);
  }
  // dispatcher ([TC] L1743–1775)
  const disp = a.get('--moe-token-dispatcher-type')?.[0] ?? 'allgather';
  const backend = a.get('--moe-flex-dispatcher-backend')?.[0];
  if (disp === 'flex' && backend === undefined) out.push('--moe-token-dispatcher-type flex needs --moe-flex-dispatcher-backend');
  if (disp !== 'flex' && backend !== undefined) out.push(`--moe-flex-dispatcher-backend needs --moe-token-dispatcher-type flex (got ${disp})`);
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

export function checkOptimizer(a: ParsedArgs, out: string[]): void {
  // [VA] L1024–1029
  if (a.has('--overlap-param-gather')) {
    if (!a.has('--use-distributed-optimizer')) out.push('--overlap-param-gather needs --use-distributed-optimizer');
    if (!a.has('--overlap-grad-reduce')) out.push('--overlap-param-gather needs --overlap-grad-reduce');
  }
}

export function checkRecompute(a: ParsedArgs, out: string[]): void {
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

export function checkPrecision(a: ParsedArgs, out: string[]): void {
  if (a.has('--bf16') && a.has('--fp16')) out.push('--bf16 and --fp16 are exclusive');
  // ours: moefold plans bf16 mixed precision (fp8 runs on top of it)
  if (!a.has('--bf16')) out.push('missing --bf16 (moefold plans bf16 or fp8-on-bf16 training)');
  if (a.has('--fp8-recipe') && !a.has('--fp8-format')) {
    out.push('--fp8-recipe has no effect without --fp8-format (there is no --fp8 flag)');
  }
}

/** The software-stack flags (src/job/stack.ts): what each needs ([VA] validate_args, [TC] TransformerConfig). */
export function checkStackFlags(a: ParsedArgs, out: string[], p: EpOverlapPlan & { tp: number }): void {
  // [VA] L1441
  if (a.has('--tp-comm-overlap') && !a.has('--sequence-parallel')) out.push('--tp-comm-overlap needs --sequence-parallel');
  if (a.has('--tp-comm-overlap') && p.tp <= 1) out.push('--tp-comm-overlap needs --tensor-model-parallel-size > 1 (ours: nothing to overlap)');
  // [TC] overlap_moe_expert_parallel_comm / delay_wgrad_compute
  if (a.has('--delay-wgrad-compute') && !a.has('--overlap-moe-expert-parallel-comm')) {
    out.push('--delay-wgrad-compute needs --overlap-moe-expert-parallel-comm');
  }
  if (a.has('--overlap-moe-expert-parallel-comm')) {
    // the plan-level conditions are the cost model's (epA2aOverlapProblem); the module list is a flag fact
    const why = epA2aOverlapProblem(p);
    if (why !== null) out.push(`--overlap-moe-expert-parallel-comm ${why}`);
    if ((a.get('--recompute-modules') ?? []).includes('moe')) out.push('--overlap-moe-expert-parallel-comm cannot be combined with --recompute-modules moe');
  }
  // [VA] L1698
  if (a.has('--cross-entropy-loss-fusion') && a.get('--cross-entropy-fusion-impl')?.[0] === 'te') {
    out.push('--cross-entropy-loss-fusion with --cross-entropy-fusion-impl te is refused by Megatron-LM (use native)');
  }
  // [VA] L1095
  if (a.has('--fp8-param-gather') && !a.has('--use-distributed-optimizer')) out.push('--fp8-param-gather needs --use-distributed-optimizer');
  if (a.has('--fp8-param-gather') && !a.has('--fp8-format')) out.push('--fp8-param-gather has no effect without --fp8-format');
  if (a.has('--cuda-graph-modules') && (a.get('--cuda-graph-impl')?.[0] ?? 'none') === 'none') {
    out.push('--cuda-graph-modules has no effect without --cuda-graph-impl');
  }
  // [TC] moe_expert_capacity_factor
  if (a.has('--moe-expert-capacity-factor') && (a.get('--moe-router-load-balancing-type') ?? []).includes('sinkhorn')) {
    out.push('--moe-expert-capacity-factor does not work with sinkhorn load balancing');
  }
  // [TC] L2649–2658, L2845–2852 (d98e8a6): the routing-map padding's conditions are the export's (routerPaddingProblem)
  if (a.has('--moe-router-padding-for-fp8')) {
    const plan = { precision: a.has('--fp8-format') ? 'fp8' : 'bf16', dispatcher: a.get('--moe-token-dispatcher-type')?.[0] ?? 'allgather' };
    const why = routerPaddingProblem(plan, (a.get('--cuda-graph-modules') ?? []).includes('moe_preprocess'));
    if (why !== null) out.push(`--moe-router-padding-for-fp8 ${why}`);
  }
  // ours: Megatron ignores the interval without --manual-gc
  if (a.has('--manual-gc-interval') && !a.has('--manual-gc')) out.push('--manual-gc-interval has no effect without --manual-gc');
  // ours: the dtypes are the precision-aware optimizer's
  for (const f of ['--main-params-dtype', '--exp-avg-dtype', '--exp-avg-sq-dtype']) {
    if (a.has(f) && !a.has('--use-precision-aware-optimizer')) out.push(`${f} needs --use-precision-aware-optimizer`);
  }
}

export function checkRun(a: ParsedArgs, out: string[]): void {
  // [VA]: a single data source
  if (a.has('--mock-data') && a.has('--data-path')) out.push('--mock-data and --data-path are exclusive');
  if (a.get('--tokenizer-type')?.[0] === 'NullTokenizer' && !a.has('--vocab-size')) {
    out.push('--tokenizer-type NullTokenizer needs --vocab-size');
  }
  if (a.has('--save') && !a.has('--save-interval')) out.push('--save needs --save-interval ([VA])');
  const lr = a.get('--lr')?.[0];
  const minLr = a.get('--min-lr')?.[0];
  if (lr !== undefined && minLr !== undefined && Number(minLr) > Number(lr)) out.push(`--min-lr ${minLr} is more than --lr ${lr}`);
  checkLogging(a, out);
}

/**
 * Logging intervals: training_log takes iteration % log_interval and iteration % log_memory_interval (ours: an
 * interval below 1 would divide by zero or never log); [VA] L1369–1370 asserts log_memory_interval % log_interval
 * == 0 (Megatron's default log interval: 100). A value that is no integer is reported by the parser.
 */
function checkLogging(a: ParsedArgs, out: string[]): void {
  const interval = intOf(a, '--log-interval') ?? 100;
  const memory = intOf(a, '--log-memory-interval');
  for (const [f, v] of [['--log-interval', interval], ['--log-memory-interval', memory]] as const) {
    if (v !== undefined && Number.isInteger(v) && v < 1) out.push(`${f} must be >= 1 (got ${v})`);
  }
  if (interval >= 1 && memory !== undefined && memory >= 1 && memory % interval !== 0) {
    out.push(`--log-memory-interval ${memory} is not a multiple of --log-interval ${interval} ([VA] L1370)`);
  }
}
