import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { gemmTimeS } from '../../../src/cost/gemm.js';
import {
  coreAttentionFwdFlops, flashAttentionBwdEff, flashAttentionBwdTimeS, flashAttentionFwdEff, flashAttentionFwdTimeS,
  flashAttentionHeadDim, flashAttentionHeadDimEff,
} from '../../../src/cost/compute.js';
import { windowPairFraction } from '../../../src/job/window-attention.js';
import {
  attentionElementwiseFwdTimeS, attentionFwdTimeS, attentionTimeS, flashAttentionLayerBwdTimeS,
  flashAttentionLayerFwdTimeS, gqaProjectionFwdTimeS, mlaProjectionFwdTimeS, mlaUpProjectionFwdTimeS,
} from '../../../src/cost/terms/attention.js';
import { DEEPSEEK_V3, LLAMA3_70B } from '../fixtures.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('GQA projections: QKV (a + 2g)/TP·d wide, output a/TP·d deep (Llama3-70B, TP 4)', () => {
  const m = LLAMA3_70B;
  const h = m.hidden_size;
  const d = m.kv_channels;
  const t = gqaProjectionFwdTimeS(8192, h, 64 / 4, 8 / 4, d, d, false, cal);
  close(t, gemmTimeS(8192, (16 + 4) * d, h, false, cal) + gemmTimeS(8192, h, 16 * d, false, cal));
});

test('MLA projections: q/kv down, the up-projections, output (DeepSeek-V3, TP 2)', () => {
  const m = DEEPSEEK_V3;
  const h = m.hidden_size;
  const a = m.num_attention_heads;
  const up = mlaUpProjectionFwdTimeS(4096, a, 2, m.q_lora_rank, m.kv_lora_rank, m.qk_head_dim, m.qk_pos_emb_head_dim,
    m.v_head_dim, false, cal);
  close(up, gemmTimeS(4096, (a * 192) / 2, 1536, false, cal) + gemmTimeS(4096, (a * 256) / 2, 512, false, cal));
  const proj = mlaProjectionFwdTimeS(4096, h, a, 2, m.q_lora_rank, m.kv_lora_rank, m.qk_head_dim,
    m.qk_pos_emb_head_dim, m.v_head_dim, up, false, cal);
  close(proj, gemmTimeS(4096, 1536, h, false, cal) + gemmTimeS(4096, 512 + 64, h, false, cal) + up +
    gemmTimeS(4096, h, (a * 128) / 2, false, cal));
  // without q-LoRA the query is one full projection and there is no q up-projection
  const upNoQ = mlaUpProjectionFwdTimeS(4096, a, 2, 0, m.kv_lora_rank, 128, 64, 128, false, cal);
  close(upNoQ, gemmTimeS(4096, (a * 256) / 2, 512, false, cal));
});

test('flash attention per layer: causal core FLOPs over the seq/CP chunk', () => {
  const f = coreAttentionFwdFlops(1, 8192, 16, 128, 128, 2);
  close(flashAttentionLayerFwdTimeS(1, 8192, 16, 128, 128, 2, 0, 0, cal), flashAttentionFwdTimeS(f, 4096, 128, cal));
  close(flashAttentionLayerBwdTimeS(1, 8192, 16, 128, 128, 2, 0, 0, cal), flashAttentionBwdTimeS(f, 4096, 128, cal));
  assert.ok(attentionElementwiseFwdTimeS(1024, 4096, 8192, 2304, cal) > 0);
});

test('flash efficiency: FlashAttention-3 curve by head dim and chunk, times the software scale', () => {
  // head dim 128, 16k chunk: scale · 0.642 · 16384/(16384 + 514)
  close(flashAttentionFwdEff(128, 16384, cal), cal.flashAttnSoftwareScale * 0.642 * 16384 / 16898, 1e-9);
  // FA3 Fig. 5d at 1k: 423 TFLOPS of 989 → the curve gives 0.642 · 1024/1538 = 0.4274 (423/989 = 0.4277)
  close(flashAttentionFwdEff(128, 1024, cal) / cal.flashAttnSoftwareScale, 0.642 * 1024 / 1538, 1e-9);
  close(flashAttentionBwdEff(128, 4096, cal), cal.flashAttnSoftwareScale * 0.563 * 4096 / (4096 + 713), 1e-9);
  // head dim: log2 interpolation, clamped; MLA 192/128 reads as 160
  assert.equal(flashAttentionHeadDim(192, 128), 160);
  close(flashAttentionHeadDimEff(160, 0.493, 0.642, 0.670), 0.642 + (Math.log2(160) - 7) * (0.670 - 0.642));
  close(flashAttentionHeadDimEff(90.50966799187809, 0.4, 0.6, 0.7), 0.5, 1e-9); // 2^6.5: halfway 64 → 128
  assert.equal(flashAttentionHeadDimEff(32, 0.4, 0.6, 0.7), 0.4);
  assert.equal(flashAttentionHeadDimEff(512, 0.4, 0.6, 0.7), 0.7);
  // head dim 64 runs slower per FLOP than 128; short chunks slower than long ones
  assert.ok(flashAttentionFwdEff(64, 4096, cal) < flashAttentionFwdEff(128, 4096, cal));
  assert.ok(flashAttentionFwdEff(128, 2048, cal) < flashAttentionFwdEff(128, 4096, cal));
  // backward time: 2.5× forward work at the backward rate
  const f = 1e12;
  close(flashAttentionBwdTimeS(f, 4096, 128, cal), 2.5 * f / (cal.denseBf16PeakFlops * flashAttentionBwdEff(128, 4096, cal)));
});

test('sliding window: pair share (2sw − w²)/s², windowed layers at the chunk 2w', () => {
  assert.equal(windowPairFraction(4096, 0), 1);
  assert.equal(windowPairFraction(4096, 8192), 1);
  close(windowPairFraction(4096, 128), (2 * 4096 * 128 - 128 * 128) / (4096 * 4096)); // 0.0615
  const f = coreAttentionFwdFlops(1, 4096, 64, 64, 64, 1);
  const full = flashAttentionFwdTimeS(f, 4096, 64, cal);
  const win = flashAttentionFwdTimeS(f * windowPairFraction(4096, 128), 256, 64, cal);
  close(flashAttentionLayerFwdTimeS(1, 4096, 64, 64, 64, 1, 0.5, 128, cal), 0.5 * full + 0.5 * win);
  assert.ok(win < full / 4); // 6 % of the FLOPs at a short-chunk rate
});

test('attention block: forward t_proj + t_flash + t_elem; fwd + bwd 3(t_proj + t_elem) + t_flash,f + t_flash,b', () => {
  assert.equal(attentionFwdTimeS(1, 2, 4), 7);
  assert.equal(attentionTimeS(1, 4, 2, 5), 3 * 5 + 2 + 5);
});
