import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { allToAllTimeS, collectiveAlphaS, ringAllGatherTimeS, ringReduceScatterTimeS } from '../../../src/cost/comm.js';
import {
  epAllgatherDispatchFwdTimeS, epAlltoallAlphaS, epAlltoallTimeS, epDispatchBufferBytes, epDispatchFwdTimeS,
  epExposedFwdTimeS, epExposedTimeS, epFlexAlltoallTimeS, epFlexSms, epFlexSmStealTimeS, epStealTimeS,
  etpGatherScatterTimeS,
} from '../../../src/cost/terms/ep-dispatch.js';
import { DEEPSEEK_V3 } from '../fixtures.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-12): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);
const h = DEEPSEEK_V3.hidden_size;
const k = DEEPSEEK_V3.moe_router_topk;
// DeepSeek-V3 at TP 1: 4096 tokens, top-8, imbalance factor 1.25
const tokens = 4096;
const load = 1.25;
const send = tokens * k * h * 2 * load;

test('alltoall (NCCL): intra share over NVLink, inter share through the NIC at the NCCL rate; alpha per nodes', () => {
  assert.equal(epAlltoallTimeS(send, 1, 1, 1, 8, cal), 0);
  close(epAlltoallAlphaS(1, cal), cal.epA2aAlphaS);
  close(epAlltoallAlphaS(8, cal), cal.epA2aAlphaS + collectiveAlphaS(8, cal));
  // EP 64 over 8 nodes, 8 per node
  close(epAlltoallTimeS(send, 64, 8, 8, 8, cal),
    allToAllTimeS(send, 64, 8, cal.nvlinkAlltoallBusbw, cal.epA2aNicBytesPerSNccl, epAlltoallAlphaS(8, cal)));
});

test('flex (DeepEP): one RDMA copy per remote node, then an NVLink leg to each target GPU ((p-1)/p of them)', () => {
  const tokenBytes = tokens * h * 2 * load;
  // inside one node (EP 8): the NVLink leg only, E[target ranks] = 8 (1 - (7/8)^8), 7/8 of them over NVLink
  const ranks8 = 8 * (1 - Math.pow(7 / 8, k));
  close(epFlexAlltoallTimeS(tokens, h, load, k, 8, 1, 8, 8, cal),
    cal.epA2aAlphaS + (tokenBytes * ranks8 * 7) / 8 / cal.epA2aNvlinkBusbwFlex);
  // EP 64 over 8 nodes: the RDMA leg, E[remote nodes] = 7 (1 - (7/8)^8) = 4.6 copies, is the larger one
  const remote = 7 * (1 - Math.pow(7 / 8, k));
  const inter = (tokenBytes * remote) / cal.epA2aNicBytesPerSFlex;
  const ranks64 = 64 * (1 - Math.pow(63 / 64, k));
  const nvl = (tokenBytes * ranks64 * 7) / 8 / cal.epA2aNvlinkBusbwFlex;
  assert.ok(nvl < inter);
  close(epFlexAlltoallTimeS(tokens, h, load, k, 64, 8, 8, 8, cal), epAlltoallAlphaS(8, cal) + inter);
  // the forwarding leg is counted: with one EP rank per node (stride 8) there is no NVLink leg; with a fast NIC
  // the NVLink leg (7/8 of ~7.6 copies) sets the time, not the old (p-1)/ep share
  const fastNic = { ...cal, epA2aNicBytesPerSFlex: 1e15, nicBytesPerS: 1e15 };
  close(epFlexAlltoallTimeS(tokens, h, load, k, 64, 8, 8, 8, fastNic) - epAlltoallAlphaS(8, cal), nvl, 1e-6);
  assert.ok(epFlexAlltoallTimeS(tokens, h, load, k, 8, 8, 1, 8, fastNic) - epAlltoallAlphaS(8, cal) < 1e-6);
  // deduplication: cheaper than the alltoall dispatcher, which sends all k copies through the NIC
  assert.ok(epFlexAlltoallTimeS(tokens, h, load, k, 64, 8, 8, 8, cal) < epAlltoallTimeS(send, 64, 8, 8, 8, cal));
});

test('flex SM steal: the hidden share runs compute on (132 - SMs)/132; DeepEP 20 SMs, HybridEP 32', () => {
  assert.equal(epFlexSms('deepep', cal), 20);
  assert.equal(epFlexSms('hybridep', cal), 32);
  close(epFlexSmStealTimeS(4, 0.5, 20, cal), 2 * 4 * 0.5 * (20 / 132));
  assert.equal(epFlexSmStealTimeS(4, 0, 20, cal), 0);
  close(epFlexSmStealTimeS(1, 1, 500, cal), 2); // never more than the whole GPU
});

test('allgather: all-gather + reduce-scatter of the ETP×EP group\'s tokens; ETP gather/scatter for the others', () => {
  const buf = tokens * h * 2 * 8;
  close(epAllgatherDispatchFwdTimeS(tokens, h, 8, 1, 8, cal),
    ringAllGatherTimeS(buf, 8, 1, 8, cal) + ringReduceScatterTimeS(buf, 8, 1, 8, cal));
  assert.equal(epAllgatherDispatchFwdTimeS(tokens, h, 1, 1, 8, cal), 0);
  close(etpGatherScatterTimeS(1e8, 2, 1, 8, cal), ringAllGatherTimeS(1e8, 2, 1, 8, cal) + ringReduceScatterTimeS(1e8, 2, 1, 8, cal));
});

test('per layer: forward = 2 all-to-alls (+ ETP), exposed fwd + bwd = 2 t_f (1 - hidden), the rest steals SMs', () => {
  assert.equal(epDispatchFwdTimeS('alltoall', 3, 100, 5, 1), 6);
  assert.equal(epDispatchFwdTimeS('flex', 3, 100, 5, 2), 11);
  assert.equal(epDispatchFwdTimeS('allgather', 3, 100, 5, 2), 100);
  assert.equal(epExposedTimeS(4, 0.25), 6);
  assert.equal(epExposedFwdTimeS(4, 0.25), 3);
  close(epStealTimeS(4, 0.25, cal), 2 * cal.smStealFraction);
});

test('dispatcher buffers: send + receive of the routed rows, or the allgather group when larger', () => {
  const rows = tokens * k * load;
  assert.equal(epDispatchBufferBytes('alltoall', rows, tokens, h, 8, 1), 2 * rows * h * 2);
  assert.equal(epDispatchBufferBytes('allgather', 100, tokens, h, 8, 1), tokens * h * 2 * 8);
});
