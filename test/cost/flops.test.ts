import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionFlopsPerToken, modelFlopsPerToken } from '../../src/cost/flops.js';
import { layerParamCounts } from '../../src/cost/params.js';
import { loadCalibration } from '../../src/cost/calibration.js';
import { makeScoreContext } from '../../src/cost/score.js';
import { modelShape } from '../../src/job/shape.js';
import { baseModel, DEEPSEEK_V3, job, MIXTRAL_8X22B } from './fixtures.js';

test('FLOPs per step of a tiny GQA SwiGLU model by hand (Megatron §3.4, causal)', () => {
  const m = baseModel({ num_layers: 2, hidden_size: 64, num_attention_heads: 4, num_query_groups: 2, kv_channels: 16,
    ffn_hidden_size: 256, vocab_size: 1000, make_vocab_size_divisible_by: 128 });
  const s = 128;
  const gbs = 2;
  // per token: attention 6(h(q + 2kv) + qh) + 6 s q with q = 64, kv = 32; MLP 6 h F 3; logits 6 h V_pad (1024)
  const attn = 6 * (64 * (64 + 64) + 64 * 64) + 6 * 128 * 64; // 122880
  const mlp = 6 * 64 * 256 * 3; // 294912
  const logits = 6 * 64 * 1024; // 393216
  const perToken = 2 * (attn + mlp) + logits; // 1228800
  assert.equal(attentionFlopsPerToken(m, s), attn);
  const ctx = makeScoreContext(job(m, 8, s, gbs), modelShape(m), loadCalibration('h100-sxm'));
  assert.equal(ctx.flopsPerStep, perToken * s * gbs);
  assert.equal(ctx.flopsPerStep, 314_572_800);
});

test('MoE and MLA FLOPs: Mixtral-8x22B and DeepSeek-V3 per token', () => {
  const mix = MIXTRAL_8X22B;
  const h = 6144;
  const attn = 6 * (h * (6144 + 2 * 1024) + 6144 * h) + 6 * 4096 * 6144;
  const moe = 6 * h * 16384 * 3 * 2;
  assert.equal(modelFlopsPerToken(mix, modelShape(mix), 4096, 32768), 56 * (attn + moe) + 6 * h * 32768);
  // DeepSeek-V3: MLA attention per token (q-LoRA 1536, kv-LoRA 512, heads 128, qk 128+64, v 128), seq 4096
  const d = DEEPSEEK_V3;
  const H = 7168;
  const mla = 6 * (1536 * (H + 128 * 192 + 1) + 512 * (H + 128 * 256 + 1) + H * 64 + 128 * 128 * H +
    0.5 * 4096 * 128 * 192 + 0.5 * 4096 * 128 * 128);
  assert.equal(attentionFlopsPerToken(d, 4096), mla);
  // 3 dense + 58 MoE layers + 1 MTP (MoE) layer, MTP projection and norms, logits x 2
  const dense = 6 * H * 18432 * 3;
  const moeL = 6 * H * 2048 * 3 * 8 + 6 * H * 2048 * 3;
  const want = 62 * mla + 3 * dense + 59 * moeL + 6 * (3 * H + 2 * H * H) + 6 * H * 129280 * 2;
  assert.equal(modelFlopsPerToken(d, modelShape(d), 4096, 129280), want);
});

test('parameter counts reproduce the published model sizes', () => {
  const total = (m: typeof MIXTRAL_8X22B): number => {
    const p = layerParamCounts(m);
    const shape = modelShape(m);
    const attn = p.attnTpParams + p.attnReplicatedParams;
    return m.num_layers * attn + shape.numDenseLayers * (p.denseMlpTpParams + p.mlpNormParams) +
      shape.numMoeLayers * (p.expertParams * m.num_experts + p.sharedExpertTpParams + p.routerParams + p.mlpNormParams) +
      2 * m.vocab_size * m.hidden_size;
  };
  assert.ok(Math.abs(total(MIXTRAL_8X22B) / 1e9 - 141) < 1, String(total(MIXTRAL_8X22B)));
  assert.ok(Math.abs(total(DEEPSEEK_V3) / 1e9 - 671) < 2, String(total(DEEPSEEK_V3)));
});
