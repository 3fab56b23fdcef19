/**
 * The fine-tuning fields of a job (src/job/finetune.ts): defaults, derived values, every refusal's one line, and the
 * resolved form reading back (a plans file stores it). Jobs come from fixtures/finetune/*.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadJob, jobFromObject } from '../../src/job/load-job.js';
import { REPO_ROOT } from '../../src/paths.js';
import { messageOf } from '../job/load-model.js';

const LLAMA = path.join(REPO_ROOT, 'fixtures/finetune/llama2-7b-codebook-2bit.yaml');
const DSV3 = path.join(REPO_ROOT, 'fixtures/finetune/deepseek-v3-lora-fp8.yaml');
const MIXTRAL_TRAIN = path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml');

/** The fixture's document with its training section changed by `edit` (the model path stays relative to it). */
function withTraining(file: string, edit: (t: Record<string, unknown>) => void): () => unknown {
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const t = { ...(doc.training as Record<string, unknown>) };
  if (t.base_weights) t.base_weights = { ...(t.base_weights as Record<string, unknown>) };
  edit(t);
  return () => jobFromObject({ ...doc, training: t }, file);
}
const bw = (t: Record<string, unknown>) => t.base_weights as Record<string, unknown>;

test('a codebook job resolves: 2 bits/weight derived from 1 codebook × log2(65536) / 8, decode per GEMM, Bridge targets', () => {
  const t = loadJob(LLAMA).training;
  assert.equal(t.frozen, true);
  assert.deepEqual(t.base_weights, {
    format: 'codebook', bits_per_weight: 2, group_size: 4096, scale_bytes: 2, codebook_size: 65536, codebook_dim: 8,
    codebooks_per_tensor: 1, codebook_entry_bytes: 2, decode: 'per_gemm',
  });
  assert.equal(t.lora_rank, 16);
  assert.deepEqual(t.lora_target_modules, ['linear_qkv', 'linear_proj', 'linear_fc1', 'linear_fc2']);
  assert.equal(t.lora_share_expert_adapters, true);
});

test("an MLA model's default LoRA targets are Bridge's that it has (no linear_qkv); fp8 base keeps decode none", () => {
  const t = loadJob(DSV3).training;
  assert.deepEqual(t.lora_target_modules, ['linear_proj', 'linear_fc1', 'linear_fc2']);
  assert.equal(t.base_weights.format, 'fp8');
  assert.equal(t.base_weights.bits_per_weight, 8);
  assert.equal(t.base_weights.decode, 'none');
});

test('a training job has no fine-tuning: frozen false, bf16 base, no adapters', () => {
  const t = loadJob(MIXTRAL_TRAIN, { gpus: 128 }).training;
  assert.equal(t.frozen, false);
  assert.equal(t.lora_rank, 0);
  assert.equal(t.base_weights.format, 'bf16');
});

test('the resolved fine-tuning fields read back unchanged (a plans file stores job.training as resolved)', () => {
  for (const file of [LLAMA, DSV3]) {
    const job = loadJob(file);
    const again = jobFromObject({ model: job.model, training: job.training, cluster: job.cluster }, file);
    assert.deepEqual(again.training, job.training);
  }
});

test('a base without scale groups resolves to scale_bytes 0 and reads back (int4, fp8, codebook with group_size 0)', () => {
  for (const base of [{ format: 'int4', group_size: 0 }, { format: 'codebook', codebook_size: 256, codebook_dim: 2 }]) {
    const job = withTraining(LLAMA, (t) => { t.base_weights = base; })() as ReturnType<typeof loadJob>;
    assert.equal(job.training.base_weights.scale_bytes, 0);
    const again = jobFromObject({ model: job.model, training: job.training, cluster: job.cluster }, LLAMA);
    assert.deepEqual(again.training, job.training);
  }
  const dsv3 = withTraining(DSV3, (t) => { t.base_weights = { format: 'fp8', group_size: 0 }; })() as ReturnType<typeof loadJob>;
  assert.equal(dsv3.training.base_weights.scale_bytes, 0);
});

test('bad fine-tuning fields: one line naming the file, the field and what is allowed', () => {
  const cases: [string, (t: Record<string, unknown>) => void, string][] = [
    [LLAMA, (t) => { t.lora_rank = 0; }, 'training.lora_rank: must be >= 1 with frozen: true (a frozen base with no adapters trains nothing)'],
    [LLAMA, (t) => { t.frozen = false; }, 'training.frozen: must be true with base_weights.format codebook: compressed weights are not trained'],
    [LLAMA, (t) => { delete bw(t).codebook_dim; }, 'training.base_weights.codebook_dim: is required with format codebook (entries per codebook, values per entry)'],
    [LLAMA, (t) => { bw(t).decode = 'none'; }, 'training.base_weights.decode: must be per_gemm or resident (got "none")'],
    [LLAMA, (t) => { bw(t).codebook_dim = 0; }, 'training.base_weights.codebook_dim: must be an integer from 1 to 1024 (got 0)'],
    [LLAMA, (t) => { bw(t).codebooks = 2; }, 'training.base_weights.codebooks: unknown field (allowed: format, bits_per_weight, group_size, scale_bytes, codebook_size, codebook_dim, codebooks_per_tensor, codebook_entry_bytes, decode)'],
    [LLAMA, (t) => { bw(t).codebook_size = 1_048_576; bw(t).codebook_dim = 1; }, 'training.base_weights.bits_per_weight: must be <= 16 (codebooks_per_tensor·log2(codebook_size)/codebook_dim = 20: no compression)'],
    [LLAMA, (t) => { t.precision = 'fp8'; }, 'training.base_weights.format: codebook weights decode to bf16: moefold prices their GEMMs in bf16 only (set training.precision bf16)'],
    [LLAMA, (t) => { t.base_weights = { format: 'int4', codebook_size: 16 }; }, 'training.base_weights.codebook_size: is a codebook field: only with format codebook (got format int4)'],
    [LLAMA, (t) => { t.base_weights = { format: 'int4', bits_per_weight: 3 }; }, 'training.base_weights.bits_per_weight: must be 4 with format int4 (got 3)'],
    [DSV3, (t) => { t.precision = 'bf16'; }, 'training.base_weights.format: fp8 base weights feed FP8 GEMMs: set training.precision fp8'],
    [DSV3, (t) => { t.lora_target_modules = ['linear_qkv']; }, 'training.lora_target_modules: linear_qkv is not a module of this model (its modules: linear_proj, linear_fc1, linear_fc2, linear_q_down_proj, linear_q_up_proj, linear_kv_down_proj, linear_kv_up_proj)'],
    [DSV3, (t) => { t.frozen = false; t.base_weights = { format: 'bf16' }; }, "training.frozen: must be true with lora_rank > 0 (Megatron-Bridge's PEFT freezes the base model)"],
    [DSV3, (t) => { t.lora_target_modules = ['linear_fc3']; }, 'training.lora_target_modules: must be a list of distinct values from linear_qkv, linear_proj, linear_fc1, linear_fc2, linear_q_proj, linear_q_down_proj, linear_q_up_proj, linear_kv_down_proj, linear_kv_up_proj (got ["linear_fc3"])'],
  ];
  for (const [file, edit, want] of cases) assert.equal(messageOf(withTraining(file, edit)), `${file}: ${want}`);
});
