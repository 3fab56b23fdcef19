import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../src/cost/calibration.js';
import {
  ADAM_FP32_STATE_BYTES_PER_PARAM, allocatorReserveBytes, fp8WeightCopyBytes, modelStateBytes, optimizerOwnedParams,
  weightBytes,
} from '../../src/cost/memory.js';

const cal = loadCalibration('h100-sxm');

/**
 * Megatron's own formula (theoretical_memory_usage.py, megatron.md §3.2), the reference the model state is checked
 * against: (T + Rep)·bytes(DP) + X·bytes(EDP) with bytes(n) = 18 without the distributed optimizer, 6 + 12/n with
 * it; DP there excludes CP.
 */
function megatronWeightOptimizerBytes(nonExpertParams: number, expertParams: number, dp: number, edp: number,
  distributedOptimizer: boolean): number {
  const b = (n: number): number => (distributedOptimizer ? 6 + 12 / n : 18);
  return nonExpertParams * b(dp) + expertParams * b(edp);
}

test("Megatron's formula: (6 + 12/DP) for non-expert, (6 + 12/EDP) for expert params; 18 without dist-opt", () => {
  assert.equal(megatronWeightOptimizerBytes(1e9, 2e9, 8, 2, true), 1e9 * (6 + 12 / 8) + 2e9 * (6 + 12 / 2));
  assert.equal(megatronWeightOptimizerBytes(1e9, 2e9, 8, 2, false), 3e9 * 18);
});

test('model state equals Megatron\'s formula when CP = 1, and shards dense state over DP x CP when CP > 1', () => {
  const out = { weights: 0, gradients: 0, optimizer: 0 };
  // Mixtral-8x22B TP2 PP8 EP8 first stage: 7 layers x (44.0M attention/TP + norms) + embedding/TP; experts 7 x 302M
  const dense = 7 * (88_080_384 / 2 + 2 * 6144) + (32768 * 6144) / 2;
  const expert = 7 * ((8 * 3 * 6144 * 16384) / 8);
  modelStateBytes(dense + expert, 0, optimizerOwnedParams(dense, expert, 8, 2, true), false, 4, 12, out);
  const ours = out.weights + out.gradients + out.optimizer;
  assert.equal(ours, megatronWeightOptimizerBytes(dense, expert, 8, 2, true));
  assert.equal(out.weights, 2 * (dense + expert));
  assert.equal(out.gradients, 4 * (dense + expert));
  // CP 2 with DP 4: the real optimizer shards dense states over 8 ranks; Megatron's formula divides by DP = 4 only
  modelStateBytes(dense + expert, 0, optimizerOwnedParams(dense, expert, 4 * 2, 2, true), false, 4, 12, out);
  const megatronCp = megatronWeightOptimizerBytes(dense, expert, 4, 2, true);
  assert.equal(megatronCp - (out.weights + out.gradients + out.optimizer), dense * (12 / 4 - 12 / 8));
  modelStateBytes(dense + expert, 0, optimizerOwnedParams(dense, expert, 8, 2, false), false, 4, 12, out);
  assert.equal(out.optimizer, 12 * (dense + expert));
});

test('model state with a run\'s own gradient and optimizer widths (bf16 grads, bf16 Adam moments)', () => {
  const out = { weights: 0, gradients: 0, optimizer: 0 };
  // 1e9 dense over DP x CP 8, 2e9 expert over EDP 2; bf16 grads (2 B) and fp32 master + bf16 m, v (8 B)
  modelStateBytes(1e9 + 2e9, 0, optimizerOwnedParams(1e9, 2e9, 8, 2, true), false, 2, 8, out);
  assert.equal(out.weights, 6e9);
  assert.equal(out.gradients, 6e9);
  assert.equal(out.optimizer, 8 * (1e9 / 8 + 2e9 / 2));
  assert.equal(ADAM_FP32_STATE_BYTES_PER_PARAM, 12);
});

test('owned parameters: dense / (DP x CP) + expert / EDP with the distributed optimizer, all without', () => {
  assert.equal(optimizerOwnedParams(8e9, 4e9, 8, 2, true), 1e9 + 2e9);
  assert.equal(optimizerOwnedParams(8e9, 4e9, 8, 2, false), 12e9);
});

test('FP8 weights: TE caches row-wise + transposed FP8 copies (2 B per GEMM param); with fp8 param gather the weight is FP8', () => {
  assert.equal(cal.fp8WeightCopyBytesPerParam, 2);
  // 10e9 params held, 8e9 of them GEMM weights
  assert.equal(fp8WeightCopyBytes(8e9, false, false, cal), 0); // bf16 plan: no copies
  assert.equal(fp8WeightCopyBytes(8e9, true, false, cal), 16e9); // 8e9 x (1 row-wise + 1 column-wise)
  assert.equal(weightBytes(10e9, 8e9, false), 20e9); // bf16 weights stay: 10e9 x 2
  // --fp8-param-gather: 2e9 x 2 (bf16 rest) + 8e9 x 1 (FP8 primary), + 8e9 x 1 transpose
  assert.equal(weightBytes(10e9, 8e9, true), 12e9);
  assert.equal(fp8WeightCopyBytes(8e9, true, true, cal), 8e9);
  // so an FP8 plan holds 36e9 B of weights without fp8 param gather and 20e9 B (= the bf16 2 B/param) with it
  assert.equal(weightBytes(10e9, 8e9, false) + fp8WeightCopyBytes(8e9, true, false, cal), 36e9);
  assert.equal(weightBytes(10e9, 8e9, true) + fp8WeightCopyBytes(8e9, true, true, cal), 20e9);
});

test('allocator reserve: allocator_fragmentation_fraction of activations + logits (device side)', () => {
  assert.equal(allocatorReserveBytes(3e9, 1e9, cal), 0.03 * 4e9);
});
