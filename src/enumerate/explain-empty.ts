import type { Job } from '../job/types.js';
import type { EnumStats } from './enumerate.js';
import type { SearchSpace } from './search-space.js';
import type { ResolvedSpace } from './resolve-space.js';
import { divisors, resolveSpace } from './resolve-space.js';
import {
  RULES, ruleByName, cpSeqDivisible, expertsDivisibleByEp, ffnDivisibleByTp, firstBroken, headsDivisibleByTp,
  moeFfnDivisibleByEtp, pruneRulesAt, sharedExpertDivisibleByTp,
} from './rules.js';
import { newPlan } from './plan.js';
import { dataParallelSize } from '../plan/layout.js';
import { modelShape } from '../job/shape.js';

const COMBO_LEVEL_RULES = pruneRulesAt('job', 'tp', 'cp', 'combo');

const fmt = (n: number) => n.toLocaleString('en-US');
const list = (xs: readonly (number | string)[]) => `{${xs.join(', ')}}`;
/** A few values for a hint (at most `n`, ascending). */
const some = (xs: number[], n = 8) => (xs.length <= n ? xs : xs.slice(0, n)).join(', ') + (xs.length > n ? ', …' : '');

function gcd(a: number, b: number): number { return b === 0 ? a : gcd(b, a % b); }
function lcm(a: number, b: number): number { return (a / gcd(a, b)) * b; }
/** The multiples of k just below and above x ("248 or 256"). */
function around(x: number, k: number): string {
  const lo = Math.floor(x / k) * k;
  const hi = Math.ceil(x / k) * k;
  return lo > 0 && lo !== hi ? `${lo} or ${hi}` : `${hi}`;
}

/** DP sizes of the combos that pass every job- and combo-level rule of the table (what the batch rules see). */
function reachableDp(job: Job, r: ResolvedSpace): number[] {
  const shape = modelShape(job.model);
  const probe = newPlan();
  const out = new Set<number>();
  for (const pp of r.pp) {
    for (const tp of r.tp) {
      for (const cp of r.cp) {
        probe.tp = tp; probe.cp = cp; probe.pp = pp; probe.sequenceParallel = tp > 1;
        if (firstBroken(COMBO_LEVEL_RULES, job, shape, probe) >= 0) continue;
        out.add(dataParallelSize(r.world, tp, cp, pp));
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** One "what could change" line for a rule that pruned candidates. */
function hint(rule: string, job: Job, r: ResolvedSpace): string {
  const m = job.model;
  const shape = modelShape(m);
  const W = r.world;
  const L = m.num_layers;
  const seq = job.training.seq_length;
  const gbs = job.training.global_batch_size;
  const worldDivs = divisors(W);
  switch (rule) {
    case 'max-position-covers-seq':
      return `max_position_embeddings ${m.max_position_embeddings} is below seq_length ${seq}: raise model.max_position_embeddings to at least ${seq} or shorten training.seq_length.`;
    case 'attn-world-divisible':
      return `TP·CP·PP must divide the ${fmt(W)} GPUs: allow TP, CP and PP values among the divisors of ${W} (${some(worldDivs)}) or change cluster.gpus.`;
    case 'heads-divisible-by-tp': {
      const ok = divisors(m.num_attention_heads).filter((d) => W % d === 0);
      return `num_attention_heads ${m.num_attention_heads} is not divisible by TP ${list(r.tp.filter((t) => !headsDivisibleByTp(m, t)))}: TP must divide it (e.g. ${some(ok)}).`;
    }
    case 'query-groups-vs-tp':
      return `num_query_groups ${m.num_query_groups} must be a multiple or a divisor of TP: use TP among the divisors or multiples of ${m.num_query_groups}.`;
    case 'ffn-divisible-by-tp':
      return `ffn_hidden_size ${m.ffn_hidden_size} must be divisible by TP (e.g. TP ${some(worldDivs.filter((d) => ffnDivisibleByTp(m, shape, d)))}).`;
    case 'shared-expert-divisible-by-tp':
      return `moe_shared_expert_intermediate_size ${m.moe_shared_expert_intermediate_size} must be divisible by TP (e.g. TP ${some(worldDivs.filter((d) => sharedExpertDivisibleByTp(m, shape, d)))}).`;
    case 'cp-seq-divisible':
      return `CP > 1 needs seq_length ${seq} divisible by 2·CP: use CP in ${list(worldDivs.filter((c) => cpSeqDivisible(seq, c)).slice(0, 8))} or a seq_length that is a multiple of ${2 * Math.max(...r.cp)}.`;
    case 'cp-tp-seq-divisible':
      return `with sequence parallel (TP > 1) seq_length/CP must be divisible by TP: use a seq_length that is a multiple of CP·TP, or smaller TP/CP.`;
    case 'pp-layer-split': {
      const ok = divisors(L).filter((d) => W % d === 0);
      return `num_layers ${L} is not divisible by PP ${list(r.pp.filter((p) => L % p !== 0))}: use PP in ${list(ok)}, or enable uneven_stages (first/last stage sizes) or raise its max_first_last_reduction.`;
    }
    case 'vpp-needs-pp':
      return 'VPP > 1 needs PP > 1: allow PP > 1 or set vpp to 1.';
    case 'vpp-layer-split':
      return `with an even split, the layers per stage (num_layers/PP) must be divisible by VPP: for ${L} layers, PP ${r.pp.filter((p) => p > 1 && L % p === 0).map((p) => `${p} allows VPP ${list(divisors(L / p).filter((v) => v > 1))}`).join('; ') || 'none'}.`;
    case 'uneven-stage-split':
      return 'with VPP, the first, last and middle stage sizes of an uneven split must each be divisible by VPP: set vpp to 1 or allow other stage sizes (uneven_stages.max_first_last_reduction).';
    case 'gbs-divisible-by-mbs-dp': {
      const dps = reachableDp(job, r);
      if (dps.length === 0) return `global batch size ${gbs} must be divisible by micro-batch × DP.`;
      const mbs = Math.min(...r.mbs);
      const failing = dps.filter((dp) => r.mbs.every((b) => gbs % (b * dp) !== 0));
      const shown = failing.length > 0 ? failing : dps;
      const where = failing.length === dps.length
        ? `for any tried micro-batch ${list(r.mbs)} and DP ${list(dps)}`
        : `for DP ${list(shown)} (micro-batch ${list(r.mbs)})`;
      const k = mbs * shown[0];
      const kAll = mbs * shown.reduce(lcm, 1);
      let text = `global batch size ${gbs} is not divisible by micro-batch × DP ${where}: choose a global batch size that is a `
        + `multiple of ${mbs}×${shown[0]} = ${k} (e.g. ${around(gbs, k)})`;
      if (kAll !== k) text += `, or of ${kAll} (e.g. ${around(gbs, kAll)}) to allow every such DP`;
      return `${text}.`;
    }
    case 'vpp-microbatches':
      return 'with VPP > 1 the number of micro-batches (GBS / (micro-batch · DP)) must be a multiple of PP and at least PP: raise the global batch size, lower micro_batch_size, or set vpp to 1.';
    case 'lora-divisible-by-tp':
      return `Megatron-Bridge shards LoRA's A over the rank and B over the output width with TP: choose a training.lora_rank that the TP sizes to try divide (e.g. ${job.training.lora_rank * 8}), or fewer lora_target_modules.`;
    case 'lora-divisible-by-etp':
      return `the routed experts' LoRA adapters shard over ETP: choose a training.lora_rank that the ETP sizes to try divide, or allow ETP 1.`;
    case 'dense-model-no-ep':
      return 'the model is dense (num_experts 0): EP must be 1; drop EP values > 1 from the space.';
    case 'experts-divisible-by-ep':
      return `num_experts ${m.num_experts} is not divisible by EP ${list(r.ep.filter((e) => !expertsDivisibleByEp(m, shape, e)))}: EP must divide it (e.g. ${some(divisors(m.num_experts).filter((d) => W % d === 0))}).`;
    case 'moe-ffn-divisible-by-etp':
      return `moe_ffn_hidden_size ${m.moe_ffn_hidden_size} must be divisible by ETP (e.g. ETP ${some(worldDivs.filter((d) => moeFfnDivisibleByEtp(m, shape, d)))}).`;
    case 'expert-world-divisible':
      return `ETP·EP·PP must divide the ${fmt(W)} GPUs: allow smaller EP or ETP (or PP), or change cluster.gpus.`;
    case 'flex-needs-ep-etp':
      return 'dispatcher flex (DeepEP) needs ETP·EP > 1: allow EP > 1 or another dispatcher (alltoall, allgather).';
    default:
      return `${rule}: ${ruleByName(rule).summary}.`;
  }
}

/**
 * A multi-line message for an enumeration that found nothing valid: which rules removed the candidates (each
 * candidate counted under the first rule it breaks), and what the user could change.
 */
export function explainEmpty(stats: EnumStats, job: Job, space: SearchSpace): string {
  const r = resolveSpace(job, modelShape(job.model), space);
  const where = `${job.model.name} on ${fmt(job.cluster.gpus)} GPUs (global batch ${job.training.global_batch_size}, seq ${job.training.seq_length})`;
  const lines: string[] = [];
  if (stats.enumerated === 0) {
    lines.push(`The search space ${space.source} has no candidate for ${where}.`);
    return lines.join('\n');
  }
  lines.push(stats.valid === 0
    ? `No mapping of ${where} passes Megatron-Core's checks: ${fmt(stats.enumerated)} candidates enumerated, 0 valid.`
    : `${fmt(stats.valid)} of ${fmt(stats.enumerated)} candidate mappings of ${where} pass Megatron-Core's checks.`);
  const rows = RULES.map((rule, i) => ({ rule, i, n: stats.pruned[rule.name] ?? 0 }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n || a.i - b.i);
  lines.push('Candidates removed, each under the first rule it breaks:');
  const width = Math.max(...rows.map((x) => x.rule.name.length), 4);
  const numWidth = Math.max(...rows.map((x) => fmt(x.n).length), 1);
  for (const x of rows) {
    lines.push(`  ${x.rule.name.padEnd(width)}  ${fmt(x.n).padStart(numWidth)}  ${x.rule.summary}`);
  }
  lines.push('What could change:');
  for (const x of rows) lines.push(`  - ${hint(x.rule.name, job, r)}`);
  return lines.join('\n');
}
