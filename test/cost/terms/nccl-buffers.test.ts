import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import {
  NCCL_LL128_BUFFER_BYTES, NCCL_LL_BUFFER_BYTES, ncclCollectiveBufferBytes, ncclP2pBufferBytes, ringPeers,
} from '../../../src/cost/terms/nccl-buffers.js';

const cal = loadCalibration('h100-sxm');
const MiB = 2 ** 20;

test('NCCL protocol buffers per connection: LL 512 KiB, LL128 4.6875 MiB (src/init.cc defaults)', () => {
  assert.equal(NCCL_LL_BUFFER_BYTES, 512 * 1024);
  assert.equal(NCCL_LL128_BUFFER_BYTES, 4.6875 * MiB);
  assert.equal(cal.ncclBuffsizeBytes, 4 * MiB);
});

test('a collective communicator: 16 ring channels x (0.5 + 4.6875 + 4) MiB = 147 MiB; nothing for one rank', () => {
  assert.equal(ncclCollectiveBufferBytes(8, cal), 16 * 9.1875 * MiB);
  assert.equal(ncclCollectiveBufferBytes(1024, cal), 147 * MiB);
  assert.equal(ncclCollectiveBufferBytes(1, cal), 0);
});

test('point-to-point: peers x 2 channels x 8 steps x chunk (512 KiB in a node, 128 KiB across nodes)', () => {
  assert.equal(ncclP2pBufferBytes(7, false, cal), 7 * 2 * 8 * 512 * 1024); // EP8 in a node: 56 MiB
  assert.equal(ncclP2pBufferBytes(31, true, cal), 31 * 2 * MiB); // EP32 across nodes: 62 MiB
  assert.equal(ncclP2pBufferBytes(0, true, cal), 0);
  assert.deepEqual([1, 2, 3, 8].map(ringPeers), [0, 1, 2, 2]);
});
