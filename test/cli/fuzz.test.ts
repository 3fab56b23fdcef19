import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from '../../scripts/fuzz.js';

// The short, seeded form of `npm run fuzz`: a few random jobs through the whole tune path.
test('fuzz: random valid jobs never crash, exit only 0 or 2, print only valid plans that fit', async () => {
  const c = await fuzz(12, 7001);
  assert.deepEqual(c.failures, []);
  assert.equal(c.jobs, 12);
  assert.ok(c.planned >= 6, `most random jobs should be plannable (planned ${c.planned}, refused: ${c.refusals.join(' | ')})`);
});
