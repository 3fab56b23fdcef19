import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFixes, loadSearchSpace } from '../../src/enumerate/search-space.js';
import {
  ACCOUNT_EMBEDDING, ACCOUNT_LOSS, divisors, pipelineSplits, resolveSpace, unevenSplits,
} from '../../src/enumerate/resolve-space.js';
import { balancedLayoutStages, formatLayout, layoutDecoderCounts } from '../../src/plan/pipeline-layout.js';
import { deriveLayout, virtualStageLayers } from '../../src/plan/layout.js';
import {
  LLAMA3_70B, TINY_MOE, deepseekZooJob, makeJob, mixtralZooJob, qwen3_235bJob, shapeOf,
} from './jobs.js';

const pairs = (first: Int32Array, last: Int32Array) => [...first].map((a, i) => [a, last[i]]);

test('divisors', () => {
  assert.deepEqual(divisors(1), [1]);
  assert.deepEqual(divisors(36), [1, 2, 3, 4, 6, 9, 12, 18, 36]);
  assert.deepEqual(divisors(61), [1, 61]);
  assert.equal(divisors(16384).length, 15);
});

test('unevenSplits: DeepSeek-V3 (61 layers) on PP16 gives the model zoo 4/1 and its mirror images', () => {
  assert.deepEqual(unevenSplits(61, 16, 4), [[4, 1], [3, 2], [2, 3], [1, 4]]);
  assert.deepEqual(unevenSplits(61, 16, 2), [[3, 2], [2, 3]]); // 4/1 needs a reduction of 3
  assert.deepEqual(unevenSplits(61, 16, 0), []);
});

test('unevenSplits: with middle stages of m layers, first/last at most N below m, total = num_layers', () => {
  // 56 layers on PP8: m = 7 is the even split (excluded); m = 8 leaves 8 layers for first + last
  assert.deepEqual(unevenSplits(56, 8, 4), [[4, 4]]);
  assert.deepEqual(unevenSplits(56, 8, 3), []);
  // 60 layers on PP16 (DeepSeek-V2 zoo: 2/2): m = 4 leaves 4 for first + last
  assert.deepEqual(unevenSplits(60, 16, 2), [[2, 2]]);
  // PP2 has no middle stage: first + last = num_layers, 1 <= |first − last| <= N
  assert.deepEqual(unevenSplits(61, 2, 3), [[31, 30], [30, 31], [32, 29], [29, 32]]);
  assert.deepEqual(unevenSplits(10, 2, 1), []);
  assert.deepEqual(unevenSplits(10, 1, 4), []);
  for (const [L, pp, N] of [[61, 8, 4], [94, 8, 3], [48, 3, 5], [7, 4, 2]]) {
    for (const [a, b] of unevenSplits(L, pp, N)) {
      const m = (L - a - b) / (pp - 2);
      assert.ok(Number.isInteger(m) && a >= 1 && b >= 1 && a <= m && b <= m && m - a <= N && m - b <= N && !(a === m && b === m),
        `${L} layers PP${pp}: ${a}/${b}`);
    }
  }
});

test('auto resolution, DeepSeek-V3 on 1,024 GPUs (default space)', () => {
  const job = deepseekZooJob();
  const r = resolveSpace(job, shapeOf(job), loadSearchSpace());
  assert.deepEqual(r.tp, [1, 2, 4, 8]);
  assert.deepEqual(r.cp, [1, 2, 4, 8]);
  // 32 has no split of 61 layers within a reduction of 4, no accounted split (62, 63 % 32 != 0) and no balanced
  // layout: VPP2 gives 64 stages for 64 slots, so the last stage cannot hold both m and L
  assert.deepEqual(r.pp, [1, 2, 4, 8, 16]);
  // 61 is prime, so no even or uneven split takes a VPP >= 2 (first, last and middle all divisible), and the
  // accounted splits (PP2: 62/2 = 31 per rank) none either; but every v of 2…8 has a balanced layout (PP2 has
  // 64 slots on 2v stages, v <= 8): the list was [1] before layouts
  assert.deepEqual(r.vpp, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(r.ep, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  assert.deepEqual(r.etp, [1, 2, 4, 8]);
  assert.deepEqual(r.mbs, [1, 2, 4]);
  assert.deepEqual(r.sequenceParallel, [true]);
  // PP16: the even split (0/0, pruned), the uneven ones, no accounted split (62, 63 % 16 != 0), and the one
  // balanced layout (VPP2: 32 stages of 2 slots; VPP3 leaves 1 slot for "mL")
  assert.deepEqual(pairs(r.splitFirst[4], r.splitLast[4]), [[0, 0], [4, 1], [3, 2], [2, 3], [1, 4], [3, 2]]);
  assert.deepEqual(r.splitLayout[4], ['', '', '', '', '', 'Et|(tt|)*30mL']);
  assert.deepEqual([...r.splitVpp[4]], [0, 0, 0, 0, 0, 2]);
  assert.deepEqual([...r.splitAccount[4]], [0, 0, 0, 0, 0, 0]);
  // PP2: the accounted splits whose count 2 divides, loss only (62: 31/30) and embedding only (62: 30/31)
  const acc = [...r.splitAccount[1]].map((a, i) => [a, r.splitFirst[1][i], r.splitLast[1][i]]).filter(([a]) => a !== 0);
  assert.deepEqual(acc, [[ACCOUNT_LOSS, 31, 30], [ACCOUNT_EMBEDDING, 30, 31]]);
  assert.deepEqual(pairs(r.splitFirst[0], r.splitLast[0]), [[61, 61]]);
});

test('auto resolution, Mixtral 8x22B on 128 GPUs: VPP 7 offered; PP16 only through balanced layouts', () => {
  const job = mixtralZooJob();
  const r = resolveSpace(job, shapeOf(job), loadSearchSpace());
  // PP16 has no even (56 % 16), uneven (m = 4 leaves 0 for first + last) or accounted (57, 58 % 16) split, but
  // balanced layouts for VPP 2 (58 slots on 32 stages) and 3 (48 stages); VPP 4 would need 64 slots
  assert.deepEqual(r.pp, [1, 2, 4, 8, 16]);
  assert.deepEqual(r.vpp, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(r.ep, [1, 2, 4, 8]);
  assert.deepEqual(r.splitLayout[4].map((l, i) => [l !== '', r.splitVpp[4][i]]), [[false, 0], [true, 2], [true, 3]]);
  // PP8: even 7/7, uneven 4/4, no accounted split (57, 58 % 8 != 0), layouts for VPP 2…7 (58 slots, 8v stages)
  assert.deepEqual(pairs(r.splitFirst[3], r.splitLast[3]).slice(0, 2), [[7, 7], [4, 4]]);
  assert.deepEqual([...r.splitVpp[3]], [0, 0, 2, 3, 4, 5, 6, 7]);
  // without layouts the old lists: VPP 7 from the 7 layers per stage of PP8, PP16 not offered
  const plain = resolveSpace(job, shapeOf(job), applyFixes(loadSearchSpace(), 'layouts=off'));
  assert.deepEqual(plain.pp, [1, 2, 4, 8]);
  assert.deepEqual(plain.vpp, [1, 2, 4, 7]);
  assert.deepEqual(pairs(plain.splitFirst[3], plain.splitLast[3]), [[7, 7], [4, 4]]);
});

test('auto resolution filters by the rules of that value alone; explicit lists are kept', () => {
  // 24 heads, 6 query groups, 48 GPUs: TP 3 and 6 divide both, 4 breaks the groups rule, 16 the heads
  const job = makeJob({ ...TINY_MOE, num_attention_heads: 24, num_query_groups: 6, moe_ffn_hidden_size: 1020 },
    { gpus: 48, globalBatchSize: 96, seqLength: 3072 });
  const space = loadSearchSpace();
  const r = resolveSpace(job, shapeOf(job), applyFixes(space, 'tp=auto,cp=auto,etp=auto,mbs=auto'));
  assert.deepEqual(r.tp, [1, 2, 3, 6, 12, 24]);
  assert.deepEqual(r.cp, [1, 2, 3, 4, 6, 8, 12, 16, 24, 48].filter((c) => c === 1 || 3072 % (2 * c) === 0));
  assert.deepEqual(r.etp, [1, 2, 3, 4, 6, 12]); // divisors of 48 dividing 1020
  assert.deepEqual(r.mbs, divisors(96));
  const explicit = resolveSpace(job, shapeOf(job), applyFixes(space, 'tp=16/4/4'));
  assert.deepEqual(explicit.tp, [4, 16]);
});

test('auto max caps the list; the dense model has EP [1] and no etp', () => {
  const job = makeJob(LLAMA3_70B, { gpus: 64, globalBatchSize: 512 });
  const r = resolveSpace(job, shapeOf(job), loadSearchSpace());
  // TP 16 would pass (64 heads, 8 groups, ffn 28672): the max 8 stops it
  assert.deepEqual(r.tp, [1, 2, 4, 8]);
  assert.deepEqual(resolveSpace(job, shapeOf(job), applyFixes(loadSearchSpace(), 'tp=auto')).tp, [1, 2, 4, 8, 16, 32, 64]);
  assert.deepEqual(r.ep, [1]);
  assert.deepEqual(r.etp, []);
  assert.deepEqual(r.sequenceParallel, [true, false]);
  // PP32 (80 % 32 != 0, no uneven or accounted split) has one balanced layout: VPP2, 82 slots on 64 stages
  assert.deepEqual(r.pp, [1, 2, 4, 8, 16, 32]);
  // before layouts [1, 2, 4, 5, 8]: the even/uneven splits' divisors; now PP2's balanced layout takes every v
  // (82 slots on 2v stages), so only the max 8 stops the list, which without it runs to num_layers/2 = 40
  assert.deepEqual(r.vpp, [1, 2, 3, 4, 5, 6, 7, 8]);
  const uncapped = resolveSpace(job, shapeOf(job), applyFixes(loadSearchSpace(), 'vpp=auto'));
  assert.deepEqual(uncapped.vpp, Array.from({ length: 40 }, (_x, i) => i + 1));
  assert.deepEqual(resolveSpace(job, shapeOf(job), applyFixes(loadSearchSpace(), 'layouts=off')).vpp, [1, 2, 4, 5, 8]);
});

test('uneven stages off: only even splits (with accounted splits and layouts off too), and PP values without one are not offered', () => {
  const job = deepseekZooJob();
  const r = resolveSpace(job, shapeOf(job), applyFixes(loadSearchSpace(), 'uneven=off,account=off,layouts=off'));
  assert.deepEqual(r.pp, [1]);
  assert.deepEqual(r.splitFirst.map((f) => f.length), [1]);
  // uneven off alone: every split is the even one (index 0), an accounted split or a layout, never first/last
  const u = resolveSpace(job, shapeOf(job), applyFixes(loadSearchSpace(), 'uneven=off'));
  assert.deepEqual(u.pp, [1, 2, 4, 8, 16]); // by the accounted splits (PP2) and the layouts
  u.pp.forEach((_pp, pi) => {
    for (let k = 1; k < u.splitFirst[pi].length; k++) {
      assert.ok(u.splitAccount[pi][k] !== 0 || u.splitLayout[pi][k] !== '', `PP${u.pp[pi]} split ${k}`);
    }
  });
});

test('pipelineSplits: even, uneven, accounted (embedding and loss, loss, embedding), then one balanced layout per VPP', () => {
  // Qwen3-235B-A22B, 94 layers on PP8: 94 % 8 != 0 (even 0/0); uneven m = 12: 12/10, 11/11, 10/12; accounted:
  // 96 % 8 == 0 (12 per rank: 11/11), 95 % 8 != 0
  const sp = pipelineSplits(94, 0, 8, 4, true, true, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(pairs(sp.first, sp.last).slice(0, 5), [[0, 0], [12, 10], [11, 11], [10, 12], [11, 11]]);
  assert.deepEqual([...sp.account].slice(0, 5), [0, 0, 0, 0, ACCOUNT_EMBEDDING | ACCOUNT_LOSS]);
  // layouts: 96 slots on 8v stages; for v = 2, 3, 4, 6 they divide evenly, so the balanced layout is the
  // accounted embedding-and-loss split and is not repeated; v = 5, 7, 8 remain
  assert.deepEqual([...sp.vpp], [0, 0, 0, 0, 0, 5, 7, 8]);
  assert.deepEqual(sp.layout.slice(0, 5), ['', '', '', '', '']);
  assert.equal(pipelineSplits(94, 0, 8, 4, false, true, [1, 2, 3, 4, 5, 6, 7, 8]).layout.filter((l) => l !== '').length, 7);
  // the skipped one is the same placement: the accounted split on PP8 VPP4 builds what the balanced layout states
  const job = qwen3_235bJob();
  const accounted = deriveLayout(job, { tp: 2, cp: 1, pp: 8, vpp: 4, ep: 8, accountEmbedding: true, accountLoss: true });
  assert.deepEqual(virtualStageLayers(accounted, 94), layoutDecoderCounts(formatLayout(balancedLayoutStages(94, 0, 8, 4)!)));
  // accounted off: no accounted split; PP1: neither accounted splits nor layouts
  assert.deepEqual([...pipelineSplits(94, 0, 8, 4, false, false, [1, 2]).account], [0, 0, 0, 0]);
  const one = pipelineSplits(94, 0, 1, 4, true, true, [1, 2, 3]);
  assert.deepEqual([pairs(one.first, one.last), one.layout, [...one.vpp]], [[[94, 94]], [''], [0]]);
  // with MTP no layout is skipped (the MTP slot makes it differ from any accounted split)
  const mtp = pipelineSplits(61, 1, 2, 4, true, true, [2, 4]);
  assert.deepEqual(mtp.layout.filter((l) => l !== ''), ['Et*15|(t*16|)*2t*14mL', 'Et*7|(t*8|)*6t*6mL']);
});
