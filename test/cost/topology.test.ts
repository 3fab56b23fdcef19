import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupTopology, membersPerNode, newGroupTopology, nodesSpanned, parseRankOrder } from '../../src/cost/topology.js';
import { TP_PP_DP_ORDER } from '../../src/enumerate/rank-groups.js';
import { attentionGroups, expertGroups } from '../enumerate/oracles.js';
import { plan } from './fixtures.js';

test('strided groups: members per node and nodes spanned', () => {
  assert.equal(membersPerNode(1, 8, 8), 8);
  assert.equal(nodesSpanned(1, 8, 8), 1);
  assert.equal(nodesSpanned(1, 64, 8), 8); // EP64 contiguous
  assert.equal(membersPerNode(2, 32, 8), 4); // stride 2: 4 per node
  assert.equal(nodesSpanned(2, 32, 8), 8);
  assert.equal(membersPerNode(8, 16, 8), 1); // stride = node size: one per node
  assert.equal(nodesSpanned(16, 4, 8), 4);
  assert.equal(nodesSpanned(1, 3, 8), 2); // a 3-rank block does not divide the node: it can straddle
  assert.equal(nodesSpanned(1, 1, 8), 1);
});

test('megatron.md §1.4: W=16 TP2 CP2 PP2 DP2 | ETP1 EP4 EDP2, 8 GPUs per node', () => {
  const p = plan({ tp: 2, cp: 2, pp: 2, ep: 4, etp: 1 }, 16, 4, 16);
  assert.equal(p.dp, 2); assert.equal(p.edp, 2);
  const t = groupTopology(p, 8, newGroupTopology());
  assert.equal(t.tpNodes, 1); // [0,1]
  assert.equal(t.cpNodes, 1); // [0,2]
  assert.equal(t.dpcpNodes, 1); assert.equal(t.dpcpPerNode, 4); // dp-cp [0,2,4,6]
  assert.equal(t.epNodes, 1); assert.equal(t.epPerNode, 4); // ep [0,1,2,3]
  assert.equal(t.edpNodes, 1); // edp [0,4]
  assert.equal(t.ppInterNode, true); // pp [0,8]
  // the same mapping on 4-GPU nodes: dp-cp [0,2,4,6] spans 2 nodes (2 each), edp [0,4] spans 2
  const t4 = groupTopology(p, 4, newGroupTopology());
  assert.equal(t4.dpcpNodes, 2); assert.equal(t4.dpcpPerNode, 2);
  assert.equal(t4.edpNodes, 2); assert.equal(t4.epNodes, 1);
});

test('DeepSeek-V3 TP1 PP16 EP64 on 1024: EP spans 8 nodes, EDP = 1', () => {
  const p = plan({ tp: 1, pp: 16, ep: 64 }, 1024, 64, 8192);
  const t = groupTopology(p, 8, newGroupTopology());
  assert.equal(t.epNodes, 8); assert.equal(t.epPerNode, 8);
  assert.equal(p.edp, 1); assert.equal(t.edpNodes, 1);
  assert.equal(t.dpcpNodes, 8); // DP 64 contiguous at stride 1
});

// Nodes spanned by the worst group, counted on the generator's rank lists.
function worstNodes(groups: number[][], g: number): number {
  return Math.max(...groups.map((gr) => new Set(gr.map((r) => Math.floor(r / g))).size));
}

test('topology agrees with the rank generator\'s groups (default order, 8- and 4-GPU nodes)', () => {
  for (const g of [8, 4]) {
    for (const [tp, cp, pp, ep, etp] of [[2, 2, 2, 4, 1], [1, 1, 4, 8, 1], [4, 1, 2, 2, 2], [8, 2, 1, 16, 1], [2, 1, 8, 2, 4]]) {
      const world = 64;
      const p = plan({ tp, cp, pp, ep, etp }, world, 16, 1024);
      const t = groupTopology(p, g, newGroupTopology());
      const attn = (s: string): number[][] => attentionGroups(world, tp, cp, pp, s);
      const exp = (s: string): number[][] => expertGroups(world, etp, ep, pp, s);
      const what = `tp${tp} cp${cp} pp${pp} ep${ep} etp${etp} on ${g}-GPU nodes`;
      assert.equal(t.tpNodes, worstNodes(attn('tp'), g), what);
      assert.equal(t.cpNodes, worstNodes(attn('cp'), g), what);
      assert.equal(t.dpcpNodes, worstNodes(attn('dp-cp'), g), what);
      assert.equal(t.etpNodes, worstNodes(exp('tp'), g), what);
      assert.equal(t.epNodes, worstNodes(exp('ep'), g), what);
      assert.equal(t.etpEpNodes, worstNodes(exp('tp-ep'), g), what);
      assert.equal(t.edpNodes, worstNodes(exp('dp'), g), what);
      assert.equal(t.ppInterNode, pp > 1 && worstNodes(attn('pp'), g) > 1, what);
    }
  }
});

test("--use-tp-pp-dp-mapping order: PP at stride TP·CP stays inside the node; a holed DP×CP group is refused", () => {
  // W=16, TP2 PP2 CP1 | ETP1 EP2 (megatron.md §1.4): pp [[0,2],…] on one node, vs [0,8] with the default order
  const p = plan({ tp: 2, pp: 2, ep: 2, etp: 1 }, 16, 4, 16);
  const order = parseRankOrder(TP_PP_DP_ORDER);
  assert.equal(groupTopology(p, 8, newGroupTopology(), order).ppInterNode, false);
  assert.equal(groupTopology(p, 8, newGroupTopology()).ppInterNode, true);
  // CP 2 with PP last-but-one: dp-cp = cp (stride 2) × dp (stride 8) has holes
  const q = plan({ tp: 2, cp: 2, pp: 2, ep: 4, etp: 1 }, 16, 4, 16);
  assert.throws(() => groupTopology(q, 8, newGroupTopology(), order), /strided block/);
});
