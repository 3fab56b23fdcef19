import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { ringAllGatherTimeS, ringAllReduceTimeS, ringReduceScatterTimeS } from '../../../src/cost/comm.js';
import { tpCollectivePairTimeS, tpExposedTimeS, tpStealTimeS } from '../../../src/cost/terms/tp-comm.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('TP pair: all-gather + reduce-scatter with SP, one all-reduce without; 0 at TP 1', () => {
  const bytes = 8192 * 8192 * 2;
  close(tpCollectivePairTimeS(bytes, 4, 1, true, 8, cal),
    ringAllGatherTimeS(bytes, 4, 1, 8, cal) + ringReduceScatterTimeS(bytes, 4, 1, 8, cal));
  close(tpCollectivePairTimeS(bytes, 4, 1, false, 8, cal), ringAllReduceTimeS(bytes, 4, 1, 8, cal));
  assert.equal(tpCollectivePairTimeS(bytes, 1, 1, true, 8, cal), 0);
});

test('exposed and stolen parts split by the hidden share (tp_overlap_fraction with --tp-comm-overlap, else 0)', () => {
  const h = cal.tpOverlapFraction;
  close(tpExposedTimeS(4, 1, h) + tpStealTimeS(4, 1, h, cal) / cal.smStealFraction, 4);
  close(tpExposedTimeS(4, 1, h), 4 * (1 - h));
  assert.equal(tpExposedTimeS(4, 1, 0), 4);
  assert.equal(tpStealTimeS(4, 1, 0, cal), 0);
});
