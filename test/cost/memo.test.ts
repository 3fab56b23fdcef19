import { test } from 'node:test';
import assert from 'node:assert/strict';
import { L, M, layerSlot, mappingSlot, newLayerMemo, newMappingMemo } from '../../src/cost/memo.js';
import { plan } from './fixtures.js';

test('memos: a miss returns -1 - base and stores the key; the same key then hits at that base', () => {
  const lm = newLayerMemo();
  const p = plan({ tp: 2, pp: 8, vpp: 7, ep: 8 }, 128, 56, 256);
  const miss = layerSlot(lm, p);
  assert.ok(miss < 0);
  const base = -1 - miss;
  assert.equal(base % L.Count, 0);
  assert.equal(layerSlot(lm, p), base);
  // DP and PP are not part of the layer key; micro-batch size is
  assert.equal(layerSlot(lm, plan({ tp: 2, pp: 4, ep: 8 }, 128, 56, 256)), base);
  assert.ok(layerSlot(lm, plan({ tp: 2, pp: 8, ep: 8, mbs: 2 }, 128, 56, 256)) < 0);
  const mm = newMappingMemo();
  const m0 = mappingSlot(mm, p);
  assert.ok(m0 < 0);
  assert.equal(mappingSlot(mm, p), -1 - m0);
  assert.equal((-1 - m0) % M.Count, 0);
  assert.ok(mappingSlot(mm, plan({ tp: 2, pp: 4, ep: 8 }, 128, 56, 256)) < 0); // PP is part of the mapping key
});
