import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADAM_FP32_STATE_BYTES_PER_PARAM, LOGITS_BYTES_PER_ELEMENT_UNFUSED, attentionActivationBytes,
  fullRecomputeBytesPerLayer, logitsBytes, megatronWeightOptimizerBytes, mlpActivationBytes, modelStateBytes,
  moeActivationBytes,
} from '../../src/cost/memory.js';

test("Megatron's formula: (6 + 12/DP) for non-expert, (6 + 12/EDP) for expert params; 18 without dist-opt", () => {
  assert.equal(megatronWeightOptimizerBytes(1e9, 2e9, 8, 2, true), 1e9 * (6 + 12 / 8) + 2e9 * (6 + 12 / 2));
  assert.equal(megatronWeightOptimizerBytes(1e9, 2e9, 8, 2, false), 3e9 * 18);
});

test('model state equals Megatron\'s formula when CP = 1, and shards dense state over DP x CP when CP > 1', () => {
  const out = { weights: 0, gradients: 0, optimizer: 0 };
  // Mixtral-8x22B TP2 PP8 EP8 first stage: 7 layers x (44.0M attention/TP + norms) + embedding/TP; experts 7 x 302M
  const dense = 7 * (88_080_384 / 2 + 2 * 6144) + (32768 * 6144) / 2;
  const expert = 7 * ((8 * 3 * 6144 * 16384) / 8);
  modelStateBytes(dense, expert, 8, 2, true, 2, out);
  const ours = out.weights + out.gradients + out.optimizer;
  assert.equal(ours, megatronWeightOptimizerBytes(dense, expert, 8, 2, true));
  assert.equal(out.weights, 2 * (dense + expert));
  assert.equal(out.gradients, 4 * (dense + expert));
  // CP 2 with DP 4: the real optimizer shards dense states over 8 ranks; Megatron's formula divides by DP = 4 only
  modelStateBytes(dense, expert, 4 * 2, 2, true, 2, out);
  const megatronCp = megatronWeightOptimizerBytes(dense, expert, 4, 2, true);
  assert.equal(megatronCp - (out.weights + out.gradients + out.optimizer), dense * (12 / 4 - 12 / 8));
  modelStateBytes(dense, expert, 8, 2, false, 2, out);
  assert.equal(out.optimizer, 12 * (dense + expert));
});

test('attention activations (hand count, bf16, SP over TP 4)', () => {
  // 4096 tokens, h 8192, Q/K/V/O widths (64+8+8+64)*128/4 = 4608 per rank
  const b = attentionActivationBytes(4096, 8192, 4608, 0, 4, true, 2);
  // stored per token: norm in + residual (2 B each) and norm out (GEMM input, 2 B) on s/TP tokens; Q/K/V/O on all
  assert.equal(b, 1024 * 8192 * (2 + 2 + 2) + 2 * 4096 * 4608);
  // FP8 stores the GEMM input (norm output) in 1 byte
  assert.equal(attentionActivationBytes(4096, 8192, 4608, 0, 4, true, 1), 1024 * 8192 * 5 + 2 * 4096 * 4608);
  // without SP the norm tensors are replicated over TP
  assert.equal(attentionActivationBytes(4096, 8192, 4608, 0, 4, false, 2), 4096 * 8192 * 6 + 2 * 4096 * 4608);
});

test('MLP, MoE, full-recompute and logits activations', () => {
  // SwiGLU F/TP = 7168: norm out (s/TP) + act out (F/TP) as GEMM inputs, FC1 output 2F/TP in bf16
  assert.equal(mlpActivationBytes(4096, 8192, 7168, 2, 4, true, 2), 2 * (1024 * 8192 + 4096 * 7168) + 2 * 4096 * 2 * 7168);
  // MoE: 2048 tokens in, 4096 routed rows, h 6144, 8 experts, F_e 16384, SwiGLU. Per row: FC1 input (h) and
  // activation output (F_e) as GEMM inputs, FC1 output 2·F_e (bf16); no expert output (probabilities are applied
  // inside the activation since Megatron-Core v0.13, so unpermute saves nothing per row)
  const moe = moeActivationBytes(2048, 4096, 6144, 8, 16384, 2, 2);
  assert.equal(moe, 2 * 2048 * 6144 + 8 * 2048 * 8 + 4096 * (2 * (6144 + 16384) + 2 * 2 * 16384));
  assert.equal(fullRecomputeBytesPerLayer(4096, 8192, 4, true), 2 * 1024 * 8192);
  // logits: 6 B per element by default (fp32 softmax saved + bf16 logits / gradient), 2 B with TE's fused loss
  assert.equal(LOGITS_BYTES_PER_ELEMENT_UNFUSED, 6);
  assert.equal(logitsBytes(4096, 32768), 4096 * 32768 * 6);
  assert.equal(logitsBytes(4096, 32768, 2), 4096 * 32768 * 2);
});

test('model state with a run\'s own gradient and optimizer widths (bf16 grads, bf16 Adam moments)', () => {
  const out = { weights: 0, gradients: 0, optimizer: 0 };
  // 1e9 dense over DP x CP 8, 2e9 expert over EDP 2; bf16 grads (2 B) and fp32 master + bf16 m, v (8 B)
  modelStateBytes(1e9, 2e9, 8, 2, true, 2, out, 2, 8);
  assert.equal(out.weights, 6e9);
  assert.equal(out.gradients, 6e9);
  assert.equal(out.optimizer, 8 * (1e9 / 8 + 2e9 / 2));
  assert.equal(ADAM_FP32_STATE_BYTES_PER_PARAM, 12);
});
