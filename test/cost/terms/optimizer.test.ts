import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { optimizerStepTimeS } from '../../../src/cost/terms/optimizer.js';

const cal = loadCalibration('h100-sxm');

test('optimizer step: owned parameters x optimizer_bytes_per_param over HBM bandwidth', () => {
  assert.equal(optimizerStepTimeS(1e9, cal), (1e9 * cal.optimizerBytesPerParam) / cal.hbmBytesPerS);
});
