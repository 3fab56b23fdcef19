/**
 * checkMegatronArgs, rule by rule: each test breaks one rule in a list that passes and expects exactly the
 * violation for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMegatronArgs, megatronLaunch } from '../../src/export/index.js';
import { megatronArgsLayout } from '../../src/export/megatron-flags.js';
import { ARGV_WORDED_RULES } from '../../src/export/megatron-argv-layout.js';
import { RULES, checkPlan } from '../../src/enumerate/rules.js';
import { deepseekJob, deepseekPlan, denseJob, densePlan, mixtralJob, mixtralPlan, shapeOf } from './jobs.js';

/** Mixtral on 128 H100 (TP2 PP8 VPP7 EP8), runnable list. */
function mixtral(): { args: string[]; env: Record<string, string> } {
  const job = mixtralJob();
  return megatronLaunch(job, shapeOf(job), mixtralPlan(), { mockData: true });
}

/** DeepSeek-V3 on 1024 H100 (TP1 PP16 uneven 4/1, EP64, flex), runnable list. */
function deepseek(): { args: string[]; env: Record<string, string> } {
  const job = deepseekJob();
  return megatronLaunch(job, shapeOf(job), deepseekPlan(), { mockData: true });
}

function dense(): { args: string[]; env: Record<string, string> } {
  const job = denseJob();
  return megatronLaunch(job, shapeOf(job), densePlan(), { mockData: true });
}

/** Removes `flag` and its values. */
function without(args: string[], ...flags: string[]): string[] {
  const out: string[] = [];
  let skip = false;
  for (const a of args) {
    if (a.startsWith('--')) skip = flags.includes(a);
    if (!skip) out.push(a);
  }
  return out;
}

/** Sets `flag` to `values` (replacing it, or appending it). */
function setFlag(args: string[], flag: string, ...values: string[]): string[] {
  return [...without(args, flag), flag, ...values];
}

test('rules: the reference lists pass', () => {
  assert.deepEqual(checkMegatronArgs(mixtral().args, mixtral().env, 128), []);
  assert.deepEqual(checkMegatronArgs(deepseek().args, deepseek().env, 1024), []);
  assert.deepEqual(checkMegatronArgs(dense().args, dense().env, 16), []);
});

test('rules: unknown, abbreviated and misspelled flags', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs([...args, '--overlap-p2p-comm'], env, 128),
    ['unknown flag --overlap-p2p-comm (Megatron-LM rejects unknown and abbreviated flags)']);
  assert.deepEqual(checkMegatronArgs([...args, '--fp8', 'e4m3'], env, 128),
    ['unknown flag --fp8 (Megatron-LM rejects unknown and abbreviated flags)']);
  assert.deepEqual(checkMegatronArgs([...without(args, '--sequence-parallel', '--tp-comm-overlap'), '--sequence-paral'], env, 128), [
    'unknown flag --sequence-paral (Megatron-LM rejects unknown and abbreviated flags)',
    '--sequence-parallel must be set for an MoE model with TP > 1 (TP=2)',
  ]);
});

test('rules: values: missing, extra, wrong type, not a choice, given twice', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs([...without(args, '--train-iters'), '--train-iters'], env, 128), ['--train-iters needs a value']);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--sequence-parallel', 'true'), env, 128), ['--sequence-parallel takes no value (got true)']);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--train-iters', 'ten'), env, 128), ['--train-iters: must be an integer (got ten)']);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--moe-token-dispatcher-type', 'all2all'), env, 128),
    ['--moe-token-dispatcher-type: "all2all" is not one of allgather, alltoall, flex']);
  assert.deepEqual(checkMegatronArgs([...args, '--bf16'], env, 128), ['--bf16 is given twice']);
  assert.deepEqual(checkMegatronArgs(['56', ...args], env, 128), ['unexpected value "56" with no flag before it']);
});

test('rules: required flags', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs(without(args, '--seq-length'), env, 128), ['missing required --seq-length']);
  assert.deepEqual(checkMegatronArgs(without(args, '--micro-batch-size'), env, 128), ['missing required --micro-batch-size']);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--max-position-embeddings', '2048'), env, 128),
    ['--max-position-embeddings 2048 must be >= --seq-length 4096']);
});

test('rules: sequence parallel iff TP > 1', () => {
  const m = mixtral();
  assert.deepEqual(checkMegatronArgs(without(m.args, '--sequence-parallel', '--tp-comm-overlap'), m.env, 128), ['--sequence-parallel must be set for an MoE model with TP > 1 (TP=2)']);
  const d = deepseek();
  assert.deepEqual(checkMegatronArgs([...d.args, '--sequence-parallel'], d.env, 1024), ['--sequence-parallel must not be set when TP = 1']);
});

test('rules: MoE biases (no --disable-bias-linear) need ETP 1 and no shared expert', () => {
  const m = mixtral();
  // [TC] L2612-2615: bias in MoE only with ETP 1 (the Mixtral plan has ETP 1), never with a shared expert
  assert.deepEqual(checkMegatronArgs(without(m.args, '--disable-bias-linear'), m.env, 128), []);
  const etp2 = without(m.args, '--disable-bias-linear').map((x, i, all) =>
    all[i - 1] === '--expert-tensor-parallel-size' ? '2' : x);
  assert.ok(checkMegatronArgs(etp2, m.env, 128).includes('MoE biases (no --disable-bias-linear) need --expert-tensor-parallel-size 1 (got 2)'));
  const ds = deepseek();
  assert.ok(checkMegatronArgs(without(ds.args, '--disable-bias-linear'), ds.env, 1024).some((e) => e.includes('shared expert')));
  // a dense model may keep its biases
  const d = dense();
  assert.deepEqual(checkMegatronArgs(without(d.args, '--disable-bias-linear'), d.env, 16), []);
});

test('rules: overlap-param-gather needs the distributed optimizer and overlap-grad-reduce', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs(without(args, '--use-distributed-optimizer'), env, 128), ['--overlap-param-gather needs --use-distributed-optimizer']);
  assert.deepEqual(checkMegatronArgs(without(args, '--overlap-grad-reduce'), env, 128), ['--overlap-param-gather needs --overlap-grad-reduce']);
  assert.deepEqual(checkMegatronArgs(without(args, '--use-distributed-optimizer', '--overlap-param-gather'), env, 128), []);
});

test('rules: recompute flag pairs', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs([...args, '--recompute-granularity', 'full'], env, 128), [
    '--recompute-granularity full needs --recompute-method (uniform or block)',
    '--recompute-granularity full needs --recompute-num-layers',
  ]);
  assert.deepEqual(checkMegatronArgs([...args, '--recompute-granularity', 'full', '--recompute-method', 'block', '--recompute-num-layers', '2'], env, 128), []);
  assert.deepEqual(checkMegatronArgs([...args, '--recompute-granularity', 'selective', '--recompute-method', 'uniform'], env, 128),
    ['--recompute-granularity selective must not set --recompute-method']);
  assert.deepEqual(checkMegatronArgs([...args, '--recompute-granularity', 'selective', '--recompute-num-layers', '1'], env, 128),
    ['--recompute-granularity selective must not set --recompute-num-layers']);
  assert.deepEqual(checkMegatronArgs([...args, '--recompute-num-layers', '1'], env, 128),
    ['--recompute-method / --recompute-num-layers need --recompute-granularity full']);
  assert.deepEqual(checkMegatronArgs([...args, '--recompute-granularity', 'selective', '--recompute-modules', 'core_attn', 'mla_up_proj'], env, 128),
    ['--recompute-modules mla_up_proj needs --multi-latent-attention']);
  assert.deepEqual(checkMegatronArgs([...args, '--recompute-granularity', 'selective', '--recompute-modules', 'attn'], env, 128),
    ['--recompute-modules: "attn" is not one of core_attn, moe_act, layernorm, mla_up_proj, mlp, moe, shared_experts, gdn_norm_out, gdp_in_proj, gdp_qkv, mhc']);
});

test('rules: VPP flags are exclusive and --num-layers-per-virtual-pipeline-stage is not mixed with first/last', () => {
  const m = mixtral();
  assert.deepEqual(checkMegatronArgs([...m.args, '--num-layers-per-virtual-pipeline-stage', '1'], m.env, 128),
    ['at most one of --num-layers-per-virtual-pipeline-stage, --num-virtual-stages-per-pipeline-rank may be given ([VA] L928)']);
  // the layers-per-virtual-stage form alone is fine for an even split: 56/8 = 7 layers per stage, 1 per virtual stage
  assert.deepEqual(checkMegatronArgs([...without(m.args, '--num-virtual-stages-per-pipeline-rank'), '--num-layers-per-virtual-pipeline-stage', '1'], m.env, 128), []);
  assert.deepEqual(checkMegatronArgs([...without(m.args, '--num-virtual-stages-per-pipeline-rank'), '--num-layers-per-virtual-pipeline-stage', '3'], m.env, 128),
    ['layers per pipeline stage 7 are not divisible by --num-layers-per-virtual-pipeline-stage 3']);
  const d = deepseek();
  assert.deepEqual(checkMegatronArgs([...d.args, '--num-layers-per-virtual-pipeline-stage', '1'], d.env, 1024),
    ['--num-layers-per-virtual-pipeline-stage cannot be combined with --decoder-first/last-pipeline-num-layers (use --num-virtual-stages-per-pipeline-rank)']);
  const dn = dense();
  const pp1 = setFlag(setFlag(dn.args, '--pipeline-model-parallel-size', '1'), '--num-virtual-stages-per-pipeline-rank', '2');
  assert.deepEqual(checkMegatronArgs(pp1, dn.env, 16), ['virtual pipeline stages need --pipeline-model-parallel-size > 1 ([VA] L1000)']);
});

test('rules: pipeline splits, even and uneven', () => {
  const d = deepseek();
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--decoder-last-pipeline-num-layers', '2'), d.env, 1024),
    ['first/last pipeline stage layers 4/2 of --num-layers 61 on PP 16: 55 middle layers are not divisible by 14 middle PP stages']);
  // first alone: Megatron splits the other 57 layers over 15 stages, which does not divide either; the layout
  // gives the last stage the middle size rounded down (57/15 -> 3), which the uneven rule then refuses
  assert.deepEqual(checkMegatronArgs(without(d.args, '--decoder-last-pipeline-num-layers'), d.env, 1024), [
    '--decoder-first-pipeline-num-layers and --decoder-last-pipeline-num-layers go together',
    'first/last pipeline stage layers 4/3 of --num-layers 61 on PP 16: 54 middle layers are not divisible by 14 middle PP stages',
  ]);
  assert.deepEqual(checkMegatronArgs(without(d.args, '--decoder-first-pipeline-num-layers', '--decoder-last-pipeline-num-layers'), d.env, 1024),
    ['--num-layers 61 is not divisible by PP 16 ([VA] L987)']);
  const m = mixtral();
  assert.deepEqual(checkMegatronArgs(setFlag(m.args, '--num-virtual-stages-per-pipeline-rank', '2'), m.env, 128),
    ['7 layers per pipeline stage are not divisible by the virtual stages 2 ([RT] get_num_layers_to_build)']);
  // 12 microbatches (GBS 96 over DP 8) cannot run the interleaved schedule on PP 8
  assert.deepEqual(checkMegatronArgs(setFlag(m.args, '--global-batch-size', '96'), m.env, 128),
    ['the interleaved schedule with --microbatch-group-size-per-virtual-pipeline-stage 8: 12 micro-batches leave a last '
      + 'group of 4 (group 8), fewer than PP 8 ([RT] schedules.py L1160)']);
});

test('rules: flex dispatcher needs its backend, and the backend needs flex', () => {
  const d = deepseek();
  assert.deepEqual(checkMegatronArgs(without(d.args, '--moe-flex-dispatcher-backend'), d.env, 1024),
    ['--moe-token-dispatcher-type flex needs --moe-flex-dispatcher-backend']);
  const m = mixtral();
  assert.deepEqual(checkMegatronArgs([...m.args, '--moe-flex-dispatcher-backend', 'deepep'], m.env, 128),
    ['--moe-flex-dispatcher-backend needs --moe-token-dispatcher-type flex (got alltoall)']);
});

test('rules: fp8 flags', () => {
  const m = mixtral();
  assert.deepEqual(checkMegatronArgs([...m.args, '--fp8-recipe', 'blockwise'], m.env, 128),
    ['--fp8-recipe has no effect without --fp8-format (there is no --fp8 flag)']);
  assert.deepEqual(checkMegatronArgs([...m.args, '--fp8-format', 'e5m2'], m.env, 128),
    ['--fp8-format: "e5m2" is not one of e4m3, hybrid']);
  assert.deepEqual(checkMegatronArgs([...m.args, '--fp8-format', 'hybrid', '--fp8-recipe', 'tensorwise'], m.env, 128), []);
  assert.deepEqual(checkMegatronArgs(without(m.args, '--bf16'), m.env, 128), ['missing --bf16 (moefold plans bf16 or fp8-on-bf16 training)']);
  assert.deepEqual(checkMegatronArgs([...m.args, '--fp16'], m.env, 128), ['--bf16 and --fp16 are exclusive']);
});

test('rules: context parallel and sequence-parallel splits of the sequence', () => {
  const d = dense();
  const cp2 = setFlag(d.args, '--context-parallel-size', '2');
  // 16 GPUs = TP2 x CP2 x PP2 x DP2; GBS 64 = 1 x 32 x 2
  assert.deepEqual(checkMegatronArgs(cp2, d.env, 16), []);
  assert.deepEqual(checkMegatronArgs(setFlag(cp2, '--seq-length', '4094'), d.env, 16), [
    '--seq-length 4094 is not divisible by 2*CP = 4',
    '--seq-length 4094 / CP 2 is not divisible by TP 2 (sequence-parallel split)',
  ]);
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--seq-length', '4095'), d.env, 16),
    ['--seq-length 4095 / CP 1 is not divisible by TP 2 (sequence-parallel split)']);
});

test('rules: CUDA_DEVICE_MAX_CONNECTIONS before Blackwell', () => {
  const { args } = mixtral();
  assert.deepEqual(checkMegatronArgs(args, {}, 128),
    ['TP > 1 or CP > 1 on GPUs before Blackwell needs CUDA_DEVICE_MAX_CONNECTIONS=1 (got unset)']);
  assert.deepEqual(checkMegatronArgs(args, { CUDA_DEVICE_MAX_CONNECTIONS: '32' }, 128),
    ['TP > 1 or CP > 1 on GPUs before Blackwell needs CUDA_DEVICE_MAX_CONNECTIONS=1 (got 32)']);
  assert.deepEqual(checkMegatronArgs(args, {}, 128, { gpuArchMajor: 10 }), []);
  // TP1 CP1 needs nothing
  assert.deepEqual(checkMegatronArgs(deepseek().args, {}, 1024), []);
  // CP2 alone needs it too
  const d = dense();
  const cp2 = setFlag(setFlag(without(d.args, '--sequence-parallel', '--tp-comm-overlap'), '--tensor-model-parallel-size', '1'), '--context-parallel-size', '2');
  assert.deepEqual(checkMegatronArgs(cp2, {}, 16), ['TP > 1 or CP > 1 on GPUs before Blackwell needs CUDA_DEVICE_MAX_CONNECTIONS=1 (got unset)']);
});

test('rules: world size and batch divisibility', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs(args, env, 120), [
    'world size 120 is not divisible by TP*CP*PP = 16',
    'world size 120 is not divisible by ETP*EP*PP = 64',
  ]);
  // 64 GPUs: DP 4, and ETP*EP*PP = 64 fits; GBS 256 = 1 x 64 x 4
  assert.deepEqual(checkMegatronArgs(args, env, 64), []);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--global-batch-size', '100'), env, 128),
    ['--global-batch-size 100 is not divisible by micro-batch-size*DP = 1*8']);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--expert-model-parallel-size', '16'), env, 256),
    ['--num-experts 8 is not divisible by EP 16 ([VA] L1656)']);
});

test('rules: attention and GEMM shapes', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--num-attention-heads', '49'), env, 128),
    ['--num-attention-heads 49 is not divisible by TP 2']);
  assert.deepEqual(checkMegatronArgs(setFlag(without(args, '--kv-channels'), '--num-attention-heads', '40'), env, 128),
    ['--hidden-size 6144 is not divisible by --num-attention-heads 40 (give --kv-channels)']);
  const d = dense();
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--num-query-groups', '3'), d.env, 16),
    ['--num-query-groups 3 must be a multiple or a divisor of TP 2']);
  assert.deepEqual(checkMegatronArgs(without(d.args, '--group-query-attention'), d.env, 16),
    ['--num-query-groups has no effect without --group-query-attention']);
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--ffn-hidden-size', '8191'), d.env, 16),
    ['--ffn-hidden-size 8191 is not divisible by TP 2']);
  const ds = deepseek();
  assert.deepEqual(checkMegatronArgs([...ds.args, '--group-query-attention', '--num-query-groups', '8'], ds.env, 1024),
    ['--group-query-attention cannot be combined with --multi-latent-attention']);
  assert.deepEqual(checkMegatronArgs(setFlag(ds.args, '--position-embedding-type', 'relative'), ds.env, 1024),
    ['--mtp-num-layers needs --position-embedding-type rope, mrope, learned_absolute or none (got relative)']);
});

test('rules: MoE layer pattern, router and dense-model flags', () => {
  const d = deepseek();
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--moe-layer-freq', '([0]*3+[1]*57)'), d.env, 1024),
    ['--moe-layer-freq lists 60 layers, --num-layers is 61']);
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--moe-layer-freq', '[0]*3+[1]*58; rm'), d.env, 1024),
    ['--moe-layer-freq: must be an integer or a list expression of digits , [ ] ( ) + * (got [0]*3+[1]*58; rm)']);
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--moe-router-score-function', 'softmax'), d.env, 1024),
    ['--moe-router-enable-expert-bias needs --moe-router-score-function sigmoid or sqrtsoftplus (got softmax)']);
  assert.deepEqual(checkMegatronArgs(setFlag(d.args, '--moe-router-num-groups', '7'), d.env, 1024),
    ['--num-experts 256 is not divisible by --moe-router-num-groups 7']);
  const m = mixtral();
  assert.deepEqual(checkMegatronArgs(setFlag(m.args, '--moe-router-topk', '1'), m.env, 128),
    ['--moe-router-topk 1 with softmax scoring needs --moe-router-pre-softmax']);
  const dn = dense();
  assert.deepEqual(checkMegatronArgs([...dn.args, '--moe-grouped-gemm', '--expert-model-parallel-size', '2'], dn.env, 16), [
    'MoE flags without --num-experts: --moe-grouped-gemm',
    '--expert-model-parallel-size 2 needs --num-experts ([VA] L1655)',
  ]);
});

test('rules: data, tokenizer and checkpoint flags', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs([...args, '--data-path', '/d/x'], env, 128), ['--mock-data and --data-path are exclusive']);
  assert.deepEqual(checkMegatronArgs(without(args, '--vocab-size'), env, 128), ['--tokenizer-type NullTokenizer needs --vocab-size']);
  assert.deepEqual(checkMegatronArgs([...args, '--save', '/ckpt'], env, 128), ['--save needs --save-interval ([VA])']);
  assert.deepEqual(checkMegatronArgs([...args, '--min-lr', '1e-3'], env, 128), ['--min-lr 1e-3 is more than --lr 1.0e-4']);
});

test('rules: logging intervals', () => {
  const { args, env } = mixtral();
  assert.deepEqual(checkMegatronArgs([...args, '--log-memory-interval', '20'], env, 128), []);
  assert.deepEqual(checkMegatronArgs([...args, '--log-memory-interval', '25'], env, 128),
    ['--log-memory-interval 25 is not a multiple of --log-interval 10 ([VA] L1370)']);
  // without --log-interval, Megatron's default (100) is the one the memory interval must be a multiple of
  assert.deepEqual(checkMegatronArgs([...without(args, '--log-interval'), '--log-memory-interval', '50'], env, 128),
    ['--log-memory-interval 50 is not a multiple of --log-interval 100 ([VA] L1370)']);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--log-interval', '0'), env, 128), ['--log-interval must be >= 1 (got 0)']);
  assert.deepEqual(checkMegatronArgs([...args, '--log-memory-interval', '0'], env, 128), ['--log-memory-interval must be >= 1 (got 0)']);
  assert.deepEqual(checkMegatronArgs([...args, '--log-interval', '1'], env, 128), ['--log-interval is given twice']);
  assert.deepEqual(checkMegatronArgs(setFlag(args, '--log-throughput', '1'), env, 128), ['--log-throughput takes no value (got 1)']);
});

test('the argument check runs the rule table: every mapping rule has its flag wording', () => {
  for (const r of RULES) {
    if (r.level === 'plan') continue; // derived sizes: a list states sizes, the layout derives the rest
    assert.ok(ARGV_WORDED_RULES.includes(r.name), `${r.name} has no flag wording`);
  }
  // the list's layout is what the table checks: ETP 3 breaks moe-ffn-divisible-by-etp and expert-world-divisible
  const m = mixtral();
  const bad = setFlag(m.args, '--expert-tensor-parallel-size', '3');
  const l = megatronArgsLayout(bad, 128);
  assert.equal(l.plan.etp, 3);
  assert.deepEqual(checkPlan(l.job, l.shape, l.plan).map((v) => v.rule), ['moe-ffn-divisible-by-etp', 'expert-world-divisible']);
  assert.deepEqual(checkMegatronArgs(bad, m.env, 128), ['MoE FFN size 16384 is not divisible by ETP 3', 'world size 128 is not divisible by ETP*EP*PP = 192']);
});
