import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { gemmTimeS } from '../../../src/cost/gemm.js';
import {
  LOGITS_BYTES_PER_ELEMENT_UNFUSED, embeddingTimeS, logitsBytes, mtpExtraTimeS, outputLayerTimeS,
} from '../../../src/cost/terms/edge-stages.js';
import { DEEPSEEK_V3 } from '../fixtures.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('logits: 6 B per element by default (fp32 softmax saved + bf16 logits / gradient), 2 B with the fused loss', () => {
  assert.equal(LOGITS_BYTES_PER_ELEMENT_UNFUSED, 6);
  assert.equal(logitsBytes(4096, 32768), 4096 * 32768 * 6);
  assert.equal(logitsBytes(4096, 32768, 2), 4096 * 32768 * 2);
});

test('embedding, output layer + loss and MTP heads (DeepSeek-V3 shapes, TP 1)', () => {
  const h = DEEPSEEK_V3.hidden_size;
  const v = 129280;
  close(embeddingTimeS(4096, h, cal), (3 * 2 * 4096 * h) / cal.hbmBytesPerS);
  const out = outputLayerTimeS(4096, 4096, v, h, cal);
  close(out, 3 * gemmTimeS(4096, v, h, false, cal) + (4096 * v * 16 + 6 * 4096 * h) / cal.hbmBytesPerS);
  close(mtpExtraTimeS(1, 4096, h, out, 0, false, cal), 3 * gemmTimeS(4096, h, 2 * h, false, cal) + out);
  assert.equal(mtpExtraTimeS(0, 4096, h, out, 0, false, cal), 0);
});
