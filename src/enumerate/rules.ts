import type { ModelShape, ModelSpec } from '../job/types.js';
import type { LayoutJob } from '../plan/layout.js';
import type { Plan } from './plan.js';
import {
  accountedLayerCount, accountedSplit, dataParallelSize, evenStageLayers, expertDataParallelSize, mbGroupProblem,
  microBatchCount, planLayout, smallestMbGroup, splitKind,
} from '../plan/layout.js';
import { rankDecoderCount } from '../plan/pipeline-layout.js';
import { layerLinears, loraShardingProblem } from '../job/linears.js';
import { modelShape } from '../job/shape.js';

/**
 * Every Megatron-Core rule moefold checks, one named check each (reference: megatron.md §1–2 and §6; the rules
 * of Megatron-LM HEAD of 2026-08-22, package 0.20.0 dev, unless a source says otherwise). L… numbers are HEAD
 * line numbers. [PS] parallel_state.initialize_model_parallel, [VA] training/arguments.py::validate_args,
 * [TC] TransformerConfig.__post_init__, [MPC] ModelParallelConfig.__post_init__, [RT] model build / first step.
 *
 * The order of RULES is a contract: the enumerator counts each invalid candidate under the FIRST rule it breaks
 * in this order, and it checks rules in its loops from the outermost level inward, so a rule appears here no
 * earlier than every rule whose inputs are fixed in an outer loop. The loop levels are:
 *   job → (pp, tp, cp) → pipeline split → vpp → micro-batch → ep → etp → dispatcher → recompute → dist-opt.
 */
export interface Rule {
  /** kebab-case; the key in EnumStats.pruned. */
  name: string;
  /** Where Megatron enforces it, with the version note. */
  source: string;
  /** The condition in one line (for listings). */
  summary: string;
  /**
   * 'prune': the enumerator prunes candidates with it. 'construction': the enumerator only builds plans that
   * satisfy it (sequence parallel, derived sizes), so it never prunes; checkPlan still checks user plans.
   */
  use: 'prune' | 'construction';
  /** Where the rule is checked: the plan fields its predicate reads (see RuleLevel). */
  level: RuleLevel;
  /** True when the plan satisfies the rule. */
  holds(job: LayoutJob, shape: ModelShape, plan: Plan): boolean;
  /** Why the plan breaks it, with the numbers (only meaningful when holds() is false). */
  describe(job: LayoutJob, plan: Plan): string;
}

/**
 * What a rule's predicate reads besides the job, i.e. the loop where the enumerator checks it and where a
 * resolved `auto` list applies it:
 *   job         nothing of the plan;
 *   tp, cp      that one size (these rules are the `tp: auto` / `cp: auto` filters and are checked once per value);
 *   combo       TP, CP, PP together (and sequence parallel, which is TP > 1 in the enumerator);
 *   split       PP and the pipeline split (first/last stage layers); `pp: auto` keeps a PP with a split passing these;
 *   vpp         PP, the split and VPP; `vpp: auto` keeps a VPP some PP > 1 split passes these with;
 *   mbs         the combo, VPP and the micro-batch size (DP, micro-batch count);
 *   ep, etp     that one size (dense models: ETP follows TP); the `ep: auto` / `etp: auto` filters, once per value;
 *   pair        EP, ETP and PP together;
 *   dispatcher  the pair and the dispatcher;
 *   plan        every field: plans from users only (the enumerator derives them).
 * Loop order: job → (tp, cp, combo) → split → vpp → mbs → ep → (etp, pair) → dispatcher.
 */
export type RuleLevel = 'job' | 'tp' | 'cp' | 'combo' | 'split' | 'vpp' | 'mbs' | 'ep' | 'etp' | 'pair' | 'dispatcher' | 'plan';

/** Loop depth of each level (levels of one loop share a depth); RULES is ordered by it. */
export const LEVEL_DEPTH: Readonly<Record<RuleLevel, number>> = {
  job: 0, tp: 1, cp: 1, combo: 1, split: 2, vpp: 3, mbs: 4, ep: 5, etp: 6, pair: 6, dispatcher: 7, plan: 8,
};

export interface RuleViolation {
  rule: string;
  reason: string;
}

const world = (job: LayoutJob) => job.cluster.gpus;

// ---- single-purpose predicates, shared by RULES and the enumerator's precomputation ----

export function headsDivisibleByTp(m: LayoutJob['model'], tp: number): boolean {
  return m.num_attention_heads % tp === 0;
}
/** HEAD / core_v0.16+: a multiple or a divisor of TP. core_v0.12–v0.15: groups % TP == 0 only. */
export function queryGroupsFitTp(m: LayoutJob['model'], tp: number): boolean {
  return m.num_query_groups % tp === 0 || tp % m.num_query_groups === 0;
}
/** Dense MLP layers split ffn_hidden_size over TP; a model whose layers are all MoE builds no dense MLP. */
export function ffnDivisibleByTp(m: LayoutJob['model'], shape: ModelShape, tp: number): boolean {
  return shape.numDenseLayers === 0 || m.ffn_hidden_size % tp === 0;
}
export function sharedExpertDivisibleByTp(m: LayoutJob['model'], shape: ModelShape, tp: number): boolean {
  return !shape.isMoe || m.moe_shared_expert_intermediate_size === 0 || m.moe_shared_expert_intermediate_size % tp === 0;
}
export function cpSeqDivisible(seq: number, cp: number): boolean {
  return cp === 1 || seq % (2 * cp) === 0;
}
/** With sequence parallel each CP chunk is scattered over TP. Defers to cp-seq-divisible when seq % CP != 0. */
export function cpTpSeqDivisible(seq: number, cp: number, tp: number, sequenceParallel: boolean): boolean {
  return !sequenceParallel || seq % cp !== 0 || (seq / cp) % tp === 0;
}
export function expertsDivisibleByEp(m: LayoutJob['model'], shape: ModelShape, ep: number): boolean {
  return !shape.isMoe || m.num_experts % ep === 0;
}
export function moeFfnDivisibleByEtp(m: LayoutJob['model'], shape: ModelShape, etp: number): boolean {
  return !shape.isMoe || m.moe_ffn_hidden_size % etp === 0;
}

/**
 * What an adapted linear needs of TP (attention, dense MLP, shared expert) or ETP (routed experts) under LoRA
 * (job/linears.ts loraShardingProblem: Megatron-Bridge shards A and B with megatron.core.utils.divide), as the
 * first problem's words, or null.
 */
export function loraTpProblem(job: LayoutJob, shape: ModelShape, tp: number): string | null {
  return loraProblem(job, shape, tp, false);
}
export function loraEtpProblem(job: LayoutJob, shape: ModelShape, etp: number): string | null {
  return loraProblem(job, shape, etp, true);
}
function loraProblem(job: LayoutJob, shape: ModelShape, shards: number, experts: boolean): string | null {
  const rank = job.training.lora_rank ?? 0;
  if (rank === 0 || shards === 1) return null;
  const targets = job.training.lora_target_modules ?? [];
  const ls = layerLinears(job.model as ModelSpec, shape.numDenseLayers > 0);
  const parts = experts ? ls.expert : [...ls.attention, ...ls.denseMlp, ...ls.sharedExpert];
  for (const l of parts) {
    if (!targets.includes(l.name)) continue;
    const p = loraShardingProblem(l, rank, shards);
    if (p !== null) return p;
  }
  return null;
}

/**
 * What is wrong with an uneven split (first stage `first` layers, last stage `last`, PP stages, VPP), following
 * [TC] L2294–2368; null when Megatron accepts it.
 */
export function unevenSplitProblem(numLayers: number, pp: number, vpp: number, first: number, last: number): string | null {
  if (pp < 2) return `an uneven first/last split needs PP >= 2 (PP is ${pp})`;
  if (first <= 0) return `first stage must hold more than 0 layers (got ${first})`;
  if (last <= 0) return `last stage must hold more than 0 layers (got ${last})`;
  if (vpp > 1 && first % vpp !== 0) return `first stage's ${first} layers are not divisible by VPP ${vpp}`;
  if (vpp > 1 && last % vpp !== 0) return `last stage's ${last} layers are not divisible by VPP ${vpp}`;
  const rest = numLayers - first - last;
  const middle = pp - 2;
  if (rest < 0) return `first ${first} + last ${last} layers exceed num_layers ${numLayers}`;
  if ((rest === 0) !== (middle === 0)) return `${rest} middle layers remain for ${middle} middle PP stages`;
  if (middle > 0 && rest % middle !== 0) return `${rest} middle layers are not divisible by ${middle} middle PP stages`;
  if (middle > 0 && vpp > 1 && (rest / middle) % vpp !== 0) {
    return `${rest / middle} layers per middle stage are not divisible by VPP ${vpp}`;
  }
  return null;
}

export { splitKind } from '../plan/layout.js';

/** "embedding + loss", "embedding" or "loss": what an accounted split counts. */
function accountedTerms(p: Plan): string {
  return [p.accountEmbedding ? 'embedding' : '', p.accountLoss ? 'loss' : ''].filter(Boolean).join(' + ');
}

function microBatches(job: LayoutJob, p: Plan): number {
  return microBatchCount(job.training.global_batch_size, p.microBatchSize, p.dp);
}

export const RULES: readonly Rule[] = [
  // ---- job level ----
  {
    name: 'max-position-covers-seq', use: 'prune', level: 'job',
    source: '[VA] L1354 (max_position_embeddings >= seq_length), HEAD',
    summary: 'max_position_embeddings >= seq_length',
    holds: (job) => job.model.max_position_embeddings >= job.training.seq_length,
    describe: (job) => `max_position_embeddings ${job.model.max_position_embeddings} is smaller than seq_length ${job.training.seq_length}`,
  },
  // ---- (pp, tp, cp) level ----
  {
    name: 'attn-world-divisible', use: 'prune', level: 'combo',
    source: '[PS] L822 RuntimeError; [VA] L432/L448, HEAD',
    summary: 'world % (TP·CP·PP) == 0',
    holds: (job, _s, p) => world(job) % (p.tp * p.cp * p.pp) === 0,
    describe: (job, p) => `world size ${world(job)} is not divisible by TP·CP·PP = ${p.tp}·${p.cp}·${p.pp} = ${p.tp * p.cp * p.pp}`,
  },
  {
    name: 'heads-divisible-by-tp', use: 'prune', level: 'tp',
    source: '[TC] L1446–1449, HEAD',
    summary: 'num_attention_heads % TP == 0',
    holds: (job, _s, p) => headsDivisibleByTp(job.model, p.tp),
    describe: (job, p) => `num_attention_heads ${job.model.num_attention_heads} is not divisible by TP ${p.tp}`,
  },
  {
    name: 'query-groups-vs-tp', use: 'prune', level: 'tp',
    source: '[TC] L1460–1467, HEAD and core_v0.16+ (core_v0.12–v0.15: num_query_groups % TP == 0 only)',
    summary: 'num_query_groups % TP == 0 or TP % num_query_groups == 0',
    holds: (job, _s, p) => queryGroupsFitTp(job.model, p.tp),
    describe: (job, p) => `num_query_groups ${job.model.num_query_groups} is neither a multiple nor a divisor of TP ${p.tp}`,
  },
  {
    name: 'ffn-divisible-by-tp', use: 'prune', level: 'tp',
    source: '[RT] megatron.core.utils.divide in the dense MLP (ColumnParallelLinear), HEAD',
    summary: 'ffn_hidden_size % TP == 0 (models with dense MLP layers)',
    holds: (job, s, p) => ffnDivisibleByTp(job.model, s, p.tp),
    describe: (job, p) => `ffn_hidden_size ${job.model.ffn_hidden_size} (dense MLP layers) is not divisible by TP ${p.tp}`,
  },
  {
    name: 'shared-expert-divisible-by-tp', use: 'prune', level: 'tp',
    source: '[RT] moe/shared_experts.py:131 (shared experts use the attention TP group), HEAD',
    summary: 'moe_shared_expert_intermediate_size % TP == 0',
    holds: (job, s, p) => sharedExpertDivisibleByTp(job.model, s, p.tp),
    describe: (job, p) => `moe_shared_expert_intermediate_size ${job.model.moe_shared_expert_intermediate_size} is not divisible by TP ${p.tp}`,
  },
  {
    name: 'lora-divisible-by-tp', use: 'prune', level: 'tp',
    source: '[RT] Megatron-Bridge 067f987 peft/utils.py ParallelLinearAdapter: linear_in = ColumnParallelLinear(in, dim) '
      + 'for a column-parallel or duplicated base, linear_out = ColumnParallelLinear(dim, out): '
      + 'megatron.core.utils.divide(dim, TP), divide(out, TP)',
    summary: 'LoRA on a TP linear: lora_rank % TP == 0 (but A of a row-parallel base) and its output width % TP == 0',
    holds: (job, s, p) => loraTpProblem(job, s, p.tp) === null,
    describe: (job, p) => `${loraTpProblem(job, modelShape(job.model as ModelSpec), p.tp) ?? 'LoRA'} is not divisible by TP ${p.tp} (Megatron-Bridge shards the adapters over TP)`,
  },
  {
    name: 'sequence-parallel-with-moe-tp', use: 'construction', level: 'combo',
    source: '[RT] moe/moe_layer.py:636 (ValueError in the MoE forward, v0.12…HEAD); [MPC] L560–565 (error v0.12–v0.14, warning v0.15+)',
    summary: 'MoE model with TP > 1 ⇒ sequence parallel on',
    holds: (_j, s, p) => !s.isMoe || p.tp === 1 || p.sequenceParallel,
    describe: (_j, p) => `an MoE model with TP ${p.tp} needs sequence parallel on`,
  },
  {
    name: 'sequence-parallel-needs-tp', use: 'construction', level: 'combo',
    source: '[MPC] L502–504 (raises; [VA] L1431–1438 silently turns it off), HEAD',
    summary: 'sequence parallel ⇒ TP > 1',
    holds: (_j, _s, p) => !p.sequenceParallel || p.tp > 1,
    describe: () => 'sequence parallel needs TP > 1 (TP is 1)',
  },
  {
    name: 'cp-attention-variant', use: 'prune', level: 'cp',
    source: "[RT] Transformer Engine dot_product_attention/utils.py get_attention_backend: a non-vanilla softmax turns " +
      'FlashAttention off and FusedAttention off under CP unless cp_comm_type a2a; a sliding window turns FusedAttention ' +
      'off with p2p CP (moefold runs p2p CP, Megatron\'s default --cp-comm-type)',
    summary: 'CP > 1 ⇒ vanilla softmax and no sliding window',
    holds: (job, _s, p) => p.cp <= 1 || (job.model.softmax_type === 'vanilla' && job.model.window_size === 0),
    describe: (job, p) => `CP ${p.cp} with ${job.model.softmax_type !== 'vanilla' ? `softmax_type ${job.model.softmax_type}` : `window_size ${job.model.window_size}`}: Transformer Engine has no p2p context-parallel attention backend for it`,
  },
  {
    name: 'cp-seq-divisible', use: 'prune', level: 'cp',
    source: '[VA] L1335–1338, HEAD',
    summary: 'CP > 1 ⇒ seq_length % (2·CP) == 0',
    holds: (job, _s, p) => cpSeqDivisible(job.training.seq_length, p.cp),
    describe: (job, p) => `seq_length ${job.training.seq_length} is not divisible by 2·CP = ${2 * p.cp}`,
  },
  {
    name: 'cp-tp-seq-divisible', use: 'prune', level: 'combo',
    source: '[RT] tensor_parallel/mappings.py _split_along_first_dim (sequence-parallel scatter), HEAD',
    summary: 'sequence parallel ⇒ (seq_length / CP) % TP == 0',
    holds: (job, _s, p) => cpTpSeqDivisible(job.training.seq_length, p.cp, p.tp, p.sequenceParallel),
    describe: (job, p) => `with sequence parallel, seq_length/CP = ${job.training.seq_length / p.cp} is not divisible by TP ${p.tp}`,
  },
  // ---- pipeline-split level ----
  {
    name: 'pp-layer-split', use: 'prune', level: 'split',
    source: '[VA] L987–998; [RT] transformer_block.py get_num_layers_to_build L156–178, HEAD',
    summary: 'even split: num_layers % PP == 0',
    holds: (job, _s, p) => splitKind(p, job.model.num_layers) !== 'even' || job.model.num_layers % p.pp === 0,
    describe: (job, p) => `num_layers ${job.model.num_layers} is not divisible by PP ${p.pp} (even split)`,
  },
  {
    name: 'accounted-split', use: 'construction', level: 'split',
    source: '[VA] L985–998; [TC] L2370–2388 (--account-for-embedding/loss-in-pipeline-split), HEAD',
    summary: 'accounted split: (num_layers + embedding + loss) % PP == 0',
    holds: (job, _s, p) => splitKind(p, job.model.num_layers) !== 'accounted'
      || accountedLayerCount(job.model.num_layers, p.accountEmbedding, p.accountLoss) % p.pp === 0,
    describe: (job, p) => `num_layers ${job.model.num_layers} + ${accountedTerms(p)} = `
      + `${accountedLayerCount(job.model.num_layers, p.accountEmbedding, p.accountLoss)} is not divisible by PP ${p.pp}`,
  },
  {
    name: 'layout-valid', use: 'construction', level: 'split',
    source: '[VA] L941–952; [TC] L2241–2292; transformer/pipeline_parallel_layer_layout.py (parse_str_to_list, '
      + 'validate_layer_layout), HEAD',
    summary: 'layout: stages % PP == 0; one E first, one L last; count(t) == num_layers; count(m) == mtp_num_layers, '
      + 'after every t, in one stage that is its rank\'s last virtual stage',
    holds: (job, _s, p) => splitKind(p, job.model.num_layers) !== 'layout' || typeof planLayout(job, p) !== 'string',
    describe: (job, p) => `--pipeline-model-parallel-layout ${JSON.stringify(p.layout.length > 80 ? `${p.layout.slice(0, 80)}…` : p.layout)} `
      + `${planLayout(job, p) as string}`,
  },
  // ---- vpp level ----
  {
    name: 'vpp-needs-pp', use: 'prune', level: 'vpp',
    source: '[PS] L828–830; [VA] L1000–1009, HEAD',
    summary: 'VPP > 1 ⇒ PP > 1',
    holds: (_j, _s, p) => p.vpp === 1 || p.pp > 1,
    describe: (_j, p) => `VPP ${p.vpp} needs PP > 1 (PP is ${p.pp})`,
  },
  {
    name: 'vpp-layer-split', use: 'prune', level: 'vpp',
    source: '[VA] L953–978; [RT] transformer_block.py get_num_layers_to_build L156–178, HEAD',
    summary: 'even split with VPP: (num_layers / PP) % VPP == 0',
    holds: (job, _s, p) => {
      const L = job.model.num_layers;
      return p.vpp === 1 || splitKind(p, L) !== 'even' || L % p.pp !== 0 || (L / p.pp) % p.vpp === 0;
    },
    describe: (job, p) => `${job.model.num_layers / p.pp} layers per pipeline stage are not divisible by VPP ${p.vpp}`,
  },
  {
    name: 'accounted-vpp-split', use: 'prune', level: 'vpp',
    source: '[TC] L2389–2415, HEAD',
    summary: 'accounted split with VPP: ((num_layers + embedding + loss) / PP) % VPP == 0',
    holds: (job, _s, p) => {
      const n = accountedLayerCount(job.model.num_layers, p.accountEmbedding, p.accountLoss);
      return p.vpp === 1 || splitKind(p, job.model.num_layers) !== 'accounted' || n % p.pp !== 0 || (n / p.pp) % p.vpp === 0;
    },
    describe: (job, p) => `${accountedLayerCount(job.model.num_layers, p.accountEmbedding, p.accountLoss) / p.pp} `
      + `layers per pipeline rank (with ${accountedTerms(p)}) are not divisible by VPP ${p.vpp}`,
  },
  {
    name: 'uneven-stage-split', use: 'prune', level: 'vpp',
    source: '[TC] L2294–2368 (num_layers_in_first/last_pipeline_stage), HEAD',
    summary: 'uneven split: first, last > 0; middle layers and stages both zero or not; middle % stages == 0; with VPP first, last and per-middle-stage counts % VPP == 0',
    holds: (job, _s, p) => splitKind(p, job.model.num_layers) !== 'uneven'
      || unevenSplitProblem(job.model.num_layers, p.pp, p.vpp, p.firstStageLayers, p.lastStageLayers) === null,
    describe: (job, p) => `first/last ${p.firstStageLayers}/${p.lastStageLayers} of ${job.model.num_layers} layers on PP ${p.pp}: `
      + `${unevenSplitProblem(job.model.num_layers, p.pp, p.vpp, p.firstStageLayers, p.lastStageLayers)}`,
  },
  {
    name: 'layout-vpp', use: 'construction', level: 'vpp',
    source: '[VA] L941–952 (VPP = stages / PP); [TC] L2275–2288 (a stated VPP must match), HEAD',
    summary: 'layout: VPP == number of stages / PP',
    holds: (job, _s, p) => {
      if (splitKind(p, job.model.num_layers) !== 'layout') return true;
      const lay = planLayout(job, p);
      return typeof lay === 'string' || lay.stages === p.pp * p.vpp;
    },
    describe: (job, p) => {
      const lay = planLayout(job, p);
      return `the layout has ${typeof lay === 'string' ? '?' : lay.stages} stages, i.e. ${typeof lay === 'string' ? '?' : lay.stages / p.pp} `
        + `virtual stages per PP rank, not VPP ${p.vpp}`;
    },
  },
  // ---- micro-batch level ----
  {
    name: 'gbs-divisible-by-mbs-dp', use: 'prune', level: 'mbs',
    source: '[VA] L715 (eval batch check, defaults to GBS); num_microbatches_calculator.py L381, HEAD',
    summary: 'global_batch_size % (micro_batch_size · DP) == 0 (DP excludes CP)',
    // defers to attn-world-divisible when DP is not a whole number
    holds: (job, _s, p) => !Number.isInteger(p.dp) || job.training.global_batch_size % (p.microBatchSize * p.dp) === 0,
    describe: (job, p) => `global batch size ${job.training.global_batch_size} is not divisible by micro-batch ${p.microBatchSize} × DP ${p.dp} = ${p.microBatchSize * p.dp}`,
  },
  {
    name: 'vpp-microbatches', use: 'prune', level: 'mbs',
    source: '[RT] pipeline_parallel/schedules.py L1160–1180; [MPC] L567 (microbatch_group_size_per_vp_stage '
      + 'defaults to PP), HEAD',
    summary: 'VPP > 1 ⇒ PP <= G <= M and (M % G == 0 or M % G >= PP), M micro-batches, G = micro-batch group (default PP)',
    holds: (job, _s, p) => {
      const m = microBatches(job, p);
      return p.vpp === 1 || !Number.isInteger(m) || mbGroupProblem(p.pp, m, p.mbGroup) === null;
    },
    describe: (job, p) => {
      const m = microBatches(job, p);
      const g = m >= p.pp ? smallestMbGroup(p.pp, m) : 0;
      return `with VPP ${p.vpp}: ${mbGroupProblem(p.pp, m, p.mbGroup)}`
        + (g > 0 && g !== p.mbGroup ? ` (a micro-batch group of ${g} runs: mb_group=${g}, --microbatch-group-size-per-virtual-pipeline-stage)` : '');
    },
  },
  // ---- ep level ----
  {
    name: 'dense-model-no-ep', use: 'prune', level: 'ep',
    source: '[VA] L1655–1658 (EP > 1 needs --num-experts), HEAD',
    summary: 'dense model ⇒ EP == 1 and ETP == TP',
    holds: (_j, s, p) => s.isMoe || (p.ep === 1 && p.etp === p.tp),
    describe: (_j, p) => (p.ep !== 1
      ? `the model has no experts, so EP must be 1 (got ${p.ep})`
      : `the model has no experts, so ETP must equal TP ${p.tp} (got ${p.etp})`),
  },
  {
    name: 'experts-divisible-by-ep', use: 'prune', level: 'ep',
    source: '[VA] L1655–1658; [TC] L1596; [RT] moe/moe_layer.py:186, HEAD',
    summary: 'num_experts % EP == 0',
    holds: (job, s, p) => expertsDivisibleByEp(job.model, s, p.ep),
    describe: (job, p) => `num_experts ${job.model.num_experts} is not divisible by EP ${p.ep}`,
  },
  // ---- etp level ----
  {
    name: 'moe-ffn-divisible-by-etp', use: 'prune', level: 'etp',
    source: '[RT] megatron.core.utils.divide in moe/experts.py:210,1437 (routed experts use the ETP group), HEAD',
    summary: 'moe_ffn_hidden_size % ETP == 0',
    holds: (job, s, p) => moeFfnDivisibleByEtp(job.model, s, p.etp),
    describe: (job, p) => `moe_ffn_hidden_size ${job.model.moe_ffn_hidden_size} is not divisible by ETP ${p.etp}`,
  },
  {
    name: 'lora-divisible-by-etp', use: 'prune', level: 'etp',
    source: '[RT] Megatron-Bridge 067f987 peft/utils.py ParallelLinearAdapter(is_expert=True): the same linears in the '
      + 'expert TP group: megatron.core.utils.divide(dim, ETP), divide(out, ETP)',
    summary: 'LoRA on the routed experts: lora_rank % ETP == 0 (linear_fc1) and the output widths % ETP == 0',
    holds: (job, s, p) => loraEtpProblem(job, s, p.etp) === null,
    describe: (job, p) => `${loraEtpProblem(job, modelShape(job.model as ModelSpec), p.etp) ?? 'LoRA'} is not divisible by ETP ${p.etp} (Megatron-Bridge shards the experts' adapters over ETP)`,
  },
  {
    name: 'expert-world-divisible', use: 'prune', level: 'pair',
    source: '[PS] L881–884 RuntimeError (not checked by validate_args), HEAD. With the default order tp-cp-ep-dp-pp the '
      + 'PP groups of both generators then match ([PS] L898–907), so this is also the pp-groups rule',
    summary: 'world % (ETP·EP·PP) == 0',
    holds: (job, _s, p) => world(job) % (p.etp * p.ep * p.pp) === 0,
    describe: (job, p) => `world size ${world(job)} is not divisible by ETP·EP·PP = ${p.etp}·${p.ep}·${p.pp} = ${p.etp * p.ep * p.pp}`,
  },
  // ---- dispatcher level ----
  {
    name: 'flex-needs-ep-etp', use: 'prune', level: 'dispatcher',
    source: '[RT] token_dispatcher.py L1836, L1854 (deepep/ncclep backends assert ETP·EP > 1), HEAD',
    summary: 'dispatcher flex ⇒ ETP·EP > 1',
    holds: (_j, s, p) => !s.isMoe || p.dispatcher !== 'flex' || p.etp * p.ep > 1,
    describe: (_j, p) => `dispatcher flex needs ETP·EP > 1 (ETP ${p.etp} · EP ${p.ep} = ${p.etp * p.ep})`,
  },
  // ---- plans from users only ----
  {
    name: 'derived-sizes-consistent', use: 'construction', level: 'plan',
    source: '[PS] L825 (DP = world/(TP·PP·CP)), L880 (EDP = world/(ETP·EP·PP)); [VA] micro-batch count, HEAD',
    summary: 'DP, EDP, micro-batch count and stage sizes agree with world, GBS and num_layers',
    holds: (job, s, p) => derivedSizesProblem(job, s, p) === null,
    describe: (job, p) => derivedSizesProblem(job, null, p) ?? '',
  },
];

/**
 * Problems with a plan's derived fields (what deriveLayout would set); each check defers to the rule that
 * already reports a non-integer size.
 */
function derivedSizesProblem(job: LayoutJob, shape: ModelShape | null, p: Plan): string | null {
  const W = world(job);
  const L = job.model.num_layers;
  const dp = dataParallelSize(W, p.tp, p.cp, p.pp);
  if (Number.isInteger(dp) && p.dp !== dp) return `DP ${p.dp} is not world/(TP·CP·PP) = ${dp}`;
  // a dense model has no expert groups, so no EDP to agree with (describe, without the shape, reports only a
  // problem holds() found)
  const edp = expertDataParallelSize(W, p.etp, p.ep, p.pp);
  const moe = shape === null ? job.model.num_experts > 0 : shape.isMoe;
  if (moe && Number.isInteger(edp) && p.edp !== edp) return `EDP ${p.edp} is not world/(ETP·EP·PP) = ${edp}`;
  const gbs = job.training.global_batch_size;
  const micro = microBatchCount(gbs, p.microBatchSize, p.dp);
  if (gbs % (p.microBatchSize * p.dp) === 0 && p.numMicroBatches !== micro) {
    return `numMicroBatches ${p.numMicroBatches} is not GBS/(micro-batch·DP) = ${micro}`;
  }
  const kind = splitKind(p, L);
  if (kind === 'even' && p.pp > 1 && evenStageLayers(L, p.pp) > 0 && p.firstStageLayers === 0 && p.lastStageLayers === 0) {
    return `an even split of ${L} layers over PP ${p.pp} has ${L / p.pp} layers per stage, not 0`;
  }
  if (kind === 'accounted') {
    const [a, b] = accountedSplit(L, p.pp, p.accountEmbedding, p.accountLoss);
    if ((a > 0 || b > 0) && (p.firstStageLayers !== a || p.lastStageLayers !== b)) {
      return `an accounted split builds ${a}/${b} decoder layers on the first/last stage, not ${p.firstStageLayers}/${p.lastStageLayers}`;
    }
  }
  if (kind === 'layout') {
    const lay = planLayout(job, p);
    if (typeof lay !== 'string') {
      const a = rankDecoderCount(lay, p.pp, 0);
      const b = rankDecoderCount(lay, p.pp, p.pp - 1);
      if (p.firstStageLayers !== a || p.lastStageLayers !== b) {
        return `the layout builds ${a}/${b} decoder layers on the first/last stage, not ${p.firstStageLayers}/${p.lastStageLayers}`;
      }
    }
  }
  return null;
}

const INDEX = new Map(RULES.map((r, i) => [r.name, i]));
/** Position of a rule in RULES (throws for an unknown name: a typo here is a bug). */
export function ruleIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new Error(`no rule named ${name}`);
  return i;
}
export function ruleByName(name: string): Rule {
  return RULES[ruleIndex(name)];
}

/** Every rule a plan breaks, in RULES order (the first one is the rule the enumerator would count it under). */
export function checkPlan(job: LayoutJob, shape: ModelShape, plan: Plan): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const r of RULES) {
    if (!r.holds(job, shape, plan)) out.push({ rule: r.name, reason: r.describe(job, plan) });
  }
  return out;
}

/** Indices (into RULES, ascending) of the rules the enumerator prunes with at these levels. */
export function pruneRulesAt(...levels: RuleLevel[]): Int32Array {
  const out: number[] = [];
  RULES.forEach((r, i) => { if (r.use === 'prune' && levels.includes(r.level)) out.push(i); });
  return Int32Array.from(out);
}

/** The first of `rules` (indices from pruneRulesAt) that the plan breaks, or -1. Allocation-free. */
export function firstBroken(rules: Int32Array, job: LayoutJob, shape: ModelShape, plan: Plan): number {
  for (let i = 0; i < rules.length; i++) {
    const k = rules[i];
    if (!RULES[k].holds(job, shape, plan)) return k;
  }
  return -1;
}
