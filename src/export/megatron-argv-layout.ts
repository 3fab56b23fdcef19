/**
 * A Megatron-LM argument list read back into a Layout (src/plan/layout.ts): the job facts the list states (layers,
 * heads, query groups, FFN sizes, experts and their layer pattern, seq, max positions, global batch) and the
 * parallel sizes, pipeline split and micro-batch size. checkMegatronArgs runs the rule table (src/enumerate/rules.ts)
 * on it, the same rules the enumerator prunes with, so each mapping rule has one statement; this file only words
 * the violations in flag terms.
 */
import type { Plan } from '../enumerate/plan.js';
import { newPlan } from '../enumerate/plan.js';
import type { RuleViolation } from '../enumerate/rules.js';
import { RULES, checkPlan, unevenSplitProblem } from '../enumerate/rules.js';
import type { LayoutJob } from '../plan/layout.js';
import { dataParallelSize, deriveLayout, mbGroupProblem, planLayout } from '../plan/layout.js';
import { layerMaskFromFreq, parseLayerFreqExpression } from '../job/layer-freq.js';
import type { Dispatcher, ModelShape } from '../job/types.js';

/** A parsed argument list: flag → its values ([] for a switch). */
export type ParsedArgs = Map<string, string[]>;

export interface ArgvLayout {
  job: LayoutJob;
  shape: ModelShape;
  plan: Plan;
  /** --moe-flex-dispatcher-backend (Megatron's default deepep). */
  flexBackend: string;
}

/** The flag's number, or `dflt` when it is absent or not a number. */
export function flagNumber(a: ParsedArgs, f: string, dflt: number): number {
  const v = a.get(f)?.[0];
  const n = v === undefined ? dflt : Number(v);
  return Number.isFinite(n) ? n : dflt;
}

/** The flag's number, or undefined when it is absent. */
export function flagInt(a: ParsedArgs, f: string): number | undefined {
  const v = a.get(f)?.[0];
  return v === undefined ? undefined : Number(v);
}

/**
 * The decoder's MoE layer mask from --num-experts, --moe-layer-freq and --num-layers. A pattern that does not fit
 * (checked by checkMegatronArgs) counts as having dense layers, so the dense-MLP rules still apply.
 */
function shapeFromArgs(a: ParsedArgs, numLayers: number, numExperts: number): ModelShape {
  const isMoe = numExperts > 0;
  const L = Math.max(0, Math.floor(numLayers));
  let mask: Uint8Array = new Uint8Array(L);
  let fits = true;
  if (isMoe) {
    const v = parseLayerFreqExpression(a.get('--moe-layer-freq')?.[0] ?? '1');
    if (typeof v === 'number' && v >= 1) mask = layerMaskFromFreq(v, L);
    else if (Array.isArray(v) && v.length === L) mask = layerMaskFromFreq(v, L);
    else fits = false;
  }
  let numMoeLayers = 0;
  for (const x of mask) numMoeLayers += x;
  const numDenseLayers = fits ? L - numMoeLayers : Math.max(1, L - numMoeLayers);
  return { isMoe, moeLayerMask: mask, numMoeLayers, numDenseLayers };
}

/**
 * The layout an argument list asks for on `world` GPUs. Absent flags take Megatron's defaults (sizes 1, ETP = TP,
 * allgather dispatcher, an even split, the global batch one micro-batch per DP rank); absent model facts take
 * values no rule refuses (missing required flags are reported on their own). vpp is the stated virtual stages
 * (`vpp`, from either VPP flag; checkMegatronArgs reports the flag problems).
 */
export function layoutFromArgs(a: ParsedArgs, world: number, vpp: number): ArgvLayout {
  const num = (f: string, dflt: number) => flagNumber(a, f, dflt);
  const heads = num('--num-attention-heads', 0);
  const seq = num('--seq-length', 0);
  const experts = num('--num-experts', 0);
  const numLayers = num('--num-layers', 0);
  const tp = num('--tensor-model-parallel-size', 1);
  const cp = num('--context-parallel-size', 1);
  const pp = num('--pipeline-model-parallel-size', 1);
  const mbs = num('--micro-batch-size', 1);
  const dp = dataParallelSize(world, tp, cp, pp);
  const job: LayoutJob = {
    model: {
      num_layers: numLayers,
      mtp_num_layers: num('--mtp-num-layers', 0),
      num_attention_heads: heads,
      // without --group-query-attention every head is its own group
      num_query_groups: a.has('--group-query-attention') ? num('--num-query-groups', 1) : heads,
      ffn_hidden_size: num('--ffn-hidden-size', 0),
      num_experts: experts,
      moe_ffn_hidden_size: flagInt(a, '--moe-ffn-hidden-size') ?? flagInt(a, '--ffn-hidden-size') ?? 0,
      moe_shared_expert_intermediate_size: num('--moe-shared-expert-intermediate-size', 0),
      max_position_embeddings: a.has('--max-position-embeddings') ? num('--max-position-embeddings', 0) : seq,
      softmax_type: (a.get('--softmax-type')?.[0] ?? 'vanilla') as LayoutJob['model']['softmax_type'],
      // --window-size LEFT,RIGHT: the left window (moefold's window_size); absent or -1 is full attention
      window_size: Math.max(0, Number((a.get('--window-size')?.[0] ?? '0').split(',')[0]) || 0),
    },
    training: {
      seq_length: seq,
      global_batch_size: num('--global-batch-size', Number.isInteger(dp) ? mbs * dp : mbs),
    },
    cluster: { gpus: world },
  };
  const shape = shapeFromArgs(a, numLayers, experts);
  const plan = newPlan();
  plan.dispatcher = shape.isMoe ? (a.get('--moe-token-dispatcher-type')?.[0] ?? 'allgather') as Dispatcher : 'alltoall';
  plan.distributedOptimizer = a.has('--use-distributed-optimizer');
  const gran = a.get('--recompute-granularity')?.[0];
  plan.recompute = gran === 'full' ? 'full' : gran === 'selective' ? 'selective' : 'none';
  plan.precision = a.has('--fp8-format') ? 'fp8' : 'bf16';
  const layout = a.get('--pipeline-model-parallel-layout')?.[0];
  const statesVpp = a.has('--num-virtual-stages-per-pipeline-rank') || a.has('--num-layers-per-virtual-pipeline-stage');
  deriveLayout(job, {
    tp, cp, pp, microBatchSize: mbs,
    // a layout states VPP by its stage count (a VPP flag beside it is refused by checkPipelineFlags)
    vpp: layout !== undefined && !statesVpp ? undefined : vpp,
    layout,
    accountEmbedding: a.has('--account-for-embedding-in-pipeline-split'),
    accountLoss: a.has('--account-for-loss-in-pipeline-split'),
    mbGroup: flagInt(a, '--microbatch-group-size-per-virtual-pipeline-stage'),
    ep: num('--expert-model-parallel-size', 1),
    // a dense model has no expert TP: its ETP follows TP (an --expert-tensor-parallel-size there is a stray MoE flag)
    etp: shape.isMoe ? num('--expert-tensor-parallel-size', tp) : tp,
    sequenceParallel: a.has('--sequence-parallel'),
    firstStageLayers: flagInt(a, '--decoder-first-pipeline-num-layers'),
    lastStageLayers: flagInt(a, '--decoder-last-pipeline-num-layers'),
  }, plan);
  return { job, shape, plan, flexBackend: a.get('--moe-flex-dispatcher-backend')?.[0] ?? 'deepep' };
}

/**
 * How checkMegatronArgs words a broken rule, in flag terms (the predicate is the rule table's). A rule missing
 * here is worded by its own describe().
 */
const ARGV_WORDING: Readonly<Record<string, (job: LayoutJob, p: Plan, l: ArgvLayout) => string>> = {
  'max-position-covers-seq': (j) => `--max-position-embeddings ${j.model.max_position_embeddings} must be >= --seq-length ${j.training.seq_length}`,
  'attn-world-divisible': (j, p) => `world size ${j.cluster.gpus} is not divisible by TP*CP*PP = ${p.tp * p.cp * p.pp}`,
  'heads-divisible-by-tp': (j, p) => `--num-attention-heads ${j.model.num_attention_heads} is not divisible by TP ${p.tp}`,
  'query-groups-vs-tp': (j, p) => `--num-query-groups ${j.model.num_query_groups} must be a multiple or a divisor of TP ${p.tp}`,
  'ffn-divisible-by-tp': (j, p) => `--ffn-hidden-size ${j.model.ffn_hidden_size} is not divisible by TP ${p.tp}`,
  'shared-expert-divisible-by-tp': (j, p) => `--moe-shared-expert-intermediate-size ${j.model.moe_shared_expert_intermediate_size} is not divisible by TP ${p.tp} (shared experts use attention TP)`,
  // a Megatron-LM argument list has no LoRA, so these never break there; worded for completeness
  'lora-divisible-by-tp': (j, p) => `LoRA (rank ${j.training.lora_rank ?? 0}) does not shard over TP ${p.tp} (Megatron-Bridge PEFT)`,
  'lora-divisible-by-etp': (j, p) => `LoRA (rank ${j.training.lora_rank ?? 0}) does not shard over ETP ${p.etp} (Megatron-Bridge PEFT)`,
  'sequence-parallel-with-moe-tp': (_j, p) => `--sequence-parallel must be set for an MoE model with TP > 1 (TP=${p.tp})`,
  'sequence-parallel-needs-tp': () => '--sequence-parallel must not be set when TP = 1',
  'cp-attention-variant': (j, p) => `--context-parallel-size ${p.cp} with ${j.model.softmax_type !== 'vanilla' ? `--softmax-type ${j.model.softmax_type}` : `--window-size ${j.model.window_size},0`}: Transformer Engine has no p2p context-parallel attention for it`,
  'cp-seq-divisible': (j, p) => `--seq-length ${j.training.seq_length} is not divisible by 2*CP = ${2 * p.cp}`,
  'cp-tp-seq-divisible': (j, p) => `--seq-length ${j.training.seq_length} / CP ${p.cp} is not divisible by TP ${p.tp} (sequence-parallel split)`,
  'pp-layer-split': (j, p) => `--num-layers ${j.model.num_layers} is not divisible by PP ${p.pp} ([VA] L987)`,
  'vpp-needs-pp': () => 'virtual pipeline stages need --pipeline-model-parallel-size > 1 ([VA] L1000)',
  'vpp-layer-split': (j, p) => `${j.model.num_layers / p.pp} layers per pipeline stage are not divisible by the virtual stages ${p.vpp} ([RT] get_num_layers_to_build)`,
  'uneven-stage-split': (j, p) => `first/last pipeline stage layers ${p.firstStageLayers}/${p.lastStageLayers} of --num-layers ${j.model.num_layers} on PP ${p.pp}: `
    + `${unevenSplitProblem(j.model.num_layers, p.pp, p.vpp, p.firstStageLayers, p.lastStageLayers)}`,
  'gbs-divisible-by-mbs-dp': (j, p) => `--global-batch-size ${j.training.global_batch_size} is not divisible by micro-batch-size*DP = ${p.microBatchSize}*${p.dp}`,
  'vpp-microbatches': (_j, p) => `the interleaved schedule with --microbatch-group-size-per-virtual-pipeline-stage ${p.mbGroup}: `
    + `${mbGroupProblem(p.pp, p.numMicroBatches, p.mbGroup)} ([RT] schedules.py L1160)`,
  'accounted-split': (j, p) => `--num-layers ${j.model.num_layers} plus the accounted embedding/loss is not divisible by PP ${p.pp} ([VA] L987)`,
  'accounted-vpp-split': (j, p) => `(--num-layers ${j.model.num_layers} + accounted embedding/loss) / PP ${p.pp} is not divisible by the virtual stages ${p.vpp} ([TC] L2389)`,
  'layout-valid': (j, p) => `--pipeline-model-parallel-layout ${planLayout(j, p) as string}`,
  'layout-vpp': (_j, p) => `--pipeline-model-parallel-layout states another number of virtual stages than ${p.vpp} ([TC] L2275)`,
  'dense-model-no-ep': (_j, p) => `--expert-model-parallel-size ${p.ep} needs --num-experts ([VA] L1655)`,
  'experts-divisible-by-ep': (j, p) => `--num-experts ${j.model.num_experts} is not divisible by EP ${p.ep} ([VA] L1656)`,
  'moe-ffn-divisible-by-etp': (j, p) => `MoE FFN size ${j.model.moe_ffn_hidden_size} is not divisible by ETP ${p.etp}`,
  'expert-world-divisible': (j, p) => `world size ${j.cluster.gpus} is not divisible by ETP*EP*PP = ${p.etp * p.ep * p.pp}`,
  'flex-needs-ep-etp': (_j, p, l) => `the flex dispatcher with ${l.flexBackend} needs ETP*EP > 1 (got ${p.etp * p.ep})`,
};

/** Every rule of the table the list's layout breaks, worded in flag terms, in RULES order. */
export function argvRuleViolations(l: ArgvLayout, skip: ReadonlySet<string> = new Set()): string[] {
  return checkPlan(l.job, l.shape, l.plan).filter((v) => !skip.has(v.rule)).map((v) => wordViolation(l, v));
}

function wordViolation(l: ArgvLayout, v: RuleViolation): string {
  const word = ARGV_WORDING[v.rule];
  if (word) return word(l.job, l.plan, l);
  return `${v.reason} (${v.rule})`;
}

/** The rules whose wording lives here (for a test that every rule of the table is worded). */
export const ARGV_WORDED_RULES: readonly string[] = RULES.map((r) => r.name).filter((n) => n in ARGV_WORDING);
