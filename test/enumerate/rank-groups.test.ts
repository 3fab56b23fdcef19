import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AXES, AXIS_CP, AXIS_DP, AXIS_EP, AXIS_PP, AXIS_TP, axisStride, groupBlockStride, parseRankOrder,
  TP_PP_DP_ORDER,
} from '../../src/enumerate/rank-groups.js';
import { enumeratePlans } from '../../src/enumerate/enumerate.js';
import { loadSearchSpace, applyFixes } from '../../src/enumerate/search-space.js';
import { TINY_MOE, makeJob, shapeOf } from './jobs.js';
import { attentionGroups, contiguousBlockInNode, expertGroups, groupsWithinNodes, ppGroupsMatch, rankGroups } from './oracles.js';

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test('§1.4: W=16, TP2 CP2 PP2 (DP2) | ETP1 EP4 (EDP2), order tp-cp-ep-dp-pp', () => {
  const attn = (g: string) => attentionGroups(16, 2, 2, 2, g);
  assert.deepEqual(attn('tp'), [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12, 13], [14, 15]]);
  assert.deepEqual(attn('cp'), [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9, 11], [12, 14], [13, 15]]);
  assert.deepEqual(attn('dp'), [[0, 4], [1, 5], [2, 6], [3, 7], [8, 12], [9, 13], [10, 14], [11, 15]]);
  assert.deepEqual(attn('dp-cp'), [[0, 2, 4, 6], [1, 3, 5, 7], [8, 10, 12, 14], [9, 11, 13, 15]]);
  assert.deepEqual(attn('pp'), range(0, 8).map((r) => [r, r + 8]));
  assert.deepEqual(attn('tp-cp'), [range(0, 4), range(4, 8), range(8, 12), range(12, 16)]);
  assert.deepEqual(attn('tp-pp'), [[0, 1, 8, 9], [2, 3, 10, 11], [4, 5, 12, 13], [6, 7, 14, 15]]);
  const exp = (g: string) => expertGroups(16, 1, 4, 2, g);
  assert.deepEqual(exp('tp'), range(0, 16).map((r) => [r]));
  assert.deepEqual(exp('ep'), [range(0, 4), range(4, 8), range(8, 12), range(12, 16)]);
  assert.deepEqual(exp('dp'), [[0, 4], [1, 5], [2, 6], [3, 7], [8, 12], [9, 13], [10, 14], [11, 15]]);
  assert.deepEqual(exp('pp'), attn('pp'));
});

test('§1.4: W=8, TP2 CP2 PP1 | ETP1 EP8 (EDP1): EP spans all 8 ranks', () => {
  assert.deepEqual(expertGroups(8, 1, 8, 1, 'ep'), [range(0, 8)]);
  assert.deepEqual(expertGroups(8, 1, 8, 1, 'dp'), range(0, 8).map((r) => [r]));
});

test('§1.4: W=16, TP2 PP2 | ETP2 EP4 (EDP1)', () => {
  assert.deepEqual(expertGroups(16, 2, 4, 2, 'tp'), range(0, 8).map((i) => [2 * i, 2 * i + 1]));
  assert.deepEqual(expertGroups(16, 2, 4, 2, 'ep'), [[0, 2, 4, 6], [1, 3, 5, 7], [8, 10, 12, 14], [9, 11, 13, 15]]);
  assert.deepEqual(expertGroups(16, 2, 4, 2, 'tp-ep'), [range(0, 8), range(8, 16)]);
});

test('§1.4: --use-tp-pp-dp-mapping, W=16 TP2 PP2 ETP1: EP4 mismatches the PP groups, EP2 (ETP·EP = TP·CP) matches', () => {
  assert.deepEqual(attentionGroups(16, 2, 1, 2, 'pp', TP_PP_DP_ORDER).slice(0, 2), [[0, 2], [1, 3]]);
  assert.deepEqual(expertGroups(16, 1, 4, 2, 'pp', TP_PP_DP_ORDER).slice(0, 2), [[0, 4], [1, 5]]);
  assert.equal(ppGroupsMatch(16, 2, 1, 1, 4, 2, TP_PP_DP_ORDER), false);
  assert.equal(ppGroupsMatch(16, 2, 1, 1, 2, 2, TP_PP_DP_ORDER), true);
  assert.equal(ppGroupsMatch(16, 2, 1, 1, 4, 2), true); // default order: PP outermost in both
});

test('with the default order every enumerated plan has matching PP groups (the pp-groups rule is world % (ETP·EP·PP))', () => {
  const job = makeJob(TINY_MOE, { gpus: 32, globalBatchSize: 64 });
  const space = applyFixes(loadSearchSpace(), 'recompute=none,distopt=true,dispatcher=alltoall,mbs=1,vpp=1,uneven=off');
  let n = 0;
  for (const p of enumeratePlans(job, shapeOf(job), space)) {
    assert.ok(ppGroupsMatch(32, p.tp, p.cp, p.etp, p.ep, p.pp), JSON.stringify(p));
    n++;
  }
  assert.ok(n > 50);
});

test('rankGroups checks its inputs like RankGenerator', () => {
  assert.throws(() => rankGroups(16, { tp: 2, dp: 4 }, 'tp-dp', 'tp'), /multiply to 8, not the world size 16/);
  assert.throws(() => rankGroups(8, { tp: 2, ep: 4 }, 'tp-dp', 'tp'), /ep has size 4 but the order 'tp-dp' omits it/);
  assert.throws(() => rankGroups(8, { tp: 8 }, 'tp-xx', 'tp'), /unknown order token 'xx'/);
  assert.deepEqual(rankGroups(8, { tp: 2, dp: 4 }, 'tp-pp-dp', 'dp'), [[0, 2, 4, 6], [1, 3, 5, 7]]);
});

test('node locality: contiguous blocks and explicit groups', () => {
  assert.equal(contiguousBlockInNode(8, 8), true);
  assert.equal(contiguousBlockInNode(4, 8), true);
  assert.equal(contiguousBlockInNode(16, 8), false);
  assert.equal(contiguousBlockInNode(3, 8), false);
  assert.equal(groupsWithinNodes(expertGroups(16, 1, 4, 2, 'ep'), 8), true);
  assert.equal(groupsWithinNodes(attentionGroups(16, 2, 2, 2, 'pp'), 8), false);
  assert.equal(groupsWithinNodes(attentionGroups(16, 2, 2, 2, 'dp-cp'), 8), true);
});

test('mixed-radix strides and strided-block groups (the rule the scorer\'s topology reads)', () => {
  const order = parseRankOrder('tp-cp-ep-dp-pp');
  // attention grid TP2 CP2 DP2 PP2 (sizes by AXES index: tp, cp, ep, dp, pp)
  const attn = [2, 2, 1, 2, 2];
  assert.deepEqual([AXIS_TP, AXIS_CP, AXIS_EP, AXIS_DP, AXIS_PP].map((a) => axisStride(order, attn, a)), [1, 2, 4, 4, 8]);
  assert.equal(groupBlockStride(order, attn, 1 << AXIS_CP), 2);
  assert.equal(groupBlockStride(order, attn, (1 << AXIS_DP) | (1 << AXIS_CP)), 2); // dp-cp [0,2,4,6]
  assert.equal(groupBlockStride(order, attn, (1 << AXIS_TP) | (1 << AXIS_PP)), -1); // tp-pp [0,1,8,9] has holes
  assert.equal(groupBlockStride(order, [1, 1, 1, 1, 1], 1 << AXIS_TP), 1);
  // the stride rule is the one rankGroups lists groups with
  assert.deepEqual(attentionGroups(16, 2, 2, 2, 'dp-cp')[0], [0, 2, 4, 6].map((j) => j));
  const alt = parseRankOrder(TP_PP_DP_ORDER);
  assert.equal(axisStride(alt, attn, AXIS_PP), 4);
  assert.equal(axisStride(alt, attn, AXIS_DP), 8);
  assert.equal(groupBlockStride(alt, attn, (1 << AXIS_DP) | (1 << AXIS_CP)), -1);
  assert.deepEqual(AXES, ['tp', 'cp', 'ep', 'dp', 'pp']);
});
