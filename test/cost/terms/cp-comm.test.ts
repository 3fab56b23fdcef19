import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { memoryBoundTimeS } from '../../../src/cost/compute.js';
import { p2pTimeS } from '../../../src/cost/comm.js';
import {
  cpBwdCorrectionBytes, cpFwdCorrectionBytes, cpKvBytes, cpRingPassExposedTimeS, cpRingPassHiddenTimeS, cpSendTimeS,
  cpStealTimeS, cpStepFixedTimeS,
} from '../../../src/cost/terms/cp-comm.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('CP K/V bytes per step and the send time', () => {
  const kv = cpKvBytes(4096, 2, 128, 128);
  assert.equal(kv, 4096 * 512 * 2);
  close(cpSendTimeS(kv, false, 8, cal), p2pTimeS(kv, false, 8, cal));
  assert.ok(cpSendTimeS(kv, true, 8, cal) > cpSendTimeS(kv, false, 8, cal));
});

test('CP ring pass: (CP − 1)·max(0, send − block) + CP·fixed; hidden (CP − 1)·min(send, block)', () => {
  // flash 8 ms over CP 4: 2 ms blocks; a 3 ms send exposes 1 ms on each of the 3 overlapped steps
  close(cpRingPassExposedTimeS(3e-3, 8e-3, 4, 1e-5), 3 * 1e-3 + 4 * 1e-5);
  close(cpRingPassHiddenTimeS(3e-3, 8e-3, 4), 3 * 2e-3);
  // a send shorter than the block hides completely: only the per-step fixed cost is left
  close(cpRingPassExposedTimeS(1e-3, 8e-3, 4, 1e-5), 4 * 1e-5);
  close(cpRingPassHiddenTimeS(1e-3, 8e-3, 4), 3 * 1e-3);
  assert.equal(cpRingPassExposedTimeS(1, 1, 1, 1), 0);
  assert.equal(cpRingPassHiddenTimeS(1, 1, 1), 0);
  close(cpStealTimeS(2e-3, cal), 2e-3 * cal.smStealFraction);
});

test('CP per-step fixed work: overhead plus the output / gradient corrections (memory-bound)', () => {
  // forward: read out, step out, write out (bf16) + LSE (fp32): 3·t·a·(2·dv + 4)
  assert.equal(cpFwdCorrectionBytes(2048, 16, 128), 3 * 2048 * 16 * (256 + 4));
  // backward: dQ and dK/dV accumulated: 3·2·t·(a·dqk + g·(dqk + dv))
  assert.equal(cpBwdCorrectionBytes(2048, 16, 2, 128, 128), 6 * 2048 * (16 * 128 + 2 * 256));
  const bytes = cpFwdCorrectionBytes(2048, 16, 128);
  close(cpStepFixedTimeS(bytes, cal), cal.cpStepOverheadS + memoryBoundTimeS(bytes, cal));
});
