/** Attention variants as model fields: sliding windows, sinks, linear biases (loader, FLOPs, params, export). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelShape } from '../../src/job/shape.js';
import { countParams } from '../../src/job/params.js';
import { isWindowLayer, meanAttentionFlopsFraction, windowLayerCount } from '../../src/job/window-attention.js';
import { attentionFlopsPerToken } from '../../src/cost/flops.js';
import { layerParamCounts } from '../../src/cost/params.js';
import { megatronLaunch } from '../../src/export/megatron-launch.js';
import { plan } from '../cost/fixtures.js';
import { BASE_MODEL, loadModelJob, messageOf } from './load-model.js';

const base = BASE_MODEL;
const load = (model: Record<string, unknown>) => loadModelJob(model, { seq_length: 4096 });

test('defaults: no window, vanilla softmax, no linear biases', () => {
  const m = load(base).model;
  assert.equal(m.window_size, 0);
  assert.equal(m.window_attn_skip_freq, 0);
  assert.equal(m.softmax_type, 'vanilla');
  assert.equal(m.add_bias_linear, false);
  assert.equal(meanAttentionFlopsFraction(m, 4096), 1);
});

test('window layers follow Megatron: int N windows 1-based layer n iff n % N != 0; a list marks them with 1', () => {
  const m = load({ ...base, window_size: 128, window_attn_skip_freq: 2 }).model;
  assert.deepEqual([0, 1, 2, 3].map((i) => isWindowLayer(m, i)), [true, false, true, false]); // GPT-OSS: sliding first
  const all = load({ ...base, window_size: 128 }).model;
  assert.equal(windowLayerCount(all), 4);
  const list = load({ ...base, window_size: 128, window_attn_skip_freq: '([1]*3+[0]*1)' }).model;
  assert.deepEqual(list.window_attn_skip_freq, [1, 1, 1, 0]);
  assert.equal(windowLayerCount(list), 3);
});

test('sliding windows cut the core-attention FLOPs: half the layers at (2sw - w²)/s²', () => {
  const full = load(base).model;
  const win = load({ ...base, window_size: 128, window_attn_skip_freq: 2 }).model;
  const phi = (2 * 4096 * 128 - 128 * 128) / 4096 ** 2;
  assert.ok(Math.abs(meanAttentionFlopsFraction(win, 4096) - (1 + phi) / 2) < 1e-15);
  // GQA: 6·(h(q + 2kv) + qh) + core·6·s·q with q = kv = 1024 (MHA)
  const proj = 6 * (1024 * 3 * 1024 + 1024 * 1024);
  assert.equal(attentionFlopsPerToken(full, 4096), proj + 6 * 4096 * 1024);
  assert.ok(Math.abs(attentionFlopsPerToken(win, 4096) - (proj + ((1 + phi) / 2) * 6 * 4096 * 1024)) < 1e-3);
});

test('linear biases and sinks add parameters where their weights live', () => {
  const plain = load(base).model;
  const biased = load({ ...base, add_bias_linear: true, softmax_type: 'learnable' }).model;
  const a = layerParamCounts(plain);
  const b = layerParamCounts(biased);
  // QKV bias (8 + 2·8)·128 and 8 sinks (TP-sharded); output bias 1024 (replicated)
  assert.equal(b.attnTpParams - a.attnTpParams, 24 * 128 + 8);
  assert.equal(b.attnReplicatedParams - a.attnReplicatedParams, 1024);
  const ffn = plain.ffn_hidden_size; // SwiGLU: FC1 bias 2F, FC2 bias h
  assert.equal(b.denseMlpTpParams - a.denseMlpTpParams, 2 * ffn);
  assert.equal(b.mlpNormParams - a.mlpNormParams, 1024);
  const perLayer = 24 * 128 + 8 + 1024 + 2 * ffn + 1024;
  assert.equal(countParams(biased).total - countParams(plain).total, 4 * perLayer);
});

test('model validation: one line naming the file and the field', () => {
  assert.equal(messageOf(() => load({ ...base, window_attn_skip_freq: 2 })),
    'job.yaml: model.window_attn_skip_freq: only valid with window_size > 0 (Megatron ignores it without --window-size)');
  assert.equal(messageOf(() => load({ ...base, window_size: 128, window_attn_skip_freq: [1, 0] })),
    'job.yaml: model.window_attn_skip_freq: list must have one entry per layer: 4 for num_layers 4 (got 2)');
  assert.equal(messageOf(() => load({ ...base, window_size: 128, window_attn_skip_freq: [1, 2, 1, 0] })),
    'job.yaml: model.window_attn_skip_freq: list entries must be 1 (sliding-window layer) or 0 (full attention) (got 2 at index 1)');
  assert.match(messageOf(() => load({ ...base, softmax_type: 'sink' })), /^job\.yaml: model\.softmax_type: must be one of vanilla, off-by-one, learnable/);
  assert.match(messageOf(() => load({ ...base, window_size: -1 })), /^job\.yaml: model\.window_size: must be an integer >= 0/);
  assert.equal(messageOf(() => load({ ...base, num_experts: 8, moe_shared_expert_intermediate_size: 512, add_bias_linear: true })),
    'job.yaml: model.add_bias_linear: is not supported with a shared expert (Megatron-Core shared_experts.py asserts add_bias_linear == False)');
});

test('Megatron export: --window-size L,0, --window-attn-skip-freq, --softmax-type, biases kept', () => {
  const job = load({ ...base, window_size: 128, window_attn_skip_freq: 2, softmax_type: 'learnable', add_bias_linear: true });
  const args = megatronLaunch(job, modelShape(job.model), plan({ tp: 1, pp: 1 }, 8, 4, job.training.global_batch_size)).args;
  const after = (f: string): string | undefined => args[args.indexOf(f) + 1];
  assert.equal(after('--window-size'), '128,0');
  assert.equal(after('--window-attn-skip-freq'), '2');
  assert.equal(after('--softmax-type'), 'learnable');
  assert.ok(!args.includes('--disable-bias-linear'));
  const plainArgs = megatronLaunch(load(base), modelShape(load(base).model), plan({ tp: 1, pp: 1 }, 8, 4, 1024)).args;
  assert.ok(plainArgs.includes('--disable-bias-linear'));
  assert.ok(!plainArgs.includes('--window-size') && !plainArgs.includes('--softmax-type'));
});
