import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../src/cost/calibration.js';
import {
  allToAllTimeS, collectiveAlphaS, p2pTimeS, ringAllGatherTimeS, ringAllReduceTimeS, ringReduceScatterTimeS,
} from '../../src/cost/comm.js';

const cal = loadCalibration('h100-sxm');
const GiB = 2 ** 30;
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('2 GiB all-gather over 8 GPUs in one node at 350 GB/s busbw', () => {
  close(ringAllGatherTimeS(2 * GiB, 8, 1, 8, cal), 20e-6 + ((7 / 8) * 2 * GiB) / 350e9);
});

test('reduce-scatter and all-reduce intra-node use their own busbw and factors', () => {
  close(ringReduceScatterTimeS(GiB, 4, 1, 8, cal), 20e-6 + ((3 / 4) * GiB) / 360e9);
  close(ringAllReduceTimeS(GiB, 8, 1, 8, cal), 20e-6 + (2 * (7 / 8) * GiB) / 370e9);
  assert.equal(ringAllGatherTimeS(GiB, 1, 1, 8, cal), 0);
});

test('inter-node, one member per node: NIC-bound (busbw = NIC rate)', () => {
  // 64 ranks on 64 nodes: busbw = 46e9 * 63/63
  const alpha = 25e-6 + 8e-6 * Math.log2(64);
  close(collectiveAlphaS(64, cal), alpha);
  close(ringAllGatherTimeS(GiB, 64, 64, 8, cal), alpha + ((63 / 64) * GiB) / 46e9);
});

test('inter-node, 8 members per node: hierarchical, only (nodes-1)/nodes crosses the NICs', () => {
  // 32 ranks on 4 nodes: busbw = min(370, 46 * 31/3 = 475.3) = 370 GB/s -> NVLink-bound all-reduce
  const alpha = 25e-6 + 8e-6 * 2;
  close(ringAllReduceTimeS(GiB, 32, 4, 8, cal), alpha + (2 * (31 / 32) * GiB) / 370e9);
  // 16 ranks on 8 nodes (2 per node): busbw = 46 * 15/7 = 98.57 GB/s
  close(ringReduceScatterTimeS(GiB, 16, 8, 8, cal), 25e-6 + 8e-6 * 3 + ((15 / 16) * GiB) / ((46e9 * 15) / 7));
});

test('all-to-all: intra share over NVLink, inter share through the NIC, concurrently', () => {
  // EP 32 over 4 nodes (8 per node), 1 GiB send buffer: intra 7/32 at 320 GB/s, inter 24/32 at 40 GB/s
  const t = allToAllTimeS(GiB, 32, 8, 320e9, 40e9, 30e-6);
  close(t, 30e-6 + ((24 / 32) * GiB) / 40e9);
  // inside one node only the NVLink term remains
  close(allToAllTimeS(GiB, 8, 8, 320e9, 40e9, 30e-6), 30e-6 + ((7 / 8) * GiB) / 320e9);
});

test('p2p: NVLink inside a node, NIC across', () => {
  close(p2pTimeS(1e8, false, 8, cal), 20e-6 + 1e8 / 376e9);
  close(p2pTimeS(1e8, true, 8, cal), 25e-6 + 1e8 / 46e9);
});
