import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { denseLayerOverheadTimeS, moeLayerOverheadTimeS } from '../../../src/cost/terms/overhead.js';

const cal = loadCalibration('h100-sxm');

test('per-layer overheads: dense fixed; MoE fixed + per local expert', () => {
  assert.equal(denseLayerOverheadTimeS(cal), cal.denseLayerOverheadS);
  assert.equal(moeLayerOverheadTimeS(4, cal), cal.moeLayerOverheadS + 4 * cal.moeLocalExpertOverheadS);
});
