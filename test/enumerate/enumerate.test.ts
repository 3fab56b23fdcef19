import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/job/types.js';
import type { Plan } from '../../src/enumerate/plan.js';
import { clonePlan } from '../../src/enumerate/plan.js';
import type { SearchSpace } from '../../src/enumerate/search-space.js';
import { applyFixes, loadSearchSpace } from '../../src/enumerate/search-space.js';
import type { EnumStats } from '../../src/enumerate/enumerate.js';
import { enumeratePlans, mergeEnumStats, newEnumStats } from '../../src/enumerate/enumerate.js';
import { resolveSpace } from '../../src/enumerate/resolve-space.js';
import { spaceSize } from './oracles.js';
import { RULES, checkPlan } from '../../src/enumerate/rules.js';
import { bruteForce } from './brute-force.js';
import {
  TINY_DENSE, TINY_MOE, deepseekZooJob, llamaJob, makeJob, mixtralZooJob, qwen3ZooJob, shapeOf,
} from './jobs.js';

const list = (...values: number[]) => ({ kind: 'list' as const, values });

function run(job: Job, space: SearchSpace, shard?: { shardIndex: number; shardCount: number }) {
  const stats = newEnumStats();
  const keys: string[] = [];
  for (const p of enumeratePlans(job, shapeOf(job), space, shard ?? {}, stats)) keys.push(JSON.stringify(p));
  return { stats, keys };
}

function sumPruned(s: EnumStats): number {
  return Object.values(s.pruned).reduce((a, b) => a + b, 0);
}

/** Stats minus the zero entries (brute force only records rules that fired). */
function nonZero(pruned: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pruned).filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b)));
}

/** A space that lists values Megatron refuses, so that every pruning rule fires somewhere. */
const WIDE: SearchSpace = {
  source: 'test:wide',
  tp: list(1, 2, 3, 4, 16), cp: list(1, 2, 3, 4), pp: list(1, 2, 3, 4, 8, 16), vpp: list(1, 2, 3),
  ep: list(1, 2, 3, 4, 8, 16), etp: list(1, 2, 3, 4), microBatchSize: list(1, 3),
  uneven: { enabled: true, maxFirstLastReduction: 2 }, accountedSplits: true, layouts: true,
  sequenceParallel: [true, false],
  recompute: ['none'], dispatcher: ['alltoall', 'flex'], distributedOptimizer: [true],
};

const BRUTE_CASES: { what: string; job: Job; space: SearchSpace; mustFire: string[] }[] = [
  {
    what: 'made-up MoE (24 heads, 6 groups, odd ffn, half dense) on 48 GPUs, wide explicit lists',
    job: makeJob({ ...TINY_MOE, num_attention_heads: 24, num_query_groups: 6, ffn_hidden_size: 1001, moe_layer_freq: 2,
      moe_ffn_hidden_size: 1000 }, { gpus: 48, globalBatchSize: 24 }),
    space: WIDE,
    mustFire: ['attn-world-divisible', 'heads-divisible-by-tp', 'query-groups-vs-tp', 'ffn-divisible-by-tp',
      'cp-seq-divisible', 'pp-layer-split', 'vpp-needs-pp', 'vpp-layer-split', 'uneven-stage-split',
      'gbs-divisible-by-mbs-dp', 'vpp-microbatches', 'experts-divisible-by-ep', 'moe-ffn-divisible-by-etp',
      'expert-world-divisible', 'flex-needs-ep-etp'],
  },
  {
    what: 'made-up MoE with shared experts, seq 4100, on 16 GPUs',
    job: makeJob({ ...TINY_MOE, moe_shared_expert_intermediate_size: 1020, max_position_embeddings: 8192 },
      { gpus: 16, globalBatchSize: 32, seqLength: 4100 }),
    space: { ...WIDE, tp: list(1, 2, 4, 8), cp: list(1, 2), dispatcher: ['alltoall', 'allgather', 'flex'] },
    mustFire: ['shared-expert-divisible-by-tp', 'cp-tp-seq-divisible'],
  },
  {
    what: 'made-up dense model on 24 GPUs with EP values listed',
    job: makeJob(TINY_DENSE, { gpus: 24, globalBatchSize: 48 }),
    space: { ...WIDE, tp: list(1, 2, 3, 4, 6), cp: list(1, 2), pp: list(1, 2, 3, 4), ep: list(1, 2) },
    mustFire: ['dense-model-no-ep'],
  },
  {
    what: 'max_position_embeddings below seq_length',
    job: makeJob({ ...TINY_MOE, max_position_embeddings: 2048 }, { gpus: 16, globalBatchSize: 32 }),
    space: WIDE,
    mustFire: ['max-position-covers-seq'],
  },
];

for (const c of BRUTE_CASES) {
  test(`matches a brute-force checkPlan of every candidate: ${c.what}`, () => {
    const ref = bruteForce(c.job, shapeOf(c.job), c.space);
    const { stats, keys } = run(c.job, c.space);
    assert.equal(stats.enumerated, ref.enumerated);
    assert.equal(stats.enumerated, spaceSize(resolveSpace(c.job, shapeOf(c.job), c.space)));
    assert.equal(stats.valid, ref.validKeys.length);
    assert.deepEqual(keys, ref.validKeys); // same plans, same order
    assert.deepEqual(nonZero(stats.pruned), nonZero(ref.pruned));
    assert.equal(sumPruned(stats), stats.enumerated - stats.valid);
    for (const rule of c.mustFire) assert.ok(stats.pruned[rule] > 0, `${rule} never fired`);
  });
}

test('the brute-force cases make every pruning rule fire', () => {
  const fired = new Set(BRUTE_CASES.flatMap((c) => c.mustFire));
  for (const r of RULES) {
    if (r.use === 'prune') assert.ok(fired.has(r.name), `${r.name} is not exercised`);
  }
});

test('stats: every rule key present, sum(pruned) = enumerated − valid = space size − valid (default space)', () => {
  const space = loadSearchSpace();
  for (const job of [mixtralZooJob(), deepseekZooJob(), llamaJob()]) {
    const stats = newEnumStats();
    let n = 0;
    for (const _p of enumeratePlans(job, shapeOf(job), space, {}, stats)) n++;
    assert.deepEqual(Object.keys(stats.pruned), RULES.map((r) => r.name));
    assert.equal(stats.valid, n);
    assert.equal(stats.enumerated, spaceSize(resolveSpace(job, shapeOf(job), space)));
    assert.equal(sumPruned(stats), stats.enumerated - stats.valid);
    for (const r of RULES) if (r.use === 'construction') assert.equal(stats.pruned[r.name], 0);
  }
});

test('sharding: shard stats add up to the unsharded stats; each shard yields its combos in unsharded order', () => {
  const job = qwen3ZooJob();
  const space = applyFixes(loadSearchSpace(), 'recompute=none,distopt=true,dispatcher=alltoall/flex');
  const whole = run(job, space);
  const r = resolveSpace(job, shapeOf(job), space);
  const comboOf = (key: string) => {
    const p = JSON.parse(key) as Plan;
    return (r.pp.indexOf(p.pp) * r.tp.length + r.tp.indexOf(p.tp)) * r.cp.length + r.cp.indexOf(p.cp);
  };
  const combos = whole.keys.map(comboOf);
  for (const shardCount of [1, 3, 7, 200]) {
    const merged = newEnumStats();
    const all: string[] = [];
    for (let shardIndex = 0; shardIndex < shardCount; shardIndex++) {
      const part = run(job, space, { shardIndex, shardCount });
      mergeEnumStats(merged, part.stats);
      assert.equal(sumPruned(part.stats), part.stats.enumerated - part.stats.valid);
      assert.deepEqual(part.keys, whole.keys.filter((_k, i) => combos[i] % shardCount === shardIndex));
      all.push(...part.keys);
    }
    assert.deepEqual(merged, whole.stats, `${shardCount} shards`);
    assert.deepEqual(all.sort(), [...whole.keys].sort());
  }
  assert.ok(whole.stats.valid > 1000);
});

test('sharded stats add up on the full default space (DeepSeek-V3, 1,024 GPUs, 5 shards)', () => {
  const job = deepseekZooJob();
  const space = loadSearchSpace();
  const whole = newEnumStats();
  for (const _p of enumeratePlans(job, shapeOf(job), space, {}, whole)) { /* count */ }
  const merged = newEnumStats();
  for (let i = 0; i < 5; i++) {
    const s = newEnumStats();
    for (const _p of enumeratePlans(job, shapeOf(job), space, { shardIndex: i, shardCount: 5 }, s)) { /* count */ }
    mergeEnumStats(merged, s);
  }
  assert.deepEqual(merged, whole);
});

test('bad shard options are refused', () => {
  const job = mixtralZooJob();
  assert.throws(() => enumeratePlans(job, shapeOf(job), loadSearchSpace(), { shardIndex: 3, shardCount: 3 }).next(), RangeError);
  assert.throws(() => enumeratePlans(job, shapeOf(job), loadSearchSpace(), { shardIndex: 0, shardCount: 0 }).next(), RangeError);
});

function findPlan(job: Job, space: SearchSpace, want: Partial<Plan>): Plan | null {
  for (const p of enumeratePlans(job, shapeOf(job), space)) {
    if ((Object.keys(want) as (keyof Plan)[]).every((k) => p[k] === want[k])) return clonePlan(p);
  }
  return null;
}

test('the default space holds the published Mixtral 8x22B run (TP2 PP8 VPP7 EP8 ETP1, 128 GPUs)', () => {
  const job = mixtralZooJob();
  const p = findPlan(job, loadSearchSpace(), {
    tp: 2, cp: 1, pp: 8, vpp: 7, ep: 8, etp: 1, microBatchSize: 1, dispatcher: 'alltoall', recompute: 'none',
    distributedOptimizer: true, firstStageLayers: 7, lastStageLayers: 7,
  });
  assert.ok(p);
  assert.deepEqual({ dp: p.dp, edp: p.edp, m: p.numMicroBatches, sp: p.sequenceParallel, prec: p.precision },
    { dp: 8, edp: 2, m: 32, sp: true, prec: 'bf16' });
});

test('the default space holds the published DeepSeek-V3 run (TP1 PP16 EP64 ETP1, first 4 / last 1, 1,024 GPUs)', () => {
  const job = deepseekZooJob();
  const p = findPlan(job, loadSearchSpace(), {
    tp: 1, cp: 1, pp: 16, vpp: 1, ep: 64, etp: 1, microBatchSize: 1, dispatcher: 'flex',
    firstStageLayers: 4, lastStageLayers: 1,
  });
  assert.ok(p);
  assert.deepEqual({ dp: p.dp, edp: p.edp, m: p.numMicroBatches, sp: p.sequenceParallel },
    { dp: 64, edp: 1, m: 128, sp: false });
});

test('the default space holds the published Qwen3-30B-A3B run (TP1 PP1 EP8, 32 GPUs)', () => {
  const job = qwen3ZooJob();
  assert.ok(findPlan(job, loadSearchSpace(), { tp: 1, cp: 1, pp: 1, ep: 8, etp: 1, microBatchSize: 1, dispatcher: 'alltoall' }));
});

test('every yielded plan passes checkPlan and has consistent derived fields', () => {
  const job = qwen3ZooJob();
  const space = applyFixes(loadSearchSpace(), 'recompute=none,distopt=true');
  let n = 0;
  for (const p of enumeratePlans(job, shapeOf(job), space)) {
    assert.deepEqual(checkPlan(job, shapeOf(job), p), []);
    assert.equal(p.tp * p.cp * p.dp * p.pp, 32);
    assert.equal(p.etp * p.ep * p.edp * p.pp, 32);
    assert.equal(p.sequenceParallel, p.tp > 1);
    n++;
  }
  assert.ok(n > 1000);
});

test('dense models: EP 1, ETP = TP, EDP = DP·CP, alltoall recorded, no etp or dispatcher dimension', () => {
  const job = llamaJob();
  const space = loadSearchSpace();
  const r = resolveSpace(job, shapeOf(job), space);
  assert.deepEqual(r.dispatcher, ['alltoall']);
  assert.deepEqual(r.ep, [1]);
  assert.equal(r.etpFollowsTp, true);
  let splits = 0;
  for (const f of r.splitFirst) splits += f.length;
  const stats = newEnumStats();
  for (const p of enumeratePlans(job, shapeOf(job), space, {}, stats)) {
    assert.equal(p.ep, 1);
    assert.equal(p.etp, p.tp);
    assert.equal(p.edp, p.dp * p.cp);
    assert.equal(p.dispatcher, 'alltoall');
  }
  assert.equal(stats.enumerated, r.tp.length * r.cp.length * splits * r.vpp.length * 3 * 1 * 3 * 2);
});

test('deterministic: two runs yield the same plans in the same order', () => {
  const job = mixtralZooJob();
  const space = loadSearchSpace();
  const digest = () => {
    let h = 0;
    let n = 0;
    for (const p of enumeratePlans(job, shapeOf(job), space)) {
      h = (Math.imul(h, 31) + p.tp * 1 + p.cp * 3 + p.pp * 7 + p.vpp * 11 + p.ep * 13 + p.etp * 17 + p.microBatchSize * 19
        + p.firstStageLayers * 23 + p.recompute.length * 29 + p.dispatcher.length * 37 + (p.distributedOptimizer ? 41 : 0)) | 0;
      n++;
    }
    return [h, n];
  };
  assert.deepEqual(digest(), digest());
});

test('yields one reused Plan object', () => {
  const job = qwen3ZooJob();
  const it = enumeratePlans(job, shapeOf(job), loadSearchSpace());
  const a = it.next().value as Plan;
  const first = clonePlan(a);
  const b = it.next().value as Plan;
  assert.equal(a, b);
  assert.notDeepEqual(clonePlan(b), first);
});

test('stats are counted for a caller that stops early, without double counting', () => {
  const job = qwen3ZooJob();
  const stats = newEnumStats();
  for (const _p of enumeratePlans(job, shapeOf(job), loadSearchSpace(), {}, stats)) break;
  assert.equal(stats.valid, 1);
  assert.ok(stats.enumerated > 0);
});
