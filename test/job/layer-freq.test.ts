/** moe_layer_freq forms: Megatron's list expression, the layer mask, and the command-line form. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkLayerFreq,
  formatLayerFreq,
  layerFreqFromMask,
  layerMaskFromFreq,
  parseLayerFreqExpression,
} from '../../src/job/layer-freq.js';
import { modelShape } from '../../src/job/shape.js';
import { jobFromObject } from '../../src/job/load-job.js';
import { makeCostModelsDir } from './cost-models-dir.js';

test('Megatron list expressions', () => {
  assert.deepEqual(parseLayerFreqExpression('([0]*3+[1]*58)'), [0, 0, 0, ...new Array<number>(58).fill(1)]);
  assert.deepEqual(parseLayerFreqExpression('[1,0]*2'), [1, 0, 1, 0]);
  assert.deepEqual(parseLayerFreqExpression('2*[0]+[1, 1,]'), [0, 0, 1, 1]);
  assert.equal(parseLayerFreqExpression('2'), 2);
  assert.equal(parseLayerFreqExpression('[0]*x'), undefined);
  assert.equal(parseLayerFreqExpression('([0]*3'), undefined);
  assert.equal(parseLayerFreqExpression('[0]+1'), undefined);
  assert.equal(parseLayerFreqExpression('[[0]]'), undefined);
  assert.equal(parseLayerFreqExpression('__import__("os")'), undefined);
});

test('checkLayerFreq keeps ints and lists, turns expressions into lists', () => {
  assert.deepEqual(checkLayerFreq(3, 10), { ok: 3 });
  assert.deepEqual(checkLayerFreq('[1]*4', 4), { ok: [1, 1, 1, 1] });
  assert.deepEqual(checkLayerFreq('[0]*2', 3), { problem: 'list must have one entry per layer: 3 for num_layers 3 (got 2)' });
});

test('masks', () => {
  assert.deepEqual([...layerMaskFromFreq(2, 5)], [1, 0, 1, 0, 1]);
  assert.deepEqual([...layerMaskFromFreq([0, 1, 1], 3)], [0, 1, 1]);
  assert.equal(layerFreqFromMask([1, 0, 0, 1, 0, 0]), 3);
  assert.deepEqual(layerFreqFromMask([0, 1, 1]), [0, 1, 1]);
  const job = jobFromObject(
    { model: { num_layers: 6, hidden_size: 64, num_attention_heads: 4, vocab_size: 100, num_experts: 4, moe_layer_freq: 2 }, cluster: { gpus: 8 } },
    'j.yaml',
    {},
    { costModelsDir: makeCostModelsDir() },
  );
  const shape = modelShape(job.model);
  assert.deepEqual([...shape.moeLayerMask], [1, 0, 1, 0, 1, 0]);
  assert.equal(shape.numMoeLayers, 3);
  assert.equal(shape.numDenseLayers, 3);
});

test('command-line form', () => {
  assert.equal(formatLayerFreq(1), '1');
  assert.equal(formatLayerFreq([0, 0, 0, 1, 1]), '([0]*3+[1]*2)');
  assert.equal(formatLayerFreq([1, 0, 1]), '([1]+[0]+[1])');
  assert.deepEqual(parseLayerFreqExpression(formatLayerFreq([0, 1, 1, 0])), [0, 1, 1, 0]);
});
