import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { p2pTimeS } from '../../../src/cost/comm.js';
import { ppSendRecvExposedTimeS } from '../../../src/cost/terms/pp-comm.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('PP send/recv: activation + gradient per model chunk, exposed share', () => {
  const bytes = 2048 * 6144 * 2;
  assert.equal(ppSendRecvExposedTimeS(bytes, 1, 1, false, 8, cal), 0);
  close(ppSendRecvExposedTimeS(bytes, 8, 7, true, 8, cal), 14 * p2pTimeS(bytes, true, 8, cal) * (1 - cal.ppOverlapFraction));
});
