import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { gemmTimeS } from '../../../src/cost/gemm.js';
import { coreAttentionFwdFlops, flashAttentionBwdTimeS, flashAttentionFwdTimeS } from '../../../src/cost/compute.js';
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
  close(flashAttentionLayerFwdTimeS(1, 8192, 16, 128, 128, 2, cal), flashAttentionFwdTimeS(f, 4096, cal));
  close(flashAttentionLayerBwdTimeS(1, 8192, 16, 128, 128, 2, cal), flashAttentionBwdTimeS(f, 4096, cal));
  assert.ok(attentionElementwiseFwdTimeS(1024, 4096, 8192, 2304, cal) > 0);
});

test('attention block: forward t_proj + t_flash + t_elem; fwd + bwd 3(t_proj + t_elem) + t_flash,f + t_flash,b', () => {
  assert.equal(attentionFwdTimeS(1, 2, 4), 7);
  assert.equal(attentionTimeS(1, 4, 2, 5), 3 * 5 + 2 + 5);
});
