import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import {
  attentionSelectiveRecomputeTimeS, denseLayerRecomputeTimeS, mlaUpProjectionRecomputeTimeS, moeLayerRecomputeTimeS,
  normRecomputeTimeS, type SelectiveModules,
} from '../../../src/cost/terms/recompute.js';

const cal = loadCalibration('h100-sxm');
const none: SelectiveModules = { coreAttn: 0, layernorm: 0, mlaUpProj: 0, mlp: 0, moe: 0, moeAct: 0 };

test('selective attention: core_attn, layernorm and mla_up_proj each add their forward', () => {
  assert.equal(attentionSelectiveRecomputeTimeS({ ...none, coreAttn: 1 }, 2, 3, 5), 2);
  assert.equal(attentionSelectiveRecomputeTimeS({ ...none, coreAttn: 1, layernorm: 1, mlaUpProj: 1 }, 2, 3, 5), 10);
  assert.equal(normRecomputeTimeS(1024, 7168, cal), (4 * 1024 * 7168) / cal.hbmBytesPerS);
  assert.equal(mlaUpProjectionRecomputeTimeS(1, 4096, 100, cal), 1 + (4 * 4096 * 100) / cal.hbmBytesPerS);
});

test('dense layer: none 0; selective attention (+ mlp with its TP pair); full the whole forward', () => {
  assert.equal(denseLayerRecomputeTimeS('none', none, 1, 10, 20, 2, 4), 0);
  assert.equal(denseLayerRecomputeTimeS('selective', none, 1, 10, 20, 2, 4), 1);
  assert.equal(denseLayerRecomputeTimeS('selective', { ...none, mlp: 1 }, 1, 10, 20, 2, 4), 23);
  assert.equal(denseLayerRecomputeTimeS('full', none, 1, 10, 20, 2, 4), 34);
});

test('MoE layer: selective moe runs the MoE MLP with its shared TP and EP forward; moe_act the activation only', () => {
  const args = [1, 10, 0.5, 20, 3, 6, 2, 7] as const;
  assert.equal(moeLayerRecomputeTimeS('none', none, ...args), 0);
  assert.equal(moeLayerRecomputeTimeS('selective', { ...none, layernorm: 1 }, ...args), 1.5);
  assert.equal(moeLayerRecomputeTimeS('selective', { ...none, moe: 1 }, ...args), 1 + 20 + 2 + 7);
  assert.equal(moeLayerRecomputeTimeS('selective', { ...none, moeAct: 1 }, ...args), 1 + 3);
  assert.equal(moeLayerRecomputeTimeS('full', none, ...args), 10 + 20 + 6 + 7);
});
