import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { denseLayerOverheadTimeS, moeLayerOverheadTimeS } from '../../../src/cost/terms/overhead.js';

// The equations at stated constants: the fitted ones (npm run fit) pinned to the values the hand computation uses.
const cal = { ...loadCalibration('h100-sxm'), moeLayerOverheadS: 400e-6, moeRoutedTokenOverheadS: 2.3e-11 };

test('per-layer overheads: dense fixed; MoE fixed + per routed row', () => {
  assert.equal(denseLayerOverheadTimeS(cal), cal.denseLayerOverheadS);
  // 400 us + 65,536 routed rows x 2.3e-11 s
  const want = 400e-6 + 65536 * 2.3e-11;
  assert.ok(Math.abs(moeLayerOverheadTimeS(65536, cal) - want) < 1e-15);
  assert.equal(moeLayerOverheadTimeS(0, cal), cal.moeLayerOverheadS);
});

test('MoE overhead depends on routed rows only: EP8 (16 local experts) and EP16 (8) of the same rows cost the same', () => {
  const c = { ...cal, moeRoutedTokenOverheadS: 1e-9 };
  const a = moeLayerOverheadTimeS(2 * 32768, c) - moeLayerOverheadTimeS(32768, c);
  assert.ok(Math.abs(a - 32768e-9) < 1e-15);
});
