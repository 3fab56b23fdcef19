import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../src/cost/calibration.js';
import { gemmEfficiency, gemmTimeS, groupedGemmEfficiency, groupedGemmTimeS, fp8CastTimeS } from '../../src/cost/gemm.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('GEMM efficiency: product of saturating factors (hand computation, 2048^3 BF16)', () => {
  const d = 2048;
  const gflop = (2 * d * d * d) / 1e9; // 17.18 GFLOP
  const want = 0.875 * (d / (d + 89.9)) * (d / (d + 6.5)) * (d / (d + 102.8)) * (gflop / (gflop + 4.715));
  close(gemmEfficiency(d, d, d, false, cal), want);
  // the fitted curve reproduces the XLA table row (2048,2048,2048) = 632 TFLOPS = 0.639 within 0.02
  assert.ok(Math.abs(want - 0.639) < 0.02);
});

test('GEMM efficiency caps at the measured maximum; small K costs like small M', () => {
  assert.equal(gemmEfficiency(16384, 16384, 16384, false, cal), 0.82);
  assert.equal(gemmEfficiency(16384, 16384, 16384, true, cal), 0.58);
  const smallK = gemmEfficiency(4096, 4096, 256, false, cal);
  const smallM = gemmEfficiency(256, 4096, 4096, false, cal);
  assert.ok(Math.abs(smallK - 0.396) < 0.03 && Math.abs(smallM - 0.416) < 0.03);
});

test('GEMM time = 2mnk / (peak x eff) (+ FP8 casts)', () => {
  const [m, n, k] = [4096, 1024, 4096];
  close(gemmTimeS(m, n, k, false, cal), (2 * m * n * k) / (989.4e12 * gemmEfficiency(m, n, k, false, cal)));
  const fp8 = (2 * m * n * k) / (1978.9e12 * gemmEfficiency(m, n, k, true, cal)) + (m * k * 3) / 2.8e12;
  close(gemmTimeS(m, n, k, true, cal), fp8);
  close(fp8CastTimeS(1e6, cal), 3e6 / 2.8e12);
  assert.equal(gemmTimeS(0, n, k, false, cal), 0);
});

test('grouped GEMM: fine-grained experts (~512 rows, N=1536, K=2048) land in the measured 13-16 % of peak', () => {
  const eff = groupedGemmEfficiency(512, 1536, 2048, false, cal);
  close(eff, gemmEfficiency(512, 1536, 2048, false, cal) * (512 / (512 + 500)));
  assert.ok(eff > 0.13 && eff < 0.16, String(eff));
  // coarse experts (4096 rows) are within 12 % of the dense GEMM of the same shape
  assert.ok(groupedGemmEfficiency(4096, 4096, 7168, false, cal) / gemmEfficiency(4096, 4096, 7168, false, cal) > 0.88);
  const t = groupedGemmTimeS(128, 512, 1536, 2048, false, cal);
  close(t, (2 * 128 * 512 * 1536 * 2048) / (989.4e12 * eff));
});
