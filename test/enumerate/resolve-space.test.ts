import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFixes, loadSearchSpace } from '../../src/enumerate/search-space.js';
import { divisors, resolveSpace, unevenSplits } from '../../src/enumerate/resolve-space.js';
import {
  LLAMA3_70B, TINY_MOE, deepseekZooJob, makeJob, mixtralZooJob, shapeOf,
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
  assert.deepEqual(r.pp, [1, 2, 4, 8, 16]); // 32 has no split of 61 layers within a reduction of 4
  // 61 is prime: no uneven split has first, last and middle all divisible by any v >= 2
  assert.deepEqual(r.vpp, [1]);
  assert.deepEqual(r.ep, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  assert.deepEqual(r.etp, [1, 2, 4, 8]);
  assert.deepEqual(r.mbs, [1, 2, 4]);
  assert.deepEqual(pairs(r.splitFirst[4], r.splitLast[4]), [[0, 0], [4, 1], [3, 2], [2, 3], [1, 4]]);
  assert.deepEqual(pairs(r.splitFirst[0], r.splitLast[0]), [[61, 61]]);
});

test('auto resolution, Mixtral 8x22B on 128 GPUs: VPP 7 offered, PP16 not', () => {
  const job = mixtralZooJob();
  const r = resolveSpace(job, shapeOf(job), loadSearchSpace());
  assert.deepEqual(r.pp, [1, 2, 4, 8]);
  assert.deepEqual(r.vpp, [1, 2, 4, 7]);
  assert.deepEqual(r.ep, [1, 2, 4, 8]);
  assert.deepEqual(pairs(r.splitFirst[3], r.splitLast[3]), [[7, 7], [4, 4]]);
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
  assert.deepEqual(r.tp, [1, 2, 4, 8]);
  assert.deepEqual(r.ep, [1]);
  assert.deepEqual(r.etp, []);
  assert.deepEqual(r.pp, [1, 2, 4, 8, 16]);
  assert.deepEqual(r.vpp, [1, 2, 4, 5, 8]);
});

test('uneven stages off: only even splits, and PP values without one are not offered', () => {
  const job = deepseekZooJob();
  const r = resolveSpace(job, shapeOf(job), applyFixes(loadSearchSpace(), 'uneven=off'));
  assert.deepEqual(r.pp, [1]);
  assert.deepEqual(r.splitFirst.map((f) => f.length), [1]);
});
