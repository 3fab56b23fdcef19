import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { gemmTimeS } from '../../../src/cost/gemm.js';
import { denseMlpFwdTimeS, denseMlpTimeS } from '../../../src/cost/terms/dense-mlp.js';
import { LLAMA3_70B } from '../fixtures.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('dense MLP (Llama3-70B, TP 4, SwiGLU): FC1 2F/TP, FC2 F/TP, GLU activation (read 2F, write F, bf16)', () => {
  const h = LLAMA3_70B.hidden_size;
  const f = LLAMA3_70B.ffn_hidden_size / 4;
  const fwd = denseMlpFwdTimeS(8192, h, f, 2, false, cal);
  close(fwd, gemmTimeS(8192, 2 * f, h, false, cal) + gemmTimeS(8192, h, f, false, cal) + (2 * 8192 * 3 * f) / cal.hbmBytesPerS);
  assert.equal(denseMlpTimeS(fwd), 3 * fwd);
  assert.ok(denseMlpFwdTimeS(8192, h, f, 2, true, cal) < fwd); // FP8 GEMMs
});
