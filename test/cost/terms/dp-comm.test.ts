import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import {
  CollectiveKind, ncclRingLatencyS, ncclTreeAllReduceLatencyS, ringAllReduceTimeS, ringReduceScatterTimeS,
  collectiveAlphaS,
} from '../../../src/cost/comm.js';
import {
  DpCollective, ddpBucketParams, dpCollectiveAlphaS, dpCollectivePerByteS, dpExposedWithStealTimeS,
  dpFirstChunkBuckets, dpPhaseTimeS, dpTailExposedTimeS, dpTreeAllReduceAlphaS, dpTreeAllReducePerByteS,
  dpUnhideableTimeS, dpWindowS,
} from '../../../src/cost/terms/dp-comm.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-9): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('NCCL ring latency grows with the ring length: base + intra steps + network steps (tuning.cc, Simple)', () => {
  // 8 GPUs in a node, reduce-scatter: 8.4 + 7 x 3.4 = 32.2 us; all-reduce: 8.4 + 14 x 3.4 = 56 us
  close(ncclRingLatencyS(CollectiveKind.ReduceScatter, 8, 1, cal), 32.2e-6);
  close(ncclRingLatencyS(CollectiveKind.AllReduce, 8, 1, cal), 56e-6);
  // DP 336 over 168 nodes (2 per node): 8.4 + (335 - 167) x max(3.4, 3 x 1) + 167 x 14 = 2917.6 us
  close(ncclRingLatencyS(CollectiveKind.ReduceScatter, 336, 168, cal), 2917.6e-6);
  // all-reduce doubles both step counts: 8.4 + (670 - 334) x 3.4 + 334 x 14 = 5826.8 us
  close(ncclRingLatencyS(CollectiveKind.AllReduce, 336, 168, cal), 5826.8e-6);
  assert.equal(ncclRingLatencyS(CollectiveKind.AllGather, 1, 1, cal), 0);
  // tree: 8.4 + 2 x ((8 - 1) x 4 + log2(64) x 14) = 232.4 us for 512 ranks on 64 nodes
  close(ncclTreeAllReduceLatencyS(512, 64, cal), 232.4e-6);
  assert.ok(ncclTreeAllReduceLatencyS(512, 64, cal) < ncclRingLatencyS(CollectiveKind.AllReduce, 512, 64, cal));
});

test('DP coefficients: alpha is the NCCL ring latency, alpha + bytes x c the ring collective\'s bandwidth part', () => {
  const a = dpCollectiveAlphaS(DpCollective.ReduceScatter, 64, 8, cal);
  close(a, ncclRingLatencyS(CollectiveKind.ReduceScatter, 64, 8, cal));
  const c = dpCollectivePerByteS(DpCollective.ReduceScatter, 64, 8, 8, cal);
  close(c * 4e9, ringReduceScatterTimeS(4e9, 64, 8, 8, cal) - collectiveAlphaS(8, cal));
  const cAr = dpCollectivePerByteS(DpCollective.AllReduce, 64, 8, 8, cal);
  close(cAr * 4e9, ringAllReduceTimeS(4e9, 64, 8, 8, cal) - collectiveAlphaS(8, cal));
  close(dpTreeAllReducePerByteS(cAr, cal), cAr / 0.71);
  close(dpTreeAllReduceAlphaS(64, 8, cal), ncclTreeAllReduceLatencyS(64, 8, cal));
  assert.equal(dpCollectiveAlphaS(DpCollective.AllGather, 1, 1, cal), 0);
  assert.equal(dpCollectivePerByteS(DpCollective.AllGather, 1, 1, 8, cal), 0);
});

test('buckets: max(40M, 1M x DP) parameters, only chunk 0 of stage 0 is cut; one collective per bucket', () => {
  assert.equal(ddpBucketParams(16), 40e6);
  assert.equal(ddpBucketParams(336), 336e6);
  // 5.5e9 parameters on stage 0 with VPP 12: chunk 0 holds 458e6 -> 2 buckets of 336e6; later stages 1
  assert.equal(dpFirstChunkBuckets(5.5e9, 12, 0, 336e6), 2);
  assert.equal(dpFirstChunkBuckets(5.5e9, 12, 3, 336e6), 1);
  assert.equal(dpFirstChunkBuckets(0, 12, 0, 336e6), 0);
  // phase: (2 + 11) collectives x alpha + bytes x c
  close(dpPhaseTimeS(1e-3, 1e-10, 5.5e9, 4, 12, 2), 13e-3 + 5.5e9 * 4 * 1e-10);
  assert.equal(dpPhaseTimeS(0, 0, 5.5e9, 4, 12, 2), 0);
});

test('window: VPP hides all but chunk 0 behind (vpp-1) x G chunk passes; 1F1B per bucket or per stage index', () => {
  // VPP 4, group 8, backward pass 0.2 s: 3 x 8 x 0.2 / 4 = 1.2 s
  close(dpWindowS(0.2, 4, 8, 0, 3), 1.2);
  // 1F1B stage 0 with 4 buckets: 3/4 of the pass; one bucket: nothing; stage 3: 3 passes
  close(dpWindowS(0.2, 1, 1, 0, 4), 0.15);
  assert.equal(dpWindowS(0.2, 1, 1, 0, 1), 0);
  close(dpWindowS(0.2, 1, 1, 3, 1), 0.6);
  // unhideable: VPP chunk 0 = b0 alphas + 1/vpp of the bytes; 1F1B stage 0 the last bucket; later stages none
  close(dpUnhideableTimeS(1e-3, 1e-10, 4e9, 4, 4, 2, 0), 2e-3 + (4e9 * 4 * 1e-10) / 4);
  close(dpUnhideableTimeS(1e-3, 1e-10, 4e9, 4, 1, 4, 0), 1e-3 + (4e9 * 4 * 1e-10) / 4);
  assert.equal(dpUnhideableTimeS(1e-3, 1e-10, 4e9, 4, 1, 1, 2), 0);
});

test('exposed tail: max(unhideable, T - window, (1 - max fraction) T), capped at T; hidden part steals SMs', () => {
  close(dpTailExposedTimeS(1.0, 0.25, 0.5, cal), 0.5); // T - window wins
  close(dpTailExposedTimeS(1.0, 0.25, 5, cal), 0.25); // chunk 0 stays exposed
  close(dpTailExposedTimeS(1.0, 0, 5, cal), 1 - cal.dpOverlapMaxFraction); // the cap
  close(dpTailExposedTimeS(1.0, 0, 0, cal), 1.0);
  assert.equal(dpTailExposedTimeS(0, 0, 1, cal), 0);
  close(dpExposedWithStealTimeS(1.0, 0.25, cal), 0.25 + 0.75 * cal.smStealFraction);
  // interleaving hides more than one micro-batch could: T = 1 s, stage time 0.3 s, VPP 4, G 8
  const vppEx = dpTailExposedTimeS(1.0, 0.25, dpWindowS(0.2, 4, 8, 0, 1), cal);
  const oneMb = dpTailExposedTimeS(1.0, 0.25, 0.2, cal);
  assert.ok(vppEx < oneMb);
});
