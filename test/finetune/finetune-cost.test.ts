/**
 * The cost of fine-tuning on a frozen, compressed base (terms/base-weights.ts, terms/lora-adapters.ts), checked against
 * hand-computed figures for Llama 2 7B with a 2-bit codebook base (fixtures/finetune/llama2-7b-codebook-2bit.yaml).
 *
 * Llama 2 7B per layer: attention 4·4096² = 67,108,864 GEMM weights (q, k, v, o), MLP 3·4096·11008 = 135,266,304
 * (gate, up, down): 202,375,168 weights in 7 tensors; 32 layers → Pc = 6,476,005,376 compressed weights, 224 tensors.
 * All parameters: Pc + 2·32000·4096 (untied embedding and output layer) + 65·4096 (norms) = 6,738,415,616.
 * LoRA rank 16 on qkv (4096 → 12288), proj (4096 → 4096), fc1 (4096 → 22016), fc2 (11008 → 4096):
 * 16·(16384 + 8192 + 26112 + 15104) = 1,052,672 per layer, 33,685,504 in all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadJob } from '../../src/job/load-job.js';
import { REPO_ROOT } from '../../src/paths.js';
import { loadCalibration } from '../../src/cost/calibration.js';
import { makeScoreContext, scorePlan, staticMemoryBytes } from '../../src/cost/score.js';
import { newEstimate, type Estimate } from '../../src/cost/estimate.js';
import { modelShape } from '../../src/job/shape.js';
import { modelFlopsPerToken } from '../../src/cost/flops.js';
import { paddedVocabSize } from '../../src/job/params.js';
import { gemmTimeS } from '../../src/cost/gemm.js';
import { baseWeightParts } from '../../src/cost/finetune-shape.js';
import type { Job } from '../../src/job/types.js';
import { plan } from '../cost/fixtures.js';
import { moefold } from '../cli/run-cli.js';

const cal = loadCalibration('h100-sxm');
const LLAMA = path.join(REPO_ROOT, 'fixtures/finetune/llama2-7b-codebook-2bit.yaml');
const PC = 6_476_005_376;
const P = 6_738_415_616;
const ADAPTERS = 33_685_504;
const TENSORS = 224;
const CODEBOOK = 65536 * 8 * 2; // one codebook of 2^16 entries × 8 bf16 values per tensor
const STORED = 2 / 8 + 2 / 4096; // 2 index bits + one 2-byte scale per 4096 weights
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

function withTraining(job: Job, t: Partial<Job['training']>): Job {
  return { ...job, training: { ...job.training, ...t } };
}

function score(job: Job, mbs = 1, recompute: 'none' | 'full' = 'none'): Estimate {
  const ctx = makeScoreContext(job, modelShape(job.model), cal);
  return scorePlan(ctx, plan({ tp: 1, pp: 1, mbs, recompute }, 1, 32, job.training.global_batch_size), newEstimate());
}

test('Llama 2 7B with a 2-bit codebook: about 2 GB of base weights (indices + codebooks + scales + bf16 rest)', () => {
  const job = loadJob(LLAMA);
  const parts = baseWeightParts(job, modelShape(job.model), P);
  assert.equal(parts.compressedWeights, PC);
  assert.equal(parts.tensors, TENSORS);
  close(parts.indexBytes, PC / 4);
  close(parts.codebookBytes, TENSORS * CODEBOOK);
  close(parts.scaleBytes, (PC / 4096) * 2);
  close(parts.bf16Bytes, 2 * (P - PC));
  close(parts.totalBytes, PC * STORED + TENSORS * CODEBOOK + 2 * (P - PC));
  assert.ok(parts.totalBytes > 2.3e9 && parts.totalBytes < 2.45e9, String(parts.totalBytes)); // 2.38 GB
  assert.equal(parts.adapterParams, ADAPTERS);
});

test('the frozen base has no gradients or optimizer states: only the LoRA adapters do', () => {
  const job = loadJob(LLAMA);
  const e = score(job);
  close(e.mem.weightsBytes, 2 * (P - PC) + PC * STORED + TENSORS * CODEBOOK + 2 * ADAPTERS);
  close(e.mem.gradientsBytes, 4 * ADAPTERS); // fp32 main grads of the adapters
  close(e.mem.optimizerStatesBytes, 12 * ADAPTERS); // fp32 master + Adam m, v (DP 1)
  // the same model trained in full holds 2 + 4 + 12 B for every parameter
  const full = score(withTraining(job, { frozen: false, lora_rank: 0, base_weights: { ...job.training.base_weights, format: 'bf16', bits_per_weight: 16, group_size: 0, scale_bytes: 0, codebook_size: 0, codebook_dim: 0, codebooks_per_tensor: 0, codebook_entry_bytes: 0, decode: 'none' } }));
  close(full.mem.weightsBytes, 2 * P);
  close(full.mem.gradientsBytes, 4 * P);
  close(full.mem.optimizerStatesBytes, 12 * P);
  assert.equal(full.time.adaptersS, 0);
  assert.equal(full.time.baseDecodeS, 0);
});

test('per-GEMM decode streams the compressed weights and writes the bf16 tile twice per micro-batch (3× with full recompute)', () => {
  const job = loadJob(LLAMA);
  const m = job.training.global_batch_size; // MBS 1, DP 1
  const perLayer = (PC / 32) * STORED + 7 * CODEBOOK + 2 * (PC / 32);
  close(score(job).time.baseDecodeS, m * 32 * 2 * (perLayer / cal.hbmBytesPerS), 1e-9);
  close(score(job, 1, 'full').time.baseDecodeS, m * 32 * 3 * (perLayer / cal.hbmBytesPerS), 1e-9);
});

test('a resident decode holds the bf16 copy and decodes nothing per step', () => {
  const job = loadJob(LLAMA);
  const e = score(withTraining(job, { base_weights: { ...job.training.base_weights, decode: 'resident' } }));
  close(e.mem.weightsBytes, 2 * P + 2 * ADAPTERS);
  assert.equal(e.time.baseDecodeS, 0);
  assert.ok(e.mem.weightsBytes > score(job).mem.weightsBytes + 10e9);
});

test('a frozen weight runs no wgrad GEMM: the dense MLP term drops by one forward GEMM pass', () => {
  const job = loadJob(LLAMA);
  const bf16Lora = withTraining(job, { base_weights: { ...job.training.base_weights, format: 'bf16', bits_per_weight: 16, group_size: 0, scale_bytes: 0, codebook_size: 0, codebook_dim: 0, codebooks_per_tensor: 0, codebook_entry_bytes: 0, decode: 'none' } });
  const frozen = score(bf16Lora);
  const trained = score(withTraining(bf16Lora, { frozen: false, lora_rank: 0 }));
  const m = job.training.global_batch_size;
  const tok = 4096;
  const mlpGemmsF = gemmTimeS(tok, 2 * 11008, 4096, false, cal) + gemmTimeS(tok, 4096, 11008, false, cal);
  close(trained.time.denseMlpS - frozen.time.denseMlpS, m * 32 * mlpGemmsF, 1e-9);
  const projF = gemmTimeS(tok, 3 * 4096, 4096, false, cal) + gemmTimeS(tok, 4096, 4096, false, cal);
  close(trained.time.attentionS - frozen.time.attentionS, m * 32 * projF, 1e-9);
  assert.ok(frozen.time.adaptersS > 0);
  assert.equal(frozen.time.baseDecodeS, 0); // bf16 weights are read as they are
});

test("the step's FLOPs: no wgrad GEMMs (2 per weight a token passes) and the adapters' 6·r·(in + out)", () => {
  const job = loadJob(LLAMA);
  const shape = modelShape(job.model);
  const ctx = makeScoreContext(job, shape, cal);
  const train = modelFlopsPerToken(job.model, shape, 4096, paddedVocabSize(job.model, 1));
  close(ctx.flopsPerToken, train - 2 * (PC + 4096 * 32000) + 6 * ADAPTERS);
});

test('the static memory bound stays below the scored device figure for frozen plans', () => {
  const job = loadJob(LLAMA);
  const ctx = makeScoreContext(job, modelShape(job.model), cal);
  for (const mbs of [1, 2, 4, 8]) {
    const p = plan({ tp: 1, pp: 1, mbs }, 1, 32, 8);
    const e = scorePlan(ctx, p, newEstimate());
    assert.ok(staticMemoryBytes(ctx, p) <= e.peakMemBytes);
  }
});

test('tune: LoRA on a 2-bit Mixtral 8x22B fits on one 8-GPU node, where full training finds no plan on 32 GPUs', () => {
  const lora = moefold('tune', 'fixtures/finetune/mixtral-8x22b-lora-codebook.yaml', '--gpus', '8', '--format', 'json', '--quiet', '--top', '1');
  assert.equal(lora.status, 0, lora.stderr);
  const best = (JSON.parse(lora.stdout) as { plans: { estimate: { fits: boolean } }[] }).plans[0];
  assert.equal(best.estimate.fits, true);
  const full = moefold('tune', 'fixtures/models/mixtral-8x22b.yaml', '--gpus', '32', '--format', 'json', '--quiet', '--top', '1');
  assert.notEqual(full.status, 0);
  assert.match(full.stderr, /fit/);
});
