/**
 * Accuracy of the cost models against published, measured H100 runs.
 *   npx tsc -p tsconfig.json && node dist/scripts/accuracy.js [measured-runs.yaml] [--cal cost-models/x.yaml] [--verbose]
 * Default file: ../shared/reference/measured-runs.yaml relative to the repository root. Scores every H100-SXM5-80GB
 * run with config_complete: true (skipping FSDP runs and those a plan cannot express, with the reason), using the
 * run's own recompute, dispatcher, precision and routing balance, and prints predicted vs measured tokens/s/GPU,
 * the error, the predicted peak memory, and summaries (dense/MoE, BF16/FP8, median and max absolute error).
 * Not part of `npm test` (it reads /work/shared).
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../src/paths.js';
import { loadCalibration } from '../src/cost/calibration.js';
import { makeScoreContext, scorePlan } from '../src/cost/score.js';
import { newEstimate } from '../src/cost/estimate.js';
import { modelShape } from '../src/spec/shape.js';
import type { Dispatcher, Job, ModelSpec, Precision, Recompute } from '../src/spec/types.js';
import type { Plan } from '../src/enumerate/plan.js';

type Run = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const calIdx = args.indexOf('--cal');
const calArg = calIdx >= 0 ? args[calIdx + 1] : 'h100-sxm';
const fileArg = args.find((a, i) => !a.startsWith('--') && (calIdx < 0 || i !== calIdx + 1));
const file = fileArg ?? path.resolve(REPO_ROOT, '..', 'shared', 'reference', 'measured-runs.yaml');

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

/** The run's recompute (falling back to the recipe named in its notes) and Megatron's --recompute-modules. */
function recomputeOf(r: Run): { recompute: Recompute; modules: string[]; from: string } {
  let s = String(r.recompute ?? '').toLowerCase();
  let from = '';
  if (!s || s === 'null') {
    const m = /recompute ((?:mla_up_proj|mlp|moe_act|moe|layernorm|core_attn)(?:\+[a-z_]+)*)/.exec(String(r.notes ?? ''));
    if (!m) return { recompute: 'none', modules: ['core_attn'], from };
    s = m[1].replace(/\+/g, ', ');
    from = `recompute ${m[1]} from the run's notes`;
  }
  if (s.startsWith('full')) return { recompute: 'full', modules: ['core_attn'], from };
  const mods = new Set<string>();
  for (const w of s.replace(/^selective:?/, '').split(/[,\s]+/).filter(Boolean)) {
    if (w === 'norm' || w === 'layernorm') mods.add('layernorm');
    else if (w === 'act' || w === 'moe_act') mods.add('moe_act');
    else if (w === 'moe' || w === 'mlp' || w === 'mla_up_proj' || w === 'core_attn') mods.add(w);
  }
  if (mods.size === 0) mods.add('core_attn');
  return { recompute: 'selective', modules: [...mods], from };
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
  if (typeof r.tokens_per_sec_per_gpu === 'number') return { tok: r.tokens_per_sec_per_gpu, how: 'published' };
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

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const v = [...xs].sort((a, b) => a - b);
  const k = v.length >> 1;
  return v.length % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { runs: Run[] };
const cal = loadCalibration(calArg);
const est = newEstimate();
const rows: { id: string; moe: boolean; fp8: boolean; err: number }[] = [];
const skipped: string[] = [];
const unfit: string[] = [];

const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
console.log(`calibration: ${cal.file}   runs: ${file}`);
console.log(`${pad('run', 44)} ${pad('kind', 9)} ${lpad('pred', 8)} ${lpad('meas', 8)} ${lpad('err%', 7)} ${lpad('memGB', 6)}  notes`);
for (const r of doc.runs) {
  if (!String(r.gpu_type).startsWith('H100-SXM5-80GB')) continue;
  if (r.config_complete !== true) { skipped.push(`${r.id}: config_complete is false`); continue; }
  if (r.fsdp && r.fsdp !== 0) { skipped.push(`${r.id}: FSDP (${String(r.fsdp)}) is not a plan option`); continue; }
  if (String(r.moe_dispatcher ?? '').toLowerCase().includes('overlap')) {
    skipped.push(`${r.id}: EP all-to-all overlap (--overlap-moe-expert-parallel-comm) is not a plan option`);
    continue;
  }
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
  const mbs = num(r.mbs, 1);
  const gbs = r.gbs as number;
  const [first, last] = stageSplit(r, model.num_layers, pp);
  const rc = recomputeOf(r);
  const plan: Plan = {
    tp, cp, dp, pp, vpp, ep: shape.isMoe ? ep : 1, etp: shape.isMoe ? etp : 1,
    edp: gpus / ((shape.isMoe ? etp * ep : 1) * pp),
    firstStageLayers: first, lastStageLayers: last,
    microBatchSize: mbs, numMicroBatches: Math.max(1, gbs / (mbs * dp)),
    recompute: rc.recompute, dispatcher: dispatcherOf(r.moe_dispatcher),
    sequenceParallel: tp > 1, distributedOptimizer: true, precision,
  };
  const job: Job = {
    source: String(r.id), model,
    training: { seq_length: r.seq_len, global_batch_size: gbs, precision },
    cluster: { gpu: 'h100-sxm', gpus, gpus_per_node: 8 },
  };
  const ctx = makeScoreContext(job, shape, cal, {
    routing: routingOf(r.moe_load_balance), recomputeModules: rc.modules,
  });
  scorePlan(ctx, plan, est);
  const meas = measuredTokens(r, model, ctx.flopsPerToken);
  const err = est.tokensPerSPerGpu / meas.tok - 1;
  const kind = `${shape.isMoe ? 'moe' : 'dense'}/${precision}`;
  rows.push({ id: r.id, moe: shape.isMoe, fp8: precision === 'fp8', err });
  const memGb = est.peakMemBytes / 1e9;
  if (!est.fits) unfit.push(`${r.id}: predicted ${memGb.toFixed(1)} GB > usable ${(est.usableMemBytes / 1e9).toFixed(1)} GB`);
  const notes = [meas.how, note, rc.from, est.fits ? '' : 'DOES NOT FIT'].filter(Boolean).join('; ');
  console.log(`${pad(r.id, 44)} ${pad(kind, 9)} ${lpad(est.tokensPerSPerGpu.toFixed(0), 8)} ${lpad(meas.tok.toFixed(0), 8)} ` +
    `${lpad((100 * err).toFixed(1), 7)} ${lpad(memGb.toFixed(1), 6)}  ${notes}`);
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
  console.log(`${pad(label, 12)} n=${lpad(String(errs.length), 3)}  median |err| ${(100 * median(errs)).toFixed(1)}%  ` +
    `max |err| ${(100 * Math.max(...errs)).toFixed(1)}%  median signed ${(100 * median(signed)).toFixed(1)}%`);
}
console.log('');
summary('all', () => true);
summary('dense', (x) => !x.moe);
summary('moe', (x) => x.moe);
summary('bf16', (x) => !x.fp8);
summary('fp8', (x) => x.fp8);
const over30 = rows.filter((x) => Math.abs(x.err) > 0.3).map((x) => `${x.id} (${(100 * x.err).toFixed(1)}%)`);
console.log(`beyond 30%: ${over30.length ? over30.join(', ') : 'none'}`);
console.log(`not fitting: ${unfit.length ? '\n  ' + unfit.join('\n  ') : 'none'}`);
console.log(`skipped (${skipped.length}):\n  ${skipped.join('\n  ')}`);
