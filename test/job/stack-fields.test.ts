/**
 * The software-stack fields of `training:` (src/job/stack.ts): defaults, bad values (one line naming the file, the
 * field and what is allowed; exit 2), the command-line overrides, the job comparison of `moefold check`, and the
 * training section of plans.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob } from '../../src/job/load-job.js';
import { STACK_FIELDS, STACK_KEYS, defaultStack } from '../../src/job/stack.js';
import { jobChanges } from '../../src/check/job-diff.js';
import { moefold } from '../cli/run-cli.js';
import { tempWriter } from './temp-files.js';

const { write } = tempWriter('moefold-stack-');
const MIXTRAL = path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml');
const LLAMA = path.join(REPO_ROOT, 'fixtures/models/llama3-70b.yaml');

/** A job that names the Mixtral fixture as its model file, with `training` lines. */
function jobFile(name: string, training: string, model = MIXTRAL): string {
  return write(name, `model: ${JSON.stringify(model)}\ntraining:\n  global_batch_size: 256\n${training}\ncluster:\n  gpus: 128\n`);
}

test('every stack field has its default when the job does not set it', () => {
  const j = loadJob(MIXTRAL, { gpus: 128 });
  const fixtureSets: readonly string[] = ['attention_dropout', 'hidden_dropout']; // Mixtral trains without dropout
  for (const k of STACK_KEYS) if (!fixtureSets.includes(k)) assert.deepEqual(j.training[k], STACK_FIELDS[k].dflt, k);
  for (const k of fixtureSets) assert.equal(j.training[k as keyof typeof j.training], 0, k);
  assert.deepEqual(defaultStack().cuda_graph_modules, []);
});

test('the file sets them; YAML null keeps the default', () => {
  const f = jobFile('set.yaml', '  moe_router_force_load_balancing: true\n  recompute_modules: [core_attn, moe_act]\n'
    + '  moe_expert_capacity_factor: null\n  tp_comm_overlap: false\n  attention_dropout: 0\n  fp8_recipe: delayed');
  const t = loadJob(f).training;
  assert.equal(t.moe_router_force_load_balancing, true);
  assert.deepEqual(t.recompute_modules, ['core_attn', 'moe_act']);
  assert.equal(t.moe_expert_capacity_factor, null);
  assert.equal(t.tp_comm_overlap, false);
  assert.equal(t.attention_dropout, 0);
  assert.equal(t.fp8_recipe, 'delayed');
});

test('bad values: one line naming the file, the field and what is allowed, exit 2', () => {
  const cases: [string, string, RegExp][] = [
    ['b1', '  tp_comm_overlap: yes', /training\.tp_comm_overlap: must be true or false \(got "yes"\)$/],
    ['b2', '  moe_expert_capacity_factor: 0', /training\.moe_expert_capacity_factor: must be a number >= 0\.01 \(got 0\)$/],
    ['b3', '  moe_routing_imbalance: 0.5', /training\.moe_routing_imbalance: must be a number >= 1 \(got 0\.5\)$/],
    ['b4', '  recompute_modules: [core_attn, shared_experts]', /training\.recompute_modules: must be a list of distinct values from core_attn, layernorm, mla_up_proj, mlp, moe, moe_act/],
    ['b5', '  cross_entropy_fusion_impl: fast', /training\.cross_entropy_fusion_impl: must be one of native, te \(got "fast"\)$/],
    ['b6', '  attention_dropout: 1.5', /training\.attention_dropout: must be a number from 0 to 1 \(got 1\.5\)$/],
    ['b7', '  exp_avg_dtype: int8', /training\.exp_avg_dtype: must be one of fp32, fp16, bf16, fp8 \(got "int8"\)$/],
    ['b8', '  exp_avg_dtype: bf16', /training\.exp_avg_dtype: needs use_precision_aware_optimizer: true \(got bf16\)$/],
    ['b9', '  delay_wgrad_compute: true', /training\.delay_wgrad_compute: needs overlap_moe_expert_parallel_comm: true/],
    ['b10', '  moe_router_force_load_balancing: true\n  moe_routing_imbalance: 1.3', /training\.moe_routing_imbalance: must be 1 or unset with moe_router_force_load_balancing/],
    ['b11', '  cross_entropy_loss_fusion: true\n  cross_entropy_fusion_impl: te', /training\.cross_entropy_fusion_impl: must be native with cross_entropy_loss_fusion/],
    ['b12', '  recompute_modules: [mla_up_proj]', /training\.recompute_modules: mla_up_proj needs a model with multi_latent_attention$/],
    ['b13', '  cuda_graph_impl: full_iteration', /training\.cuda_graph_impl: must be one of none, local, transformer_engine/],
    ['b14', '  cuda_graph_modules: [attn]', /training\.cuda_graph_modules: has no effect with cuda_graph_impl none/],
    ['b15', '  overlap_moe_expert_parallel_comm: true\n  recompute_modules: [moe]', /training\.recompute_modules: must not hold moe with overlap_moe_expert_parallel_comm/],
    ['b16', '  fp8_recipe: custom', /training\.fp8_recipe: must be one of tensorwise, delayed, mxfp8, blockwise/],
    ['b17', '  tp_comm_overlaps: true', /training\.tp_comm_overlaps: unknown field \(did you mean tp_comm_overlap\?\)$/],
  ];
  for (const [name, lines, re] of cases) {
    const f = jobFile(`${name}.yaml`, lines);
    const r = moefold('tune', f, '--dry-run');
    assert.equal(r.status, 2, `${name}: ${r.stderr}`);
    const err = r.stderr.trim();
    assert.equal(err.split('\n').length, 1, `${name}: ${err}`);
    assert.ok(err.startsWith(`${f}: `), err);
    assert.match(err, re, name);
  }
  const dense = jobFile('b18.yaml', '  recompute_modules: [moe_act]', LLAMA);
  assert.match(moefold('tune', dense, '--dry-run').stderr, /training\.recompute_modules: moe_act needs an MoE model/);
});

test('command-line overrides: --<flag> VALUE for every field (true/false, commas for lists, null for the default)', () => {
  const over = (stack: Record<string, unknown>) => loadJob(MIXTRAL, { gpus: 128, stack }).training;
  assert.equal(over({ tp_comm_overlap: false }).tp_comm_overlap, false);
  const f = jobFile('o.yaml', '  moe_expert_capacity_factor: 2');
  assert.equal(loadJob(f, { stack: { moe_expert_capacity_factor: null } }).training.moe_expert_capacity_factor, null);
  // through the CLI: the score moves and the flag is in the launch
  const plan = ['--plan', 'tp=2,pp=8,vpp=7,ep=8,etp=1', '--format', 'json'];
  const base = JSON.parse(moefold('score', MIXTRAL, '--gpus', '128', ...plan).stdout);
  const r = moefold('score', MIXTRAL, '--gpus', '128', ...plan, '--moe-router-force-load-balancing', 'true',
    '--recompute-modules', 'core_attn,moe_act', '--grad-reduce-in-bf16', 'true', '--tp-comm-overlap', 'false');
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  const planOf = (x: { plans?: unknown[] } & Record<string, unknown>) => (x.plans?.[0] ?? x) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const e0 = planOf(base).estimate;
  const e1 = planOf(got).estimate;
  assert.ok(e1.time_breakdown_s.experts < e0.time_breakdown_s.experts);
  assert.ok(e1.time_breakdown_s.tp_comm > e0.time_breakdown_s.tp_comm);
  assert.ok(e1.memory_breakdown_gib.gradients < e0.memory_breakdown_gib.gradients);
  const args: string[] = planOf(got).launch.megatron_args;
  assert.ok(args.includes('--moe-router-force-load-balancing') && args.includes('--grad-reduce-in-bf16') && !args.includes('--tp-comm-overlap'));
  // the result (and so plans.json) records the stack in its training section
  const t = moefold('tune', MIXTRAL, '--gpus', '128', '--top', '1', '--format', 'json', '--quiet', '--workers', '0',
    '--moe-router-force-load-balancing', 'true');
  assert.equal(JSON.parse(t.stdout).training.moe_router_force_load_balancing, true);
  // bad flag values: one line naming the flag
  for (const [flag, value, re] of [['--tp-comm-overlap', 'maybe', /--tp-comm-overlap: must be true or false \(got "maybe"\)/],
    ['--moe-expert-capacity-factor', 'big', /--moe-expert-capacity-factor: must be a number from 0\.01 to 64 \(got "big"\)/],
    ['--recompute-modules', 'core_attn,everything', /--recompute-modules: must be a list of distinct values/]] as const) {
    const bad = moefold('score', MIXTRAL, '--gpus', '128', ...plan, flag, value);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr.trim(), re);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  }
  const none = moefold('score', MIXTRAL, '--gpus', '128', ...plan, '--grad-reduce-in-bf16');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--grad-reduce-in-bf16: needs a value \(true or false\)/);
});

test('moefold check: a changed stack fact is a changed job; --explain lists the fields not modelled', () => {
  const a = loadJob(MIXTRAL, { gpus: 128 });
  const b = loadJob(MIXTRAL, { gpus: 128, stack: { grad_reduce_in_bf16: true, recompute_modules: ['core_attn'] } });
  assert.deepEqual(jobChanges(a, b).map((c) => c.field), ['training.grad_reduce_in_bf16', 'training.recompute_modules']);
  assert.deepEqual(jobChanges(a, loadJob(MIXTRAL, { gpus: 128 })), []);
  const r = moefold('score', MIXTRAL, '--gpus', '128', '--plan', 'tp=2,pp=8,vpp=7,ep=8,etp=1', '--cuda-graph-impl', 'local');
  assert.match(r.stdout, /stack facts not modelled \(accepted and exported\): .*cuda_graph_impl local/);
});
