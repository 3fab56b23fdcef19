import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { p2pTimeS } from '../../../src/cost/comm.js';
import { cpExposedTimeS, cpKvBytes, cpRingExchangeTimeS, cpStealTimeS } from '../../../src/cost/terms/cp-comm.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('CP ring: (CP - 1) steps of K/V forward and K/V + gradients backward, hidden behind flash attention', () => {
  const kv = cpKvBytes(4096, 2, 128, 128);
  assert.equal(kv, 4096 * 512 * 2);
  const ring = cpRingExchangeTimeS(kv, 4, false, 8, cal);
  close(ring, 3 * (p2pTimeS(kv, false, 8, cal) + p2pTimeS(2 * kv, false, 8, cal)));
  assert.equal(cpRingExchangeTimeS(kv, 1, false, 8, cal), 0);
  assert.ok(cpRingExchangeTimeS(kv, 4, true, 8, cal) > ring);
  // enough attention to hide it: nothing exposed, all of it steals SMs
  assert.equal(cpExposedTimeS(ring, 1e3, cal), 0);
  close(cpStealTimeS(ring, 0, cal), ring * cal.smStealFraction);
  close(cpExposedTimeS(ring, 0, cal), ring);
});
