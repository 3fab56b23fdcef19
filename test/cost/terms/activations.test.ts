import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attentionActivationBytes, attentionSelectiveSavedBytes, denseLayerActivationBytes, dropoutMaskBytes,
  fullRecomputeBytesPerLayer,
  mlpActivationBytes, moeActivationBytes, moeLayerActivationBytes, stageActivationBytes,
} from '../../../src/cost/terms/activations.js';
import { MIXTRAL_8X22B } from '../fixtures.js';

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

test('MLP, MoE and full-recompute activations', () => {
  // SwiGLU F/TP = 7168: norm out (s/TP) + act out (F/TP) as GEMM inputs, FC1 output 2F/TP in bf16
  assert.equal(mlpActivationBytes(4096, 8192, 7168, 2, 4, true, 2), 2 * (1024 * 8192 + 4096 * 7168) + 2 * 4096 * 2 * 7168);
  // MoE: 2048 tokens in, 4096 routed rows, h 6144, 8 experts, F_e 16384, SwiGLU. Per row: FC1 input (h) and
  // activation output (F_e) as GEMM inputs, FC1 output 2·F_e (bf16); no expert output (probabilities are applied
  // inside the activation since Megatron-Core v0.13, so unpermute saves nothing per row)
  const moe = moeActivationBytes(2048, 4096, 6144, 8, 16384, 2, 2);
  assert.equal(moe, 2 * 2048 * 6144 + 8 * 2048 * 8 + 4096 * (2 * (6144 + 16384) + 2 * 2 * 16384));
  assert.equal(fullRecomputeBytesPerLayer(4096, 8192, 4, true), 2 * 1024 * 8192);
});

test('selective savings: MLA input-norm output and up-projected Q/K/V', () => {
  assert.equal(attentionSelectiveSavedBytes(1, 0, 4096, 1024, 7168, 3000, 2), 2 * 1024 * 7168);
  assert.equal(attentionSelectiveSavedBytes(0, 1, 4096, 1024, 7168, 3000, 2), 2 * 4096 * 3000);
});

test('dense and MoE layer totals: attention + MLP; norm output + MoE MLP, and what selective drops', () => {
  assert.equal(denseLayerActivationBytes(10, 3, 5, false), 12);
  assert.equal(denseLayerActivationBytes(10, 3, 5, true), 7);
  const m = MIXTRAL_8X22B;
  const h = m.hidden_size;
  const fe = m.moe_ffn_hidden_size;
  const k = m.moe_router_topk;
  // Mixtral, TP 2 (2048 tokens/TP enter the router), ETP 1, no shared expert
  const layer = (dropNorm: boolean, dropMoe: boolean, dropAct: boolean): number => moeLayerActivationBytes(
    1000, 100, 2048, 4096, 2048, h, m.num_experts, k, 1, fe, 2, 0, 2, true, 2, dropNorm, dropMoe, dropAct);
  const full = layer(false, false, false);
  assert.equal(full, 1000 - 100 + moeActivationBytes(2048, 2048 * k, h, m.num_experts, fe, 2, 2));
  assert.equal(full - layer(true, false, false), 2 * 2048 * h); // the pre-MLP norm output
  assert.equal(layer(false, true, false), 1000 - 100 + 2 * 2048 * h); // moe keeps only its input
  assert.equal(full - layer(false, false, true), 2048 * k * 2 * fe); // moe_act: the activation output per row
});

test('stage activations: in-flight micro-batches x layers; full recompute keeps layer inputs + one layer', () => {
  assert.equal(stageActivationBytes(4, 2, 3, 10, 20, 1, false), 4 * (2 * 10 + 3 * 20));
  assert.equal(stageActivationBytes(4, 2, 3, 10, 20, 1, true), 4 * 5 * 1 + 20);
  assert.equal(stageActivationBytes(4, 2, 0, 10, 20, 1, true), 4 * 2 * 1 + 10);
});

test('dropout masks: 1 B per stored residual element per bias-dropout-add, none at dropout 0', () => {
  // 4096 tokens, h 8192, SP over TP 4: 1024 stored tokens x 8192 x 2 masks
  assert.equal(dropoutMaskBytes(1024, 8192, 2, 0.1), 2 * 1024 * 8192);
  assert.equal(dropoutMaskBytes(1024, 8192, 2, 0), 0);
});

test('TP without sequence parallel: the norm, residual terms are replicated (TP times the SP figure), Q/K/V/O are not', () => {
  // 4096 tokens, h 8192, TP 4, Q/K/V/O 4608 per rank, bf16
  const withSp = attentionActivationBytes(4096, 8192, 4608, 0, 4, true, 2);
  const noSp = attentionActivationBytes(4096, 8192, 4608, 0, 4, false, 2);
  assert.equal(noSp - withSp, (4096 - 1024) * 8192 * (2 * 2 + 2));
  // MLP: the norm output (GEMM input) on all 4096 tokens instead of 1024
  assert.equal(mlpActivationBytes(4096, 8192, 7168, 2, 4, false, 2) - mlpActivationBytes(4096, 8192, 7168, 2, 4, true, 2),
    2 * (4096 - 1024) * 8192);
  assert.equal(fullRecomputeBytesPerLayer(4096, 8192, 4, false), 4 * fullRecomputeBytesPerLayer(4096, 8192, 4, true));
  assert.equal(dropoutMaskBytes(4096, 8192, 2, 0.1), 4 * dropoutMaskBytes(1024, 8192, 2, 0.1));
});
