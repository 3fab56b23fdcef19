import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflightMicrobatches, pipelineBubbleTimeS, stageLayerStart } from '../../src/cost/pipeline.js';

test('bubble: (pp-1)/vpp mean stage times, i.e. the fraction (pp-1)/(m*vpp) of the ideal step m*t', () => {
  assert.equal(pipelineBubbleTimeS(8, 1, 0.5), 7 * 0.5);
  assert.equal(pipelineBubbleTimeS(8, 7, 0.5), 0.5);
  assert.equal(pipelineBubbleTimeS(1, 1, 0.5), 0);
  // as a fraction of m = 32 micro-batches of the ideal step
  const m = 32;
  assert.ok(Math.abs(pipelineBubbleTimeS(8, 7, 0.5) / (m * 0.5) - 7 / (m * 7)) < 1e-15);
});

test('in-flight micro-batches: 1F1B pp - r; interleaved first stage = pp(1 + (pp-1)/(pp vpp))', () => {
  assert.equal(inflightMicrobatches(0, 8, 1, 64), 8);
  assert.equal(inflightMicrobatches(7, 8, 1, 64), 1);
  assert.equal(inflightMicrobatches(0, 8, 1, 4), 4); // fewer micro-batches than stages
  assert.equal(inflightMicrobatches(0, 8, 7, 64), 8 * (1 + 7 / 56));
  assert.equal(inflightMicrobatches(7, 8, 7, 64), (0 * 2 + 6 * 8 + 1) / 7);
  assert.equal(inflightMicrobatches(0, 1, 1, 64), 1);
});

test('stage layer bounds: uneven first/last, even middle', () => {
  // DeepSeek-V3 61 layers, PP16, first 4, last 1: middle stages 4 each
  assert.equal(stageLayerStart(0, 16, 61, 4, 1), 0);
  assert.equal(stageLayerStart(1, 16, 61, 4, 1), 4);
  assert.equal(stageLayerStart(2, 16, 61, 4, 1), 8);
  assert.equal(stageLayerStart(15, 16, 61, 4, 1), 60);
  assert.equal(stageLayerStart(16, 16, 61, 4, 1), 61);
  assert.equal(stageLayerStart(1, 1, 32, 32, 32), 32);
  assert.equal(stageLayerStart(1, 2, 48, 20, 28), 20);
});
