import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/job/types.js';
import type { Plan } from '../../src/enumerate/plan.js';
import { clonePlan, newPlan } from '../../src/enumerate/plan.js';
import type { SearchSpace } from '../../src/enumerate/search-space.js';
import { applyFixes, loadSearchSpace } from '../../src/enumerate/search-space.js';
import type { EnumStats } from '../../src/enumerate/enumerate.js';
import { enumeratePlans, mergeEnumStats, newEnumStats } from '../../src/enumerate/enumerate.js';
import { resolveSpace, setSplit } from '../../src/enumerate/resolve-space.js';
import { spaceSize } from './oracles.js';
import { RULES, checkPlan, ruleByName, splitKind } from '../../src/enumerate/rules.js';
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
      'cp-seq-divisible', 'pp-layer-split', 'vpp-needs-pp', 'vpp-layer-split', 'accounted-vpp-split',
      'uneven-stage-split', 'gbs-divisible-by-mbs-dp', 'vpp-microbatches', 'experts-divisible-by-ep',
      'moe-ffn-divisible-by-etp', 'expert-world-divisible', 'flex-needs-ep-etp'],
  },
  {
    // 20 layers and one MTP layer: balanced layouts ending in "mL" on PP2 (VPP 2, 3, 4) and PP4 (VPP 2); GBS 8
    // leaves fewer micro-batches than PP on PP4 and PP8
    what: 'made-up MoE, 20 layers and one MTP layer, on 16 GPUs: layouts with m, accounted splits, micro-batch groups',
    job: makeJob({ ...TINY_MOE, num_layers: 20, mtp_num_layers: 1 }, { gpus: 16, globalBatchSize: 8 }),
    space: { ...WIDE, tp: list(1, 2), cp: list(1), pp: list(1, 2, 3, 4, 8), vpp: list(1, 2, 3, 4), ep: list(1, 8),
      etp: list(1), microBatchSize: list(1, 2) },
    mustFire: ['pp-layer-split', 'vpp-needs-pp', 'accounted-vpp-split', 'vpp-microbatches'],
  },
  {
    what: 'made-up MoE with shared experts, seq 4100, on 16 GPUs',
    job: makeJob({ ...TINY_MOE, moe_shared_expert_intermediate_size: 1020, max_position_embeddings: 8192 },
      { gpus: 16, globalBatchSize: 32, seqLength: 4100 }),
    space: { ...WIDE, tp: list(1, 2, 4, 8), cp: list(1, 2), dispatcher: ['alltoall', 'allgather', 'flex'] },
    mustFire: ['shared-expert-divisible-by-tp', 'cp-tp-seq-divisible'],
  },
  {
    what: 'made-up MoE fine-tuned with LoRA rank 6 on every linear, 16 GPUs: TP 4 and ETP 4 do not divide the rank',
    job: ((j: Job): Job => ({ ...j, training: { ...j.training, frozen: true, lora_rank: 6 } }))(
      makeJob(TINY_MOE, { gpus: 16, globalBatchSize: 32 })),
    space: { ...WIDE, tp: list(1, 2, 4), cp: list(1), pp: list(1, 2), vpp: list(1, 2), ep: list(1, 2, 4), etp: list(1, 2, 4) },
    mustFire: ['lora-divisible-by-tp', 'lora-divisible-by-etp'],
  },
  {
    what: 'made-up dense model with a 128-token sliding window on 16 GPUs, CP listed',
    job: makeJob({ ...TINY_DENSE, window_size: 128 }, { gpus: 16, globalBatchSize: 32 }),
    space: { ...WIDE, tp: list(1, 2), cp: list(1, 2, 4), ep: list(1) },
    mustFire: ['cp-attention-variant'],
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

/**
 * Prune rules no candidate of a resolved space can break: the resolver generates only accounted splits whose count
 * PP divides (accounted-split), only balanced layouts, which Megatron accepts (layout-valid), and pairs a layout
 * with its own VPP only (layout-vpp). They are still checked (user plans, argv read back: rules.test.ts has a case
 * breaking each); here the claim that the space never breaks them is checked instead.
 */
const HOLD_BY_CONSTRUCTION = ['accounted-split', 'layout-valid', 'layout-vpp'];

test('the brute-force cases make every pruning rule fire (or the space satisfies it by construction)', () => {
  const fired = new Set(BRUTE_CASES.flatMap((c) => c.mustFire));
  for (const r of RULES) {
    if (r.use === 'prune' && !HOLD_BY_CONSTRUCTION.includes(r.name)) assert.ok(fired.has(r.name), `${r.name} is not exercised`);
  }
  const rules = HOLD_BY_CONSTRUCTION.map(ruleByName);
  for (const c of BRUTE_CASES) {
    const shape = shapeOf(c.job);
    const r = resolveSpace(c.job, shape, c.space);
    const kinds = new Set<string>();
    r.pp.forEach((pp, pi) => {
      const sp = { first: r.splitFirst[pi], last: r.splitLast[pi], account: r.splitAccount[pi], layout: r.splitLayout[pi] };
      for (let k = 0; k < sp.first.length; k++) {
        for (const vpp of r.splitVpp[pi][k] === 0 ? r.vpp : [r.splitVpp[pi][k]]) {
          const p = newPlan();
          p.pp = pp; p.vpp = vpp;
          setSplit(p, sp, k);
          kinds.add(splitKind(p, c.job.model.num_layers));
          for (const rule of rules) assert.ok(rule.holds(c.job, shape, p), `${c.what}: ${rule.name} breaks on ${JSON.stringify(p)}`);
        }
      }
    });
    assert.deepEqual([...kinds].sort(), ['accounted', 'even', 'layout', 'uneven'], c.what);
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

for (const [what, job, fixes] of [
  ['Qwen3-30B-A3B', qwen3ZooJob(), 'recompute=none,distopt=true,dispatcher=alltoall/flex'],
  // dense: sequence parallel on and off are two combos of each TP > 1
  ['Llama3-70B', llamaJob(), 'recompute=none,distopt=true'],
] as const) test(`sharding: shard stats add up to the unsharded stats; each shard yields its combos in unsharded order (${what})`, () => {
  const space = applyFixes(loadSearchSpace(), fixes);
  const whole = run(job, space);
  const r = resolveSpace(job, shapeOf(job), space);
  // the outer combos in the enumerator's order: pp, tp, cp, then sequence parallel (a choice with TP > 1 only)
  const index = new Map<string, number>();
  for (const pp of r.pp) for (const tp of r.tp) for (const cp of r.cp) {
    for (const sp of tp > 1 ? r.sequenceParallel : [false]) index.set(`${pp}/${tp}/${cp}/${sp}`, index.size);
  }
  const comboOf = (key: string) => {
    const p = JSON.parse(key) as Plan;
    return index.get(`${p.pp}/${p.tp}/${p.cp}/${p.sequenceParallel}`)!;
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
  const stats = newEnumStats();
  for (const p of enumeratePlans(job, shapeOf(job), space, {}, stats)) {
    assert.equal(p.ep, 1);
    assert.equal(p.etp, p.tp);
    assert.equal(p.edp, p.dp * p.cp);
    assert.equal(p.dispatcher, 'alltoall');
  }
  // Counted by hand for Llama3-70B (80 layers, no MTP) on 64 GPUs, default space (was 101,376 before accounted
  // splits, layouts and the sequence-parallel choice; that count paired every split with every VPP):
  //   tp [1,2,4,8] with SP on/off for TP > 1: 1 + 3·2 = 7 combos of (tp, sp); cp [1,2,4,8]: 4
  //   vpp 1…8 (every v has PP2's balanced layout of 82 slots on 2v stages): 8
  //   (split, vpp) pairs per PP, (even + uneven + accounted)·8 + one balanced layout per VPP it exists for:
  //     PP1   80                                                   1·8       =  8
  //     PP2   40/40; 41/39 39/41 42/38 38/42; 82/2 accounted       6·8 + 7   = 55
  //     PP4   20/20; m=21: 21/17…17/21, m=22: 18/18; no accounted  7·8 + 7   = 63
  //     PP8   10/10; m=11: 7/7; no accounted (82, 81 % 8 != 0)     2·8 + 7   = 23
  //     PP16  5/5; no uneven; layouts for VPP 2–5 (82 slots >= 16v) 1·8 + 4   = 12
  //     PP32  0/0 (pruned); layout for VPP 2 only (64 stages)      1·8 + 1   =  9   → 170 pairs
  //   micro-batch 3 × EP 1 × (ETP follows TP) × dispatcher 1 × recompute 3 × dist-opt 2 = 18
  // 7 · 4 · 170 · 18 = 85,680
  assert.deepEqual(r.vpp, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(r.pp, [1, 2, 4, 8, 16, 32]);
  assert.deepEqual(r.splitFirst.map((f, i) => [f.length, [...r.splitVpp[i]].filter((v) => v !== 0).length]),
    [[1, 0], [13, 7], [14, 7], [9, 7], [5, 4], [2, 1]]);
  assert.equal(stats.enumerated, 85_680);
  assert.equal(stats.enumerated, spaceSize(r));
});

test('dense models try sequence parallel on and off for TP > 1 (off only for TP 1); MoE models only on', () => {
  const dense = llamaJob();
  const space = applyFixes(loadSearchSpace(), 'recompute=none,distopt=true,mbs=1');
  const seen = new Map<number, Set<boolean>>();
  for (const p of enumeratePlans(dense, shapeOf(dense), space)) {
    if (!seen.has(p.tp)) seen.set(p.tp, new Set());
    seen.get(p.tp)!.add(p.sequenceParallel);
  }
  assert.deepEqual([...seen].map(([tp, sps]) => [tp, [...sps].sort()]), [[1, [false]], [2, [false, true]], [4, [false, true]], [8, [false, true]]]);
  // sp narrowed by --fix: only that value for TP > 1 (TP 1 never has it on)
  const onlyOff = applyFixes(space, 'sp=off');
  for (const p of enumeratePlans(dense, shapeOf(dense), onlyOff)) assert.equal(p.sequenceParallel, false);
  const onlyOn = applyFixes(space, 'sp=on');
  for (const p of enumeratePlans(dense, shapeOf(dense), onlyOn)) assert.equal(p.sequenceParallel, p.tp > 1);
  const moe = mixtralZooJob();
  let tpMany = 0;
  for (const p of enumeratePlans(moe, shapeOf(moe), applyFixes(space, 'sp=auto'))) {
    assert.equal(p.sequenceParallel, p.tp > 1);
    if (p.tp > 1) tpMany++;
  }
  assert.ok(tpMany > 0);
  // an MoE space with sp=off still turns it on (Megatron needs it): no plan with TP > 1 is lost
  assert.deepEqual(resolveSpace(moe, shapeOf(moe), applyFixes(space, 'sp=off')).sequenceParallel, [true]);
});

test('DeepSeek-V3 on 1,024 GPUs: the enumerator yields every split kind, and every yielded plan passes checkPlan', () => {
  const job = deepseekZooJob();
  const shape = shapeOf(job);
  const space = applyFixes(loadSearchSpace(), 'recompute=none,distopt=true');
  const kinds: Record<string, number> = {};
  const layouts = new Set<string>();
  let recipe: Plan | null = null;
  for (const p of enumeratePlans(job, shape, space)) {
    assert.deepEqual(checkPlan(job, shape, p), [], JSON.stringify(p));
    const k = splitKind(p, 61);
    kinds[k] = (kinds[k] ?? 0) + 1;
    if (k === 'layout') layouts.add(`${p.pp}x${p.vpp} ${p.layout}`);
    // even: PP1 only (61 is prime); accounted: PP2 with the loss (62/2: 31/30) or the embedding (30/31), and 31
    // per rank takes no VPP > 1
    if (k === 'even') assert.equal(p.pp, 1);
    if (k === 'accounted') {
      assert.deepEqual([p.pp, p.vpp, p.layout, p.accountEmbedding !== p.accountLoss], [2, 1, '', true]);
      assert.deepEqual([p.firstStageLayers, p.lastStageLayers], p.accountLoss ? [31, 30] : [30, 31]);
    }
    if (p.vpp > 1) {
      // the enumerator's micro-batch group: PP (Megatron's default) here, since every M is a multiple of PP
      assert.equal(p.numMicroBatches % p.pp, 0);
      assert.equal(p.mbGroup, p.pp);
    }
    if (recipe === null && p.layout === 'Et|(tt|)*30mL' && p.tp === 2 && p.pp === 8 && p.vpp === 4 && p.ep === 64) recipe = clonePlan(p);
  }
  assert.deepEqual(Object.keys(kinds).sort(), ['accounted', 'even', 'layout', 'uneven']);
  // the balanced layout of each PP > 1 and VPP 2…8 it exists for: PP2 and PP4 with 7 each, PP8 with VPP 2–4, PP16 with 2
  assert.equal(layouts.size, 7 + 7 + 3 + 1);
  assert.ok(layouts.has('8x4 Et|(tt|)*30mL') && layouts.has('16x2 Et|(tt|)*30mL'));
  // NVIDIA's DeepSeek-V3 recipe (TP2 PP8 VPP4 EP64, "Et|(tt|)*30mL") is in the space: rank 0 holds 7 decoder layers, rank 7 six
  assert.ok(recipe);
  assert.deepEqual([recipe.firstStageLayers, recipe.lastStageLayers, recipe.sequenceParallel], [7, 6, true]);
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
