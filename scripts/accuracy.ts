/**
 * Accuracy of the cost models against published, measured H100 runs.
 *   npx tsc -p tsconfig.json && node dist/scripts/accuracy.js [measured-runs.yaml] [--cal cost-models/x.yaml] [--verbose]
 * Default file: data/measured-runs.yaml (a copy of the development set, each run citing its source). Scores every H100-SXM5-80GB
 * run with config_complete: true (skipping FSDP runs, with the reason), using the run's own recompute, dispatcher,
 * precision and routing balance, completed by the software facts of the recipe it came from (GROUP_FACTS /
 * RUN_FACTS below, each with its source). Where a run publishes no recompute, it assumes the lightest mode that fits
 * (none, then selective, then full) and says so in the 'assumed' column. Prints predicted vs measured tokens/s/GPU,
 * the error, the predicted peak memory, and summaries (dense/MoE, BF16/FP8, median and max absolute error), with
 * and without the runs marked as outliers (OUTLIERS, each with the reason the model cannot reach it).
 * Not part of `npm test` (it is a report, not a pass/fail check).
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../src/paths.js';
import { loadCalibration } from '../src/cost/calibration.js';
import { makeScoreContext, scorePlan } from '../src/cost/score.js';
import { defaultStack } from '../src/job/stack.js';
import { newEstimate, type Estimate } from '../src/cost/estimate.js';
import { modelShape } from '../src/job/shape.js';
import type { Dispatcher, Job, ModelSpec, Precision, Recompute, StackSpec } from '../src/job/types.js';
import type { Plan } from '../src/enumerate/plan.js';

type Run = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const calIdx = args.indexOf('--cal');
const calArg = calIdx >= 0 ? args[calIdx + 1] : 'h100-sxm';
const fileArg = args.find((a, i) => !a.startsWith('--') && (calIdx < 0 || i !== calIdx + 1));
const file = fileArg ?? path.join(REPO_ROOT, 'data', 'measured-runs.yaml');

/** NeMo's FLOP formulas use fixed vocabularies (measured-runs.yaml header, flop_counting_conventions). */
const NEMO_VOCAB: Record<string, number> = { gpt3: 51200, llama2: 32000, llama3: 128256, nemotron: 256000, mixtral: 32000 };

function num(x: unknown, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : fallback;
}

function modelOf(r: Run): { model: ModelSpec; note: string } {
  const a = r.arch;
  const fam = String(a.family ?? '');
  const layers = a.layers as number;
  const hidden = a.hidden as number;
  const heads = a.heads as number;
  const experts = num(a.experts, 0);
  const isGpt = fam.startsWith('gpt3') || fam.startsWith('gpt (') || fam === 'nemotron';
  const attn = String(a.attention ?? '');
  const mla = attn.startsWith('mla');
  const mlaNum = (key: string, d: number): number => {
    const m = new RegExp(`${key} (\\d+)`).exec(attn);
    return m ? Number(m[1]) : d;
  };
  const moeLayers = num(a.moe_layers, layers);
  const notes: string[] = [];
  if (attn.includes('sliding')) notes.push('sliding-window layers modelled as full attention');
  const model: ModelSpec = {
    name: r.model,
    num_layers: layers,
    hidden_size: hidden,
    num_attention_heads: heads,
    num_query_groups: mla ? heads : num(a.kv_groups, heads),
    kv_channels: num(a.head_dim, hidden / heads),
    ffn_hidden_size: num(a.ffn, num(a.moe_ffn, 4 * hidden)),
    vocab_size: num(a.vocab, fam.startsWith('gpt3') ? 51200 : 32000),
    make_vocab_size_divisible_by: 128,
    max_position_embeddings: Math.max(r.seq_len, 4096),
    swiglu: String(a.mlp_activation ?? '').startsWith('swiglu'),
    untie_embeddings_and_output_weights: !isGpt,
    normalization: isGpt ? 'LayerNorm' : 'RMSNorm',
    position_embedding_type: fam.startsWith('gpt3') ? 'learned_absolute' : 'rope',
    add_qkv_bias: false,
    qk_layernorm: fam.startsWith('qwen3'),
    num_experts: experts,
    moe_router_topk: num(a.topk, 0),
    moe_ffn_hidden_size: num(a.moe_ffn, 0),
    moe_shared_expert_intermediate_size: num(a.shared_expert_ffn, 0),
    moe_layer_freq: experts > 0 && moeLayers < layers
      ? [...new Array(layers - moeLayers).fill(0), ...new Array(moeLayers).fill(1)] : 1,
    moe_router_score_function: 'softmax',
    moe_router_pre_softmax: false,
    moe_router_num_groups: 0,
    moe_router_group_topk: 0,
    moe_router_topk_scaling_factor: 0,
    moe_router_enable_expert_bias: false,
    moe_router_load_balancing_type: 'aux_loss',
    moe_aux_loss_coeff: 0,
    multi_latent_attention: mla,
    q_lora_rank: mla ? mlaNum('q_lora', 0) : 0,
    kv_lora_rank: mla ? mlaNum('kv_lora', 512) : 0,
    qk_head_dim: mla ? mlaNum('qk_nope', 128) : 0,
    qk_pos_emb_head_dim: mla ? mlaNum('qk_rope', 64) : 0,
    v_head_dim: mla ? mlaNum('v_head', 128) : 0,
    // the DeepSeek-V3 recipes' layout "Et|(tt|)*30mL" places one MTP layer on the last stage
    mtp_num_layers: fam === 'deepseek_v3' ? 1 : 0,
  };
  return { model, note: notes.join('; ') };
}

/** The run's published recompute and Megatron's --recompute-modules; null when the run does not publish one. */
function recomputeOf(r: Run): { recompute: Recompute; modules: string[] | undefined } | null {
  const s = String(r.recompute ?? '').toLowerCase();
  if (!s || s === 'null') return null;
  if (s.startsWith('full')) return { recompute: 'full', modules: undefined };
  if (s === 'none') return { recompute: 'none', modules: undefined };
  const mods = new Set<string>();
  for (const w of s.replace(/^selective:?/, '').split(/[,\s]+/).filter(Boolean)) {
    if (w === 'norm' || w === 'layernorm') mods.add('layernorm');
    else if (w === 'act' || w === 'moe_act') mods.add('moe_act');
    else if (w === 'moe' || w === 'mlp' || w === 'mla_up_proj' || w === 'core_attn') mods.add(w);
  }
  if (mods.size === 0) mods.add('core_attn'); // Megatron's default module list
  return { recompute: 'selective', modules: [...mods] };
}

function dispatcherOf(x: unknown): Dispatcher {
  const s = String(x ?? '').toLowerCase();
  if (s.includes('deepep') || s.includes('flex')) return 'flex';
  if (s.includes('allgather')) return 'allgather';
  return 'alltoall';
}

/** Forced-balance unless the run says dropless without forcing (token-drop with CF 1 is balanced too). */
function routingOf(x: unknown): 'real' | 'forced' {
  const s = String(x ?? '').toLowerCase();
  if (s.includes('forced') || s.includes('token-drop') || s.includes('not stated') || !s) return 'forced';
  return 'real';
}

/** Layers on the first/last stage: even, else Megatron's layouts that count embedding and loss as a layer each. */
function stageSplit(r: Run, layers: number, pp: number): [number, number] {
  if (pp === 1) return [layers, layers];
  if (String(r.arch.family) === 'deepseek_v3' && pp === 8 && (r.vpp ?? 1) === 4) return [7, 6]; // Et|(tt|)*30mL
  if (layers % pp === 0) return [layers / pp, layers / pp];
  if ((layers + 2) % pp === 0) return [(layers + 2) / pp - 1, (layers + 2) / pp - 1];
  const first = Math.ceil(layers / pp);
  return [first, layers - first * (pp - 1) > 0 ? layers - first * (pp - 1) : first];
}

/** Measured tokens/s/GPU, converting TFLOPS with the source's FLOP convention when only TFLOPS is published. */
function measuredTokens(r: Run, model: ModelSpec, causalFlopsPerToken: number): { tok: number; how: string } {
  if (typeof r.tokens_per_sec_per_gpu === 'number') return { tok: r.tokens_per_sec_per_gpu, how: 'tok/s published' };
  const d = r.derived ?? {};
  if (typeof d.tokens_per_sec_per_gpu_from_step_time === 'number') {
    return { tok: d.tokens_per_sec_per_gpu_from_step_time, how: 'from step time' };
  }
  if (typeof d.tokens_per_sec_per_gpu_from_tflops === 'number') {
    return { tok: d.tokens_per_sec_per_gpu_from_tflops, how: 'from TFLOPS (source convention)' };
  }
  const tflops = r.tflops_per_gpu as number;
  if (String(r.group).startsWith('nemo')) {
    // NeMo <= 25.07: non-causal attention, fixed vocabulary per family
    const fam = String(r.arch.family);
    const vocab = NEMO_VOCAB[fam] ?? model.vocab_size;
    const h = model.hidden_size;
    const L = model.num_layers;
    const s = r.seq_len as number;
    const g = model.num_query_groups / model.num_attention_heads;
    const f = model.swiglu ? 18 * model.ffn_hidden_size / h : 12 * model.ffn_hidden_size / h;
    const perToken = L * h * h * (12 + 12 * g + f + 12 * s / h + 6 * vocab / (L * h));
    return { tok: (tflops * 1e12) / perToken, how: 'from TFLOPS (NeMo non-causal)' };
  }
  return { tok: (tflops * 1e12) / causalFlopsPerToken, how: 'from TFLOPS (Megatron causal)' };
}

/**
 * Software facts of a run that its measured-runs.yaml entry does not record, read from the recipe it was measured
 * with. Every entry names its source; nothing here is fitted. `stack` holds them as the job's training fields
 * (src/job/stack.ts) where Megatron-LM has a flag for them; `apexOptimizerStateBytesPerParam` is the optimizer
 * state of NeMo 1.x's Apex distributed_fused_adam, which no Megatron-LM flag describes (set on the score context).
 */
interface RunFacts {
  source: string;
  mbs?: number;
  dispatcher?: Dispatcher;
  recompute?: Recompute;
  stack?: Partial<StackSpec>;
  apexOptimizerStateBytesPerParam?: number;
}

const NEMO1_APEX_ADAM: RunFacts = {
  source: 'NeMo 1.x launcher configs (NVIDIA/NeMo-Framework-Launcher launcher_scripts/conf/training/*, e.g. ' +
    'llama/llama2_70b.yaml @1a7171d7, 2024-07-31; mcore optimizer only from 3dd35614, 2024-12-05) use ' +
    "optim.name distributed_fused_adam (Apex); NeMo's setup_optimization gives it fp32 Adam moments and, for bf16 " +
    'models, store_param_remainders (16-bit remainder of the fp32 master): 4 + 4 + 2 B/param sharded; fp32 grads',
  apexOptimizerStateBytesPerParam: 10,
};

const BRIDGE_PERF: RunFacts = {
  source: 'Megatron-Bridge performance configs (scripts/performance/configs/*, v0.1.0rc4 for 25.09, v0.2.0 for ' +
    '25.11): mixed_precision/ddp grad_reduce_in_fp32 false (bf16 main grads), cross_entropy_fusion_impl te; ' +
    'summary table: dropless MoE benchmarks force-balance the routing',
  stack: { grad_reduce_in_bf16: true, cross_entropy_loss_fusion: true },
};

const GROUP_FACTS: Record<string, RunFacts> = {
  'nemo-24.07': NEMO1_APEX_ADAM,
  'nemo-launcher-2024-06': NEMO1_APEX_ADAM,
  'nemo-longseq-24.03': NEMO1_APEX_ADAM,
  'megatron-bridge-25.09': BRIDGE_PERF,
  'megatron-bridge-25.11': BRIDGE_PERF,
};

const RUN_FACTS: Record<string, RunFacts> = {
  'nemo2407-nemotron4-340b-128': {
    source: 'NeMo-Framework-Launcher launcher_scripts/conf/training/nemotron/nemotron_340b.yaml @1a7171d7: ' +
      'distributed_fused_adam with dtype bf16 (bf16 Adam moments, no separate master copy) and grad_sync_dtype bf16',
    stack: { grad_reduce_in_bf16: true },
    apexOptimizerStateBytesPerParam: 4,
  },
  'mb2509-dsv3-1024': {
    source: 'Megatron-Bridge v0.1.0rc4 scripts/performance/run_script.py (H100): DeepEP flex dispatcher with ' +
      'moe_router_force_load_balancing, overlap_moe_expert_parallel_comm + delay_wgrad_compute, recompute_modules ' +
      '[mla_up_proj, mlp]; recipes/deepseek/deepseek_v3.py: precision-aware optimizer with fp32 main params and ' +
      'bf16 Adam moments (8 B/param)',
    dispatcher: 'flex',
    recompute: 'selective',
    stack: {
      moe_router_force_load_balancing: true, overlap_moe_expert_parallel_comm: true, delay_wgrad_compute: true,
      recompute_modules: ['mla_up_proj', 'mlp'], use_precision_aware_optimizer: true, exp_avg_dtype: 'bf16',
      exp_avg_sq_dtype: 'bf16',
    },
  },
  'mb2511-gptoss-120b-64': {
    source: 'Megatron-Bridge v0.2.0 scripts/performance/configs/gpt_oss: GPT_OSS_120B_H100_BF16_BASE_CONFIG has ' +
      'micro_batch_size 1 (the table row\'s MBS 4 / GA 2 give 16 x 4 x 2 = 128, not GBS 512; they repeat the B200 ' +
      'row) and sets recompute_modules without recompute_granularity, so nothing is recomputed; forced balance',
    mbs: 1,
    recompute: 'none',
    stack: { moe_router_force_load_balancing: true },
  },
  'mb2511-qwen3-30b-16': {
    source: 'Megatron-Bridge v0.2.0 QWEN3_30B_A3B_H100_FP8_CS_BASE_CONFIG: moe_a2a_overlap True; recompute none',
    stack: { overlap_moe_expert_parallel_comm: true },
    recompute: 'none',
  },
  'mb2511-qwen3-235b-256': {
    source: 'Megatron-Bridge v0.2.0 QWEN3_235B_A22B_H100_FP8_CS_BASE_CONFIG: moe_a2a_overlap True; recompute none',
    stack: { overlap_moe_expert_parallel_comm: true },
    recompute: 'none',
  },
  'mb2509-qwen3-30b-16': {
    source: 'Megatron-Bridge v0.1.0rc4 configs/qwen3/qwen3_30b_a3b_llm_pretrain.yaml: recompute_granularity null',
    recompute: 'none',
  },
  'mb2509-qwen3-235b-256': {
    source: 'Megatron-Bridge v0.1.0rc4 configs/qwen3/qwen3_235b_a22b_llm_pretrain.yaml: recompute_granularity null',
    recompute: 'none',
  },
  'zoo-qwen3-235b-256-xnode-ep32-1f1b-ovl': {
    source: "the entry's notes: 1F1B EP-A2A overlap (--overlap-moe-expert-parallel-comm)",
    stack: { overlap_moe_expert_parallel_comm: true },
  },
  'zoo-qwen3-235b-256-h100-best': {
    source: "the entry's moe_dispatcher: DeepEP + EP A2A overlap",
    dispatcher: 'flex',
    stack: { overlap_moe_expert_parallel_comm: true },
  },
};

/** Runs the model cannot reach, with the reason (kept in the table, reported separately in the summary). */
const OUTLIERS: Record<string, string> = {
  'nemo2407-llama2-70b-sft-16': 'TP4 PP4 with DP 1 leaves 4.34 B parameters per GPU: 69.5 GB of model state even ' +
    "with NeMo's Apex Adam (16 B/param), so only full recompute fits the 19 GB of activations in 80 GB; but the " +
    'published 756 TFLOPS/GPU (above the pretraining run of the same model) rules full recompute out. How the SFT ' +
    'recipe fitted is not published',
  'mb2511-gptoss-120b-64': 'GPT-OSS attention (learnable-softmax sinks, alternating 128-token sliding windows, head ' +
    'dim 64) is modelled as standard causal flash attention; the measured 15.5 % MFU points at attention kernels the ' +
    'model does not represent (NVIDIA lists a GPT-OSS pre-training regression in cuDNN attention, cudnn-frontend ' +
    'issue 256, in the 26.06.01 notes)',
  'zoo-qwen3-235b-256-ep8-pp32-a2a': 'the same source measures PP32 VPP3 EP8 (96 one-layer virtual stages) 23 % ' +
    'slower than PP8 VPP4 EP32 on the same 256 GPUs (24.2 vs 19.7 s); the model predicts 18.8 vs 17.6 s. A per-virtual-' +
    'stage schedule term is not supported by the other runs: dense runs with one-layer virtual stages and as many ' +
    'chunk executions per step (MLPerf GPT-3 PP8 VPP12, 1536) are already predicted 5-11 % slow',
  'mb2511-qwen3-30b-16': 'same model, GPUs and layout as mb2509-qwen3-30b-16 at half its throughput (5275 vs ' +
    '10494 tok/s); later containers recover (26.04: 8960 tok/s on 16 H100): a software regression the model cannot see',
};

function factsOf(r: Run): RunFacts {
  const g = GROUP_FACTS[String(r.group)];
  const f = RUN_FACTS[String(r.id)];
  if (!g) return f ?? { source: '' };
  if (!f) return g;
  return { ...g, ...f, stack: { ...g.stack, ...f.stack }, source: `${g.source}; ${f.source}` };
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const v = [...xs].sort((a, b) => a - b);
  const k = v.length >> 1;
  return v.length % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

function readRuns(f: string): Run[] {
  let d: unknown;
  try {
    d = yaml.load(fs.readFileSync(f, 'utf8'), { filename: f });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message.split('\n')[0];
    process.stderr.write(`accuracy: ${f}: ${why}\n`);
    process.exit(2);
  }
  const runs = (d as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) {
    process.stderr.write(`accuracy: ${f}: runs: missing (expected a list of measured runs)\n`);
    process.exit(2);
  }
  return runs as Run[];
}

const doc = { runs: readRuns(file) };
const cal = loadCalibration(calArg);
const est = newEstimate();
const rows: { id: string; moe: boolean; fp8: boolean; err: number; outlier: boolean }[] = [];
const skipped: string[] = [];
const unfit: string[] = [];
const fitStatus: string[] = [];
const sources = new Map<string, string>();

const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
console.log(`calibration: ${cal.file}   runs: ${file}`);
console.log(`${pad('run', 44)} ${pad('kind', 9)} ${lpad('pred', 8)} ${lpad('meas', 8)} ${lpad('err%', 7)} ` +
  `${lpad('memGB', 6)}  ${pad('assumed', 14)} notes`);
for (const r of doc.runs) {
  if (!String(r.gpu_type).startsWith('H100-SXM5-80GB')) continue;
  if (r.config_complete !== true) { skipped.push(`${r.id}: config_complete is false`); continue; }
  if (r.fsdp && r.fsdp !== 0) { skipped.push(`${r.id}: FSDP (${String(r.fsdp)}) is not a plan option`); continue; }
  const facts = factsOf(r);
  if (facts.source) sources.set(r.id, facts.source);
  const { model, note } = modelOf(r);
  const shape = modelShape(model);
  const precision: Precision = String(r.precision).startsWith('fp8') ? 'fp8' : 'bf16';
  const gpus = r.gpus as number;
  const tp = r.tp as number;
  const cp = num(r.cp, 1);
  const pp = r.pp as number;
  const vpp = num(r.vpp, 1);
  const ep = num(r.ep, 1);
  const etp = num(r.etp, tp);
  const dp = gpus / (tp * cp * pp);
  const mbs = facts.mbs ?? num(r.mbs, 1);
  const gbs = r.gbs as number;
  const [first, last] = stageSplit(r, model.num_layers, pp);
  const plan: Plan = {
    tp, cp, dp, pp, vpp, ep: shape.isMoe ? ep : 1, etp: shape.isMoe ? etp : 1,
    edp: gpus / ((shape.isMoe ? etp * ep : 1) * pp),
    firstStageLayers: first, lastStageLayers: last, accountEmbedding: false, accountLoss: false, layout: '', mbGroup: pp,
    microBatchSize: mbs, numMicroBatches: Math.max(1, gbs / (mbs * dp)),
    recompute: 'none', dispatcher: facts.dispatcher ?? dispatcherOf(r.moe_dispatcher),
    sequenceParallel: tp > 1, distributedOptimizer: true, precision,
  };
  const stack: StackSpec = {
    ...defaultStack(),
    moe_router_force_load_balancing: routingOf(r.moe_load_balance) === 'forced',
    ...facts.stack,
  };
  const job: Job = {
    source: String(r.id), model,
    training: { seq_length: r.seq_len, global_batch_size: gbs, precision, ...stack },
    cluster: { gpu: 'h100-sxm', gpus, gpus_per_node: 8 },
  };
  const context = (modules: string[] | undefined) => {
    const ctx = makeScoreContext({ ...job, training: { ...job.training, recompute_modules: modules ?? stack.recompute_modules } },
      shape, cal);
    if (facts.apexOptimizerStateBytesPerParam !== undefined) ctx.optimizerStateBytesPerParam = facts.apexOptimizerStateBytesPerParam;
    return ctx;
  };
  const score = (recompute: Recompute, modules: string[] | undefined): Estimate => {
    plan.recompute = recompute;
    return scorePlan(context(modules), plan, est);
  };
  // recompute: the entry's, else the recipe's, else the lightest mode that fits
  const published = recomputeOf(r);
  let assumed = '';
  if (published) score(published.recompute, published.modules);
  else if (facts.recompute) score(facts.recompute, undefined);
  else {
    for (const mode of ['none', 'selective', 'full'] as const) {
      score(mode, undefined);
      assumed = `recompute ${mode}`;
      if (est.fits) break;
    }
  }
  const ctx = context(undefined);
  const meas = measuredTokens(r, model, ctx.flopsPerToken);
  const err = est.tokensPerSPerGpu / meas.tok - 1;
  const kind = `${shape.isMoe ? 'moe' : 'dense'}/${precision}`;
  const outlier = OUTLIERS[r.id];
  rows.push({ id: r.id, moe: shape.isMoe, fp8: precision === 'fp8', err, outlier: outlier !== undefined });
  const memGb = est.peakMemBytes / 1e9;
  const usableGb = est.usableMemBytes / 1e9;
  fitStatus.push(`${pad(r.id, 44)} ${lpad(memGb.toFixed(1), 6)} GB ${est.fits ? 'fits' : 'DOES NOT FIT'}` +
    `${assumed ? ` (${assumed} assumed)` : ''}`);
  if (!est.fits) unfit.push(`${r.id}: predicted ${memGb.toFixed(1)} GB > usable ${usableGb.toFixed(1)} GB`);
  const notes = [meas.how, note, facts.source ? 'recipe facts' : '', est.fits ? '' : 'DOES NOT FIT',
    outlier ? 'OUTLIER' : ''].filter(Boolean).join('; ');
  console.log(`${pad(r.id, 44)} ${pad(kind, 9)} ${lpad(est.tokensPerSPerGpu.toFixed(0), 8)} ${lpad(meas.tok.toFixed(0), 8)} ` +
    `${lpad((100 * err).toFixed(1), 7)} ${lpad(memGb.toFixed(1), 6)}  ${pad(assumed, 14)} ${notes}`);
  if (verbose) {
    const t = est.time;
    const parts = Object.entries(t).map(([k, v]) => `${k.replace(/S$/, '')}=${(100 * v / est.stepTimeS).toFixed(0)}%`);
    console.log(`    step ${est.stepTimeS.toFixed(3)} s  ${parts.join(' ')}`);
    const mem = Object.entries(est.mem).map(([k, v]) => `${k.replace(/Bytes$/, '')}=${(v / 1e9).toFixed(1)}`);
    console.log(`    mem GB: ${mem.join(' ')}`);
  }
}

function summary(label: string, sel: (x: (typeof rows)[number]) => boolean): void {
  const errs = rows.filter(sel).map((x) => Math.abs(x.err));
  if (errs.length === 0) return;
  const signed = rows.filter(sel).map((x) => x.err);
  console.log(`${pad(label, 14)} n=${lpad(String(errs.length), 3)}  median |err| ${(100 * median(errs)).toFixed(1)}%  ` +
    `max |err| ${(100 * Math.max(...errs)).toFixed(1)}%  median signed ${(100 * median(signed)).toFixed(1)}%`);
}
console.log('');
console.log('all runs:');
summary('  all', () => true);
summary('  dense', (x) => !x.moe);
summary('  moe', (x) => x.moe);
summary('  bf16', (x) => !x.fp8);
summary('  fp8', (x) => x.fp8);
console.log('without outliers:');
summary('  all', (x) => !x.outlier);
summary('  dense', (x) => !x.moe && !x.outlier);
summary('  moe', (x) => x.moe && !x.outlier);
summary('  bf16', (x) => !x.fp8 && !x.outlier);
summary('  fp8', (x) => x.fp8 && !x.outlier);
const over30 = rows.filter((x) => Math.abs(x.err) > 0.3).map((x) => `${x.id} (${(100 * x.err).toFixed(1)}%)`);
console.log(`beyond 30%: ${over30.length ? over30.join(', ') : 'none'}`);
console.log(`outliers (${Object.keys(OUTLIERS).length}):`);
for (const [id, why] of Object.entries(OUTLIERS)) console.log(`  ${id}: ${why}`);
console.log(`not fitting: ${unfit.length ? '\n  ' + unfit.join('\n  ') : 'none'}`);
if (verbose) {
  console.log('memory fit of every published configuration:');
  for (const line of fitStatus) console.log(`  ${line}`);
  console.log('recipe facts used:');
  for (const [id, src] of sources) console.log(`  ${id}: ${src}`);
}
console.log(`skipped (${skipped.length}):\n  ${skipped.join('\n  ')}`);
