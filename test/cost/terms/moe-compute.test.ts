import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { gemmTimeS, groupedGemmTimeS } from '../../../src/cost/gemm.js';
import {
  alltoallSortPasses, moeActivationFnFwdTimeS, moeExpertGemmsFwdTimeS, moeMlpFwdTimeS, moeMlpTimeS,
  moePermuteActivationFwdTimeS, moeRouterFwdTimeS,
} from '../../../src/cost/terms/moe-compute.js';
import { MIXTRAL_8X22B } from '../fixtures.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);
const m = MIXTRAL_8X22B;
const h = m.hidden_size;
const fe = m.moe_ffn_hidden_size;

test('router: logits GEMM (bf16) + 4 fp32 passes over the E scores', () => {
  close(moeRouterFwdTimeS(2048, 8, h, cal), gemmTimeS(2048, 8, h, false, cal) + (2048 * 8 * 16) / cal.hbmBytesPerS);
});

test('routed experts: two grouped GEMMs over the local experts, rows split evenly', () => {
  const rows = 5120;
  close(moeExpertGemmsFwdTimeS(4, rows, h, fe, 2, false, cal),
    groupedGemmTimeS(4, rows / 4, 2 * fe, h, false, cal) + groupedGemmTimeS(4, rows / 4, h, fe, false, cal));
});

test('permute + activation: sort passes only for alltoall with > 1 local expert', () => {
  assert.equal(alltoallSortPasses('alltoall', 2, 4, cal), cal.alltoallSortPasses);
  assert.equal(alltoallSortPasses('alltoall', 8, 1, cal), 0);
  assert.equal(alltoallSortPasses('flex', 2, 4, cal), 0);
  assert.equal(alltoallSortPasses('alltoall', 1, 8, cal), 0);
  const rows = 5120;
  const act = moeActivationFnFwdTimeS(rows, fe, 2, cal);
  close(act, (2 * rows * 3 * fe) / cal.hbmBytesPerS);
  close(moePermuteActivationFwdTimeS(rows, h, fe, 2, 1, cal) - moePermuteActivationFwdTimeS(rows, h, fe, 2, 0, cal),
    (8 * rows * h) / cal.hbmBytesPerS, 1e-9);
});

test('MoE MLP: router + experts + permute/activation + shared expert; fwd + bwd = 3 x forward', () => {
  assert.equal(moeMlpFwdTimeS(1, 2, 4, 8), 15);
  assert.equal(moeMlpTimeS(5), 15);
});
