import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { collectiveAlphaS, exposedOverlapS, ringAllReduceTimeS, ringReduceScatterTimeS } from '../../../src/cost/comm.js';
import {
  DpCollective, dpAllReduceExposedTimeS, dpCollectiveAlphaS, dpCollectivePerByteS, dpCollectiveTimeS,
  dpDistributedOptimizerExposedTimeS,
} from '../../../src/cost/terms/dp-comm.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-9): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('alpha + bytes x c reproduces the ring collective (DP x CP 64 over 8 nodes)', () => {
  const a = dpCollectiveAlphaS(64, 8, cal);
  assert.equal(a, collectiveAlphaS(8, cal));
  const rs = dpCollectiveTimeS(a, dpCollectivePerByteS(DpCollective.ReduceScatter, 64, 8, 8, cal), 1e9, 4);
  close(rs, ringReduceScatterTimeS(4e9, 64, 8, 8, cal));
  const ar = dpCollectiveTimeS(a, dpCollectivePerByteS(DpCollective.AllReduce, 64, 8, 8, cal), 1e9, 4);
  close(ar, ringAllReduceTimeS(4e9, 64, 8, 8, cal));
  assert.equal(dpCollectiveAlphaS(1, 1, cal), 0);
  assert.equal(dpCollectivePerByteS(DpCollective.AllGather, 1, 1, 8, cal), 0);
  assert.equal(dpCollectiveTimeS(a, 1, 0, 4), 0);
});

test('exposed DP time: RS behind 2/3 and AG behind 1/3 of the stage time; all-reduce behind 2/3', () => {
  const t = 0.3;
  const exRs = exposedOverlapS(0.5, 0.2, cal.dpOverlapMaxFraction);
  const exAg = exposedOverlapS(0.1, 0.1, cal.dpOverlapMaxFraction);
  close(dpDistributedOptimizerExposedTimeS(0.5, 0.1, t, cal), exRs + exAg + (0.6 - exRs - exAg) * cal.smStealFraction);
  const exAr = exposedOverlapS(0.5, 0.2, cal.dpOverlapMaxFraction);
  close(dpAllReduceExposedTimeS(0.5, t, cal), exAr + (0.5 - exAr) * cal.smStealFraction);
  // a long stage hides all but (1 - dp_overlap_max_fraction)
  close(dpAllReduceExposedTimeS(0.5, 100, cal), 0.5 * (1 - cal.dpOverlapMaxFraction) + 0.5 * cal.dpOverlapMaxFraction * cal.smStealFraction);
});
