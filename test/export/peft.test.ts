/**
 * Fine-tuning exports (issue 16): the Megatron-Bridge LoRA export (PEFT recipe, --mode lora, peft.* keys, what a
 * PEFT recipe cannot take), and the refusals of the launchers that cannot run a frozen / LoRA / compressed job, as
 * exportPlan and the plan JSON's `launch` give them. Jobs are fixtures/finetune/*.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPORT_FORMATS, exportPlan, type ExportFormat } from '../../src/export/index.js';
import { BRIDGE_PEFT_RECIPES, matchBridgePeftRecipe } from '../../src/export/bridge-recipes.js';
import { planLaunchJson } from '../../src/plans/result.js';
import { renderExplain } from '../../src/render/explain.js';
import { newEstimate } from '../../src/cost/estimate.js';
import { REPO_ROOT } from '../../src/paths.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { fixtureJob, planFor, shapeOf, type Mapping } from './jobs.js';
import { moefold } from '../cli/run-cli.js';

const LLAMA = 'fixtures/finetune/llama3-70b-lora.yaml';
const QWEN = 'fixtures/finetune/qwen3-30b-a3b-lora.yaml';
const CODEBOOK_LLAMA2 = 'fixtures/finetune/llama2-7b-codebook-2bit.yaml';
const CODEBOOK_MIXTRAL = 'fixtures/finetune/mixtral-8x22b-lora-codebook.yaml';
const FP8_DEEPSEEK = 'fixtures/finetune/deepseek-v3-lora-fp8.yaml';

const base: Omit<Mapping, 'tp' | 'ep' | 'etp' | 'pp' | 'firstStageLayers' | 'lastStageLayers'> = {
  cp: 1, vpp: 1, microBatchSize: 1, recompute: 'none', dispatcher: 'alltoall',
  sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
};

/** Llama 3 70B LoRA on 8 GPUs: TP4 DP2, 4 micro-batches of 1. */
function llama(over: Partial<Mapping> = {}): { job: Job; plan: Plan } {
  const job = fixtureJob(LLAMA);
  return { job, plan: planFor(job, { ...base, tp: 4, ep: 1, etp: 4, pp: 1, firstStageLayers: 80, lastStageLayers: 80, ...over }) };
}

/** Qwen3-30B-A3B LoRA on 4 GPUs: TP1 DP4 EP4, 8 micro-batches of 1. */
function qwen(over: Partial<Mapping> = {}): { job: Job; plan: Plan } {
  const job = fixtureJob(QWEN);
  return {
    job,
    plan: planFor(job, { ...base, tp: 1, ep: 4, etp: 1, pp: 1, firstStageLayers: 48, lastStageLayers: 48, sequenceParallel: false, ...over }),
  };
}

function exportText(format: ExportFormat, c: { job: Job; plan: Plan }): string {
  return exportPlan(format, c.job, shapeOf(c.job), c.plan);
}

/** The override lines of a megatron-bridge export, parsed back: key → value as written. */
function overrides(c: { job: Job; plan: Plan }): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of exportText('megatron-bridge', c).split('\n')) {
    if (l === '' || l.startsWith('#')) continue;
    const eq = l.indexOf('=');
    assert.ok(eq > 0, l);
    assert.ok(!out.has(l.slice(0, eq)), `key written twice: ${l}`);
    out.set(l.slice(0, eq), l.slice(eq + 1));
  }
  return out;
}

interface Snapshot { sections: Record<string, Record<string, unknown>>; dict_sections: string[] }
const SNAPSHOT = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'data', 'upstream', 'megatron-bridge-067f987.json'), 'utf8')) as Snapshot;
/** The LoRA dataclass fields the export writes (Megatron-Bridge 067f987 src/megatron/bridge/peft/lora.py L143-157). */
const LORA_FIELDS = new Set(['dim', 'alpha', 'target_modules', 'share_expert_adapters']);

/** Keys that are neither a snapshot field under the recipe's nesting nor a LoRA field (the preset name is its own key). */
function unknownKeys(kv: Map<string, string>, nesting: 'provider' | 'builder'): string[] {
  return [...kv.keys()].filter((key) => {
    if (key === 'mixed_precision') return false;
    const k = key.replace(/^\+\+/, '');
    if (k.startsWith('peft.')) return !LORA_FIELDS.has(k.slice(5));
    const [section, ...rest] = k.startsWith('model.transformer.') ? ['model.transformer@builder', k.slice(18)] : k.split('.');
    const sec = section === 'model' ? `model@${nesting}` : section;
    if (SNAPSHOT.dict_sections.includes(sec)) return !key.startsWith('++');
    return SNAPSHOT.sections[sec]?.[rest.join('.')] === undefined;
  });
}

test('PEFT recipes: each fixture model with a Bridge PEFT recipe matches it by architecture; the others have none', () => {
  const want: Record<string, string> = {
    'llama3-70b': 'llama3_70b_peft_config', 'llama3.1-405b': 'llama31_405b_peft_32gpu_h100_bf16_config',
    'qwen3-30b-a3b': 'qwen3_30b_a3b_peft_4gpu_h100_bf16_config', 'qwen3-235b-a22b': 'qwen3_235b_a22b_peft_16gpu_h100_bf16_config',
  };
  for (const [f, recipe] of Object.entries(want)) {
    const m = matchBridgePeftRecipe(fixtureJob(`fixtures/models/${f}.yaml`).model);
    assert.ok('recipe' in m && m.recipe.recipe === recipe, f);
  }
  for (const f of ['mixtral-8x22b', 'mixtral-8x7b', 'deepseek-v3', 'gpt3-175b']) {
    assert.ok('why' in matchBridgePeftRecipe(fixtureJob(`fixtures/models/${f}.yaml`).model), f);
  }
  assert.ok('why' in matchBridgePeftRecipe(fixtureJob(CODEBOOK_LLAMA2).model), 'llama2-7b');
  assert.equal(new Set(BRIDGE_PEFT_RECIPES.map((r) => r.recipe)).size, BRIDGE_PEFT_RECIPES.length);
});

test('Llama 3 70B LoRA: the PEFT recipe with --mode lora, the job\'s peft keys, the preset precision, no comm_overlap keys', () => {
  const c = llama();
  const text = exportText('megatron-bridge', c);
  assert.match(text, /run_recipe\.py --recipe llama3_70b_peft_config --mode lora \\\n# {5}--pretrained_checkpoint \/path\/to\/base-checkpoint "\$\{OVERRIDES\[@\]\}"\n/);
  assert.match(text, /# LoRA \(--mode lora\): rank 16, alpha 32, on linear_qkv, linear_proj, linear_fc1, linear_fc2; the base model is frozen\.\n/);
  const kv = overrides(c);
  assert.equal(kv.get('peft.dim'), '16');
  assert.equal(kv.get('peft.alpha'), '32');
  assert.equal(kv.get('peft.target_modules'), '[linear_qkv,linear_proj,linear_fc1,linear_fc2]');
  assert.equal(kv.has('peft.share_expert_adapters'), false, 'dense: no expert adapters');
  // the recipe's cfg.mixed_precision is the preset name "bf16_mixed": the name, no mixed_precision.<field>
  assert.equal(kv.get('mixed_precision'), 'bf16_mixed');
  assert.deepEqual([...kv.keys()].filter((k) => k.startsWith('mixed_precision.')), []);
  // _peft_common's comm_overlap is None: the overlap switches go on the model (TransformerConfig under model.transformer)
  assert.deepEqual([...kv.keys()].filter((k) => k.startsWith('comm_overlap.')), []);
  assert.equal(kv.get('model.transformer.tp_comm_overlap'), 'true');
  assert.equal(kv.get('model.transformer.tensor_model_parallel_size'), '4');
  assert.equal(kv.get('train.micro_batch_size'), '1');
  assert.equal(kv.get('dataset.seq_length'), '4096');
  // the base checkpoint: never a written key (the header tells how to pass it), never an interpolation
  assert.equal([...kv.keys()].some((k) => k.startsWith('checkpoint.')), false);
  assert.equal(text.includes('${PRETRAINED'), false);
  assert.deepEqual(unknownKeys(kv, 'builder'), []);
});

test('Qwen3-30B-A3B LoRA: the MoE PEFT recipe, share_expert_adapters, the recipe\'s MixedPrecisionConfig fields', () => {
  const c = qwen();
  const text = exportText('megatron-bridge', c);
  assert.match(text, /--recipe qwen3_30b_a3b_peft_4gpu_h100_bf16_config --mode lora \\\n/);
  const kv = overrides(c);
  assert.equal(kv.get('peft.dim'), '8');
  assert.equal(kv.get('peft.alpha'), '16');
  assert.equal(kv.get('peft.target_modules'), '[linear_qkv,linear_proj]');
  assert.equal(kv.get('peft.share_expert_adapters'), 'true');
  assert.equal(kv.get('model.expert_model_parallel_size'), '4');
  assert.equal(kv.get('mixed_precision.bf16'), 'true');
  assert.equal(kv.has('mixed_precision'), false);
  assert.deepEqual([...kv.keys()].filter((k) => k.startsWith('comm_overlap.')), []);
  assert.deepEqual(unknownKeys(kv, 'provider'), []);
  // per-expert adapters when the job asks for them
  const per = qwen();
  per.job.training.lora_share_expert_adapters = false;
  assert.equal(overrides(per).get('peft.share_expert_adapters'), 'false');
});

test('a plain training job keeps the pre-training recipe, --mode pretrain and no peft keys', () => {
  const job = fixtureJob('fixtures/models/qwen3-30b-a3b.yaml');
  const plan = planFor(job, { ...base, tp: 1, ep: 8, etp: 1, pp: 1, firstStageLayers: 48, lastStageLayers: 48, sequenceParallel: false, precision: 'fp8' });
  const text = exportText('megatron-bridge', { job, plan });
  assert.match(text, /--recipe qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config --mode pretrain "\$\{OVERRIDES\[@\]\}"\n/);
  assert.equal(/^peft\./m.test(text), false);
  assert.match(text, /^comm_overlap\.tp_comm_overlap=/m);
  assert.equal(typeof (planLaunchJson(job, shapeOf(job), plan) as { megatron_args?: unknown }).megatron_args, 'object');
});

const MEGATRON_LM_LORA = "a LoRA run on a frozen base: Megatron-LM's pretrain_gpt.py has no LoRA adapters and no frozen base, "
  + 'so this launch would train every weight of the model (use --format megatron-bridge)';

test('refusals: Megatron-LM launchers and torchtitan for a LoRA job, one line each', () => {
  const c = llama();
  for (const f of ['megatron', 'torchrun', 'slurm'] as const) {
    assert.throws(() => exportText(f, c), { name: 'InputError', message: `${LLAMA}: export: ${f} cannot launch ${MEGATRON_LM_LORA}` });
  }
  assert.throws(() => exportText('torchtitan', c), {
    name: 'InputError',
    message: `${LLAMA}: export: torchtitan cannot launch a LoRA run on a frozen base: torchtitan v0.2.2 has no LoRA adapters and no way to freeze the base (its job config has neither)`,
  });
});

test('refusals: codebook and int4 bases on every format; an fp8 base and models without a PEFT recipe on Bridge', () => {
  const cb = fixtureJob(CODEBOOK_LLAMA2);
  const cbPlan = planFor(cb, { ...base, tp: 1, ep: 1, etp: 1, pp: 1, firstStageLayers: 32, lastStageLayers: 32, sequenceParallel: false });
  for (const f of EXPORT_FORMATS) {
    assert.throws(() => exportText(f, { job: cb, plan: cbPlan }), {
      name: 'InputError',
      message: `${CODEBOOK_LLAMA2}: export: ${f} cannot launch codebook base weights (base_weights.format codebook): no launcher moefold `
        + 'exports to (Megatron-LM, Megatron-Bridge, torchtitan) loads codebook-compressed weights for training',
    });
  }
  const mx = fixtureJob(CODEBOOK_MIXTRAL);
  const mxPlan = planFor(mx, { ...base, tp: 2, ep: 8, etp: 1, pp: 2, firstStageLayers: 28, lastStageLayers: 28 });
  assert.throws(() => exportText('megatron-bridge', { job: mx, plan: mxPlan }), /export: megatron-bridge cannot launch codebook base weights/);
  const int4 = fixtureJob(CODEBOOK_LLAMA2);
  int4.training.base_weights = { ...int4.training.base_weights, format: 'int4', codebook_size: 0, codebook_dim: 0, codebooks_per_tensor: 0 };
  assert.throws(() => exportText('megatron-bridge', { job: int4, plan: cbPlan }), /megatron-bridge cannot launch int4 base weights \(base_weights\.format int4\): .* loads int4 group-quantised weights for training$/);
  // the same Llama 2 with a bf16 base: Bridge has no PEFT recipe for it
  const bf = fixtureJob(CODEBOOK_LLAMA2);
  bf.training.base_weights = { ...bf.training.base_weights, format: 'bf16' };
  assert.throws(() => exportText('megatron-bridge', { job: bf, plan: cbPlan }), {
    name: 'InputError',
    message: new RegExp(`^${CODEBOOK_LLAMA2.replace(/\./g, '\\.')}: export: megatron-bridge has no PEFT \\(LoRA\\) recipe for Llama2-7B \\(32 layers, hidden 4096, 0 experts\\); it has recipes for Llama3-70B, Llama3\\.1-405B, Qwen3-30B-A3B, Qwen3-235B-A22B$`),
  });
  const ds = fixtureJob(FP8_DEEPSEEK);
  const dsPlan = planFor(ds, { ...base, tp: 1, ep: 64, etp: 1, pp: 4, firstStageLayers: 16, lastStageLayers: 15, sequenceParallel: false, precision: 'fp8' });
  assert.throws(() => exportText('megatron-bridge', { job: ds, plan: dsPlan }), {
    name: 'InputError',
    message: `${FP8_DEEPSEEK}: export: megatron-bridge cannot launch an fp8 base kept in FP8: Megatron-Bridge dequantises an FP8 `
      + 'checkpoint to bf16 when it loads it (deepseek_v3_bridge.py _maybe_dequantize_fp8), and its PEFT recipes keep no FP8 weights, '
      + 'so the base would take twice the memory planned (plan it with base_weights.format bf16)',
  });
});

test('refusals: what a PEFT recipe cannot take (micro-batch > 1 with its packed data, fp8 on a preset precision, bf16 reduce)', () => {
  const bridge = (file: string, why: string) => ({ name: 'InputError', message: `${file}: export: megatron-bridge cannot express ${why}` });
  assert.throws(() => exportText('megatron-bridge', qwen({ microBatchSize: 2 })), bridge(QWEN,
    'micro-batch size 2 with qwen3_30b_a3b_peft_4gpu_h100_bf16_config: its dataset packs sequences offline (recipes/common.py '
    + '_peft_common), and Bridge then needs micro_batch_size 1 (training/config.py validate): tune with --fix mbs=1'));
  const preset = "llama3_70b_peft_config's mixed_precision is the preset name bf16_mixed (src/megatron/bridge/recipes/llama/h100/llama3.py), "
    + 'which has no fields to override';
  const fp8 = llama({ precision: 'fp8' });
  fp8.job.training.precision = 'fp8';
  assert.throws(() => exportText('megatron-bridge', fp8), bridge(LLAMA,
    `fp8 training on this PEFT recipe: ${preset} (and Bridge's fp8 presets use the hybrid format, not the plan's e4m3)`));
  const bf16Reduce = llama();
  bf16Reduce.job.training.grad_reduce_in_bf16 = true;
  assert.throws(() => exportText('megatron-bridge', bf16Reduce), bridge(LLAMA,
    `grad_reduce_in_bf16 on this PEFT recipe: ${preset}, and bf16_mixed reduces gradients in fp32`));
  const alpha = llama();
  alpha.job.training.lora_alpha = 2.5;
  assert.throws(() => exportText('megatron-bridge', alpha), bridge(LLAMA, "lora_alpha 2.5: Bridge's LoRA alpha is an integer (peft/lora.py LoRA.alpha: int)"));
  // the same jobs with what the recipe takes export (the refusals are these conditions, not the recipe)
  assert.doesNotThrow(() => exportText('megatron-bridge', qwen({ precision: 'fp8' })));
});

test('the plan JSON and --explain: a LoRA job\'s launch is the refusal, not a Megatron-LM argument list', () => {
  const c = llama();
  const launch = planLaunchJson(c.job, shapeOf(c.job), c.plan);
  assert.deepEqual(launch, { refused: MEGATRON_LM_LORA });
  const explain = renderExplain(c.job, c.plan, { ...newEstimate(), stepTimeS: 1, peakMemBytes: 1 }, 'Plan 1:', launch);
  assert.equal(explain.split('\n').at(-1), `launch: none (${MEGATRON_LM_LORA})`);
  const cb = fixtureJob(CODEBOOK_LLAMA2);
  const cbLaunch = planLaunchJson(cb, shapeOf(cb), planFor(cb, { ...base, tp: 1, ep: 1, etp: 1, pp: 1, firstStageLayers: 32, lastStageLayers: 32, sequenceParallel: false }));
  assert.ok('refused' in cbLaunch && cbLaunch.refused.startsWith('codebook base weights'));
});

test('tune on a LoRA job: JSON launch refused, --explain says so, --out writes the Bridge file and .refused.txt companions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-peft-'));
  try {
    const json = moefold('tune', LLAMA, '--format', 'json', '--no-timing', '--quiet', '--workers', '0', '--top', '2');
    assert.equal(json.status, 0, json.stderr);
    for (const p of JSON.parse(json.stdout).plans as { launch: unknown }[]) assert.deepEqual(p.launch, { refused: MEGATRON_LM_LORA });
    const table = moefold('tune', LLAMA, '--no-timing', '--quiet', '--workers', '0', '--top', '2', '--explain', '1',
      '--out', dir, '--export', 'torchrun,megatron-bridge,torchtitan');
    assert.equal(table.status, 0, table.stderr);
    assert.ok(table.stdout.includes(`\nlaunch: none (${MEGATRON_LM_LORA})\n`), table.stdout);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['plan-1.bridge-overrides.txt', 'plan-1.torchrun.sh.refused.txt', 'plan-1.torchtitan.toml.refused.txt',
      'plan-2.bridge-overrides.txt', 'plan-2.torchrun.sh.refused.txt', 'plan-2.torchtitan.toml.refused.txt', 'plans.json']);
    assert.equal(fs.readFileSync(path.join(dir, 'plan-1.torchrun.sh.refused.txt'), 'utf8'), `${LLAMA}: export: torchrun cannot launch ${MEGATRON_LM_LORA}\n`);
    assert.match(fs.readFileSync(path.join(dir, 'plan-1.bridge-overrides.txt'), 'utf8'), /^peft\.dim=16$/m);
    // the export command on a LoRA plans file: one line, exit 2
    const ex = moefold('export', path.join(dir, 'plans.json'), '--format', 'slurm');
    assert.equal(ex.status, 2);
    assert.match(ex.stderr, /slurm cannot launch a LoRA run on a frozen base/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
