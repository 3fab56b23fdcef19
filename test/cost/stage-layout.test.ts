import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STAGE_FIRST, STAGE_LAST, STAGE_MTP, StageLayoutCache, layoutStageKinds, stageKinds,
} from '../../src/cost/stage-layout.js';
import { parseLayout } from '../../src/plan/pipeline-layout.js';
import { modelShape } from '../../src/job/shape.js';
import { DEEPSEEK_V3 } from './fixtures.js';

function prefixOf(mask: Uint8Array): Int32Array {
  const p = new Int32Array(mask.length + 1);
  for (let i = 0; i < mask.length; i++) p[i + 1] = p[i] + mask[i];
  return p;
}

const DSV3_PREFIX = prefixOf(modelShape(DEEPSEEK_V3).moeLayerMask);

test('DeepSeek-V3 PP16, first 4 / last 1 + 1 MTP layer: three kinds', () => {
  const k = stageKinds(16, 4, 1, 61, DSV3_PREFIX, 0, 1);
  assert.equal(k.n, 3);
  // stage 0: layers 0-3 = 3 dense + 1 MoE
  assert.deepEqual([k.nDense[0], k.nMoe[0], k.role[0], k.firstIndex[0], k.count[0]], [3, 1, STAGE_FIRST, 0, 1]);
  // stages 1-14: 4 MoE layers each, one kind counted 14 times, peaking at stage 1
  assert.deepEqual([k.nDense[1], k.nMoe[1], k.role[1], k.firstIndex[1], k.count[1]], [0, 4, 0, 1, 14]);
  // stage 15: layer 60 plus the MTP layer (MoE, as the last decoder layer is); it holds the loss and the MTP
  assert.deepEqual([k.nDense[2], k.nMoe[2], k.role[2], k.firstIndex[2], k.count[2]], [0, 2, STAGE_LAST | STAGE_MTP, 15, 1]);
});

test('one stage is both first and last; uneven middles give two kinds', () => {
  const one = stageKinds(1, 61, 61, 61, DSV3_PREFIX, 0, 1);
  assert.equal(one.n, 1);
  assert.deepEqual([one.nDense[0], one.nMoe[0], one.role[0]], [3, 59, STAGE_FIRST | STAGE_LAST | STAGE_MTP]);
  // 11 dense layers, PP5, 2 + 2 on the edges: middles split 7 layers as floor(i*7/3) -> 2, 2, 3
  const dense = new Int32Array(12);
  const k = stageKinds(5, 2, 2, 11, dense, 0, 0);
  assert.equal(k.n, 4);
  assert.deepEqual([k.nDense[1], k.count[1], k.firstIndex[1]], [2, 2, 1]);
  assert.deepEqual([k.nDense[2], k.count[2], k.firstIndex[2]], [3, 1, 3]);
  let layers = 0;
  for (let i = 0; i < k.n; i++) layers += k.count[i] * (k.nDense[i] + k.nMoe[i]);
  assert.equal(layers, 11);
});

test('the cache returns the same kinds object for a split it has seen, and the right one for another', () => {
  const cache = new StageLayoutCache(61, DSV3_PREFIX, 0, 1);
  const a = cache.get(16, 4, 1);
  assert.equal(cache.get(8, 8, 5).n, 3);
  assert.equal(cache.get(16, 4, 1), a);
  assert.equal(cache.get(4, 16, 13).nMoe[0], 13);
});

test('layout kinds: NVIDIA\'s DeepSeek-V3 layout "Et|(tt|)*30mL" on PP8 (VPP 4)', () => {
  const lay = parseLayout('Et|(tt|)*30mL', 61, 1, 8);
  assert.ok(typeof lay !== 'string', String(lay));
  const k = layoutStageKinds(lay, 8, DSV3_PREFIX, true);
  // rank 0 holds stages 0, 8, 16, 24: E + layer 0, then layers 15-16, 31-32, 47-48: 1 dense + 6 MoE (layers 0-2 are
  // dense: only layer 0 is on rank 0)
  assert.deepEqual([k.nDense[0], k.nMoe[0], k.role[0], k.firstIndex[0]], [1, 6, STAGE_FIRST, 0]);
  // rank 1 holds layers 1-2 (dense) and 17-18, 33-34, 49-50: 2 dense + 6 MoE, a middle kind of its own
  assert.deepEqual([k.nDense[1], k.nMoe[1], k.role[1], k.firstIndex[1], k.count[1]], [2, 6, 0, 1, 1]);
  // ranks 2-6: 8 MoE layers each
  assert.deepEqual([k.nDense[2], k.nMoe[2], k.role[2], k.firstIndex[2], k.count[2]], [0, 8, 0, 2, 5]);
  // rank 7: stages 7, 15, 23, 31 = 6 decoder layers + the MTP layer (MoE) + the loss
  assert.deepEqual([k.nDense[3], k.nMoe[3], k.role[3], k.firstIndex[3], k.count[3]], [0, 7, STAGE_LAST | STAGE_MTP, 7, 1]);
  assert.equal(k.n, 4);
  // the cache gives the same kinds
  const cache = new StageLayoutCache(61, DSV3_PREFIX, 0, 1);
  assert.deepEqual(Array.from(cache.layout('Et|(tt|)*30mL', 8).nMoe.subarray(0, 4)), [6, 6, 8, 7]);
});
