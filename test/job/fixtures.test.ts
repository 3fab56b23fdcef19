/** Every model fixture loads; Mixtral-8x22B, DeepSeek-V3 and GPT-3 are checked against hand-worked values. */
import { defaultFinetune } from '../../src/job/finetune.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../../src/paths.js';
import { describeJob } from '../../src/job/describe.js';
import { jobFromObject, loadJob } from '../../src/job/load-job.js';
import { countParams } from '../../src/job/params.js';
import { modelShape } from '../../src/job/shape.js';
import { makeCostModelsDir } from './cost-models-dir.js';
import { defaultStack } from '../../src/job/stack.js';

process.chdir(REPO_ROOT);
const costModelsDir = makeCostModelsDir();
const opts = { costModelsDir };
const M = 'fixtures/models';

test('every model fixture loads, and survives a round trip through jobFromObject', () => {
  const files = fs.readdirSync(M).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 8, `expected at least 8 model fixtures, found ${files.length}`);
  for (const f of files) {
    const job = loadJob(`${M}/${f}`, { gpus: 64 }, opts);
    assert.equal(job.cluster.gpus, 64);
    const again = jobFromObject(JSON.parse(JSON.stringify({ model: job.model, training: job.training, cluster: job.cluster })), 'plans.json', {}, opts);
    assert.deepEqual(again.model, job.model, f);
    assert.deepEqual(again.training, job.training, f);
    assert.deepEqual(again.cluster, job.cluster, f);
  }
});

test('Mixtral-8x22B: resolved fields, defaults, shape, parameter counts, description', () => {
  const job = loadJob(`${M}/mixtral-8x22b.yaml`, {}, opts);
  const m = job.model;
  assert.equal(m.name, 'Mixtral-8x22B');
  assert.equal(m.num_layers, 56);
  assert.equal(m.hidden_size, 6144);
  assert.equal(m.num_query_groups, 8);
  assert.equal(m.kv_channels, 128); // default: 6144 / 48
  assert.equal(m.moe_ffn_hidden_size, 16384); // default: ffn_hidden_size
  assert.equal(m.moe_layer_freq, 1);
  assert.equal(m.moe_shared_expert_intermediate_size, 0);
  assert.equal(m.make_vocab_size_divisible_by, 128);
  assert.equal(m.multi_latent_attention, false);
  assert.equal(m.mtp_num_layers, 0);
  // the fixture sets the model's dropout (none); the other stack fields keep their defaults
  assert.deepEqual(job.training, { seq_length: 4096, global_batch_size: 256, precision: 'bf16', ...defaultStack(), ...defaultFinetune(), attention_dropout: 0, hidden_dropout: 0 });
  assert.equal(m.rotary_base, 1_000_000);
  assert.equal(m.norm_epsilon, 1e-5);
  assert.equal(m.rope_scaling, null);
  assert.equal(m.moe_shared_expert_gate, false);
  assert.deepEqual(job.cluster, { gpu: 'h100-sxm', gpus: 128, gpus_per_node: 8 });

  const shape = modelShape(m);
  assert.equal(shape.isMoe, true);
  assert.equal(shape.numMoeLayers, 56);
  assert.equal(shape.numDenseLayers, 0);

  // By hand: attention 2·6144·128·48 + 2·6144·128·8 = 88,080,384; MoE layer 2·6144·(16384·8·1.5 + 1)
  // + attention + router 6144·8 = 2,504,060,928; × 56 layers + embeddings 2·6144·32768 + final norm 6144.
  const p = countParams(m);
  assert.equal(p.total, 140_630_071_296);
  // Active: experts 16384·2·1.5 instead of ·8: 692,121,600 per layer.
  assert.equal(p.active, 39_161_468_928);
  assert.equal(p.embedding, 402_653_184);
  assert.equal(
    describeJob(job),
    'Mixtral-8x22B (141B params, 39B active, 8 experts top-2) · seq 4096 · GBS 256 · bf16 · 128 × h100-sxm (16 nodes × 8)',
  );
});

test('DeepSeek-V3: 58 MoE layers after 3 dense ones, MLA, about 671B / 37B parameters', () => {
  const job = loadJob(`${M}/deepseek-v3.yaml`, {}, opts);
  const m = job.model;
  const shape = modelShape(m);
  assert.equal(shape.numMoeLayers, 58);
  assert.equal(shape.numDenseLayers, 3);
  assert.deepEqual([...shape.moeLayerMask.slice(0, 5)], [0, 0, 0, 1, 1]);
  assert.equal(shape.moeLayerMask[60], 1);
  assert.equal(m.multi_latent_attention, true);
  assert.deepEqual([m.q_lora_rank, m.kv_lora_rank, m.qk_head_dim, m.qk_pos_emb_head_dim, m.v_head_dim], [1536, 512, 128, 64, 128]);
  assert.equal(m.num_query_groups, 128); // default = heads
  assert.equal(m.moe_router_score_function, 'sigmoid');
  assert.equal(m.moe_router_topk_scaling_factor, 2.5);
  assert.equal(m.mtp_num_layers, 1);
  // cluster: ../clusters/h100-1024.yaml
  assert.deepEqual(job.cluster, { gpu: 'h100-sxm', gpus: 1024, gpus_per_node: 8 });

  const p = countParams(m);
  const mainTotal = p.total - p.mtpTotal;
  const mainActive = p.active - p.mtpActive;
  assert.ok(Math.abs(mainTotal / 671e9 - 1) < 0.01, `total ${mainTotal}`);
  assert.ok(Math.abs(mainActive / 37e9 - 1) < 0.03, `active ${mainActive}`);
  // The MTP layer is a copy of the last (MoE) layer: about 11.5B, which makes HF's 685B checkpoint size.
  assert.ok(p.mtpTotal > 11e9 && p.mtpTotal < 12e9, `mtp ${p.mtpTotal}`);
  assert.ok(Math.abs(p.total / 685e9 - 1) < 0.01, `total incl. MTP ${p.total}`);
  assert.equal(
    describeJob(job),
    'DeepSeek-V3 (671B params, 38B active, 256 experts top-8 + shared, MTP 1) · seq 4096 · GBS 8192 · fp8 · 1024 × h100-sxm (128 nodes × 8)',
  );
});

test('GPT-3 175B (dense, LayerNorm, GeLU, tied embeddings): exact parameter count', () => {
  const job = loadJob(`${M}/gpt3-175b.yaml`, {}, opts);
  const shape = modelShape(job.model);
  assert.equal(shape.isMoe, false);
  assert.equal(shape.numMoeLayers, 0);
  assert.ok(shape.moeLayerMask.every((x) => x === 0));
  // Layer: 2·12288·(49152·1 + 2) + 4·12288² = 1,208,008,704 + 603,979,776 = 1,811,988,480;
  // × 96 = 173,950,894,080; + embedding 12288·51200 = 629,145,600 (tied: once) + final LayerNorm 2·12288.
  const p = countParams(job.model);
  assert.equal(p.total, 174_580_064_256);
  assert.equal(p.active, p.total);
  assert.match(describeJob(job), /^GPT3-175B \(175B params, dense\) · seq 2048 · GBS 2048 · fp8 · 512 × h100-sxm \(64 nodes × 8\)$/);
});

test('published sizes of the other fixtures (Megatron count, within 3 %)', () => {
  const expected: Record<string, [number, number]> = {
    'mixtral-8x7b.yaml': [46.7e9, 12.9e9],
    'qwen2-57b-a14b.yaml': [57.4e9, 14.2e9],
    'qwen3-30b-a3b.yaml': [30.5e9, 3.3e9],
    'qwen3-235b-a22b.yaml': [235e9, 22e9],
    'llama3-70b.yaml': [70.6e9, 70.6e9],
  };
  for (const [f, [total, active]] of Object.entries(expected)) {
    const p = countParams(loadJob(`${M}/${f}`, { gpus: 8 }, opts).model);
    assert.ok(Math.abs(p.total / total - 1) < 0.03, `${f} total ${p.total}`);
    assert.ok(Math.abs(p.active / active - 1) < 0.03, `${f} active ${p.active}`);
  }
});

test('the flat form (Llama3-70B) reads the same as the nested form', () => {
  const flat = loadJob(`${M}/llama3-70b.yaml`, {}, opts);
  const doc = yaml.load(fs.readFileSync(`${M}/llama3-70b.yaml`, 'utf8')) as Record<string, unknown>;
  const { training, cluster, ...modelFields } = doc;
  assert.equal(modelFields.num_layers, 80);
  const nested = jobFromObject({ model: modelFields, training, cluster }, `${M}/llama3-70b.yaml`, {}, opts);
  assert.deepEqual(nested, flat);
  assert.equal(flat.model.num_experts, 0);
  assert.deepEqual(flat.training, { seq_length: 8192, global_batch_size: 128, precision: 'fp8', ...defaultStack(), ...defaultFinetune(), attention_dropout: 0, hidden_dropout: 0 });
});

test('the name defaults to the file name', () => {
  const job = jobFromObject({ model: { num_layers: 2, hidden_size: 64, num_attention_heads: 4, vocab_size: 100 }, cluster: { gpus: 8 } }, 'dir/my-model.yaml', {}, opts);
  assert.equal(job.model.name, 'my-model');
});
