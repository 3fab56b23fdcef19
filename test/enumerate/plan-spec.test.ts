import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/job/errors.js';
import { parsePlanSpec } from '../../src/enumerate/plan-spec.js';
import { checkPlan } from '../../src/enumerate/rules.js';
import { deepseekZooJob, llamaJob, makeJob, mixtralZooJob, MIXTRAL_8X22B, qwen3_235bJob, shapeOf } from './jobs.js';

test('--plan with every field given', () => {
  const job = mixtralZooJob();
  const p = parsePlanSpec('tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1,recompute=selective,dispatcher=flex,distopt=off', job, shapeOf(job));
  assert.deepEqual(p, {
    tp: 2, cp: 1, dp: 8, pp: 8, vpp: 7, ep: 8, etp: 1, edp: 2, firstStageLayers: 7, lastStageLayers: 7,
    // the new fields: no accounted split, no layout, the micro-batch group Megatron defaults to (PP)
    accountEmbedding: false, accountLoss: false, layout: '', mbGroup: 8,
    microBatchSize: 1, numMicroBatches: 32, recompute: 'selective', dispatcher: 'flex', sequenceParallel: true,
    distributedOptimizer: false, precision: 'bf16',
  });
  const all = parsePlanSpec('tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1,recompute=selective,dispatcher=flex,distopt=off,sp=true,mb_group=16',
    job, shapeOf(job));
  assert.deepEqual({ ...all, mbGroup: 8 }, p);
  assert.equal(all.mbGroup, 16);
});

test('--plan defaults: etp = tp, cp/pp/vpp/ep/mbs 1, recompute none, alltoall, distributed optimizer on, even split', () => {
  const job = makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 256, precision: 'fp8' });
  const p = parsePlanSpec('tp=4', job, shapeOf(job));
  assert.deepEqual(p, {
    tp: 4, cp: 1, dp: 32, pp: 1, vpp: 1, ep: 1, etp: 4, edp: 32, firstStageLayers: 56, lastStageLayers: 56,
    accountEmbedding: false, accountLoss: false, layout: '', mbGroup: 1, // mb_group defaults to PP
    microBatchSize: 1, numMicroBatches: 8, recompute: 'none', dispatcher: 'alltoall', sequenceParallel: true,
    distributedOptimizer: true, precision: 'fp8',
  });
  const q = parsePlanSpec('micro_batch_size=2,distributed_optimizer=false', job, shapeOf(job));
  assert.deepEqual([q.tp, q.etp, q.sequenceParallel, q.microBatchSize, q.numMicroBatches, q.distributedOptimizer], [1, 1, false, 2, 1, false]);
  const dense = llamaJob();
  const d = parsePlanSpec('tp=8,cp=2', dense, shapeOf(dense));
  assert.deepEqual([d.ep, d.etp, d.dp, d.edp], [1, 8, 4, 8]);
});

test('--plan first/last: both given, one given (the other is the middle-stage size), none with an uneven layer count', () => {
  const job = deepseekZooJob();
  const both = parsePlanSpec('pp=16,ep=64,first=4,last=1', job, shapeOf(job));
  assert.deepEqual([both.firstStageLayers, both.lastStageLayers], [4, 1]);
  const lastOnly = parsePlanSpec('pp=16,ep=64,last=1', job, shapeOf(job)); // (61 − 1)/15 = 4
  assert.deepEqual([lastOnly.firstStageLayers, lastOnly.lastStageLayers], [4, 1]);
  assert.deepEqual(checkPlan(job, shapeOf(job), lastOnly), []);
  const even = parsePlanSpec('pp=16,ep=64', job, shapeOf(job)); // 61 % 16 != 0: even split asked for
  assert.deepEqual([even.firstStageLayers, even.lastStageLayers], [0, 0]);
  assert.deepEqual(checkPlan(job, shapeOf(job), even).map((v) => v.rule), ['pp-layer-split']);
});

test('--plan derived sizes are left fractional when they do not divide, and checkPlan says why', () => {
  const job = mixtralZooJob();
  const p = parsePlanSpec('tp=3', job, shapeOf(job));
  assert.equal(p.dp, 128 / 3);
  // TP3 (ETP follows) also breaks the query groups (8), the SP split of 4096 tokens and the expert FFN 16384
  assert.deepEqual(checkPlan(job, shapeOf(job), p).map((v) => v.rule),
    ['attn-world-divisible', 'query-groups-vs-tp', 'cp-tp-seq-divisible', 'moe-ffn-divisible-by-etp', 'expert-world-divisible']);
});

test('--plan rejects bad keys and values with one-line messages', () => {
  const job = mixtralZooJob();
  const keys = 'tp, cp, pp, vpp, ep, etp, mbs, recompute, dispatcher, first, last, distopt, sp, account_for_embedding, '
    + 'account_for_loss, layout, mb_group';
  const cases: [string, string][] = [
    ['tp=2,foo=1', `--plan: foo: unknown field (allowed: ${keys})`],
    ['tp=0', '--plan: tp: must be an integer >= 1 (got "0")'],
    ['pp=2.5', '--plan: pp: must be an integer >= 1 (got "2.5")'],
    ['first=-1', '--plan: first: must be an integer >= 1 (got "-1")'],
    ['recompute=some', '--plan: recompute: must be one of none, selective, full (got "some")'],
    ['dispatcher=deepep', '--plan: dispatcher: must be one of alltoall, allgather, flex (got "deepep")'],
    ['distopt=perhaps', '--plan: distopt: must be true or false (on/off) (got "perhaps")'],
    ['sp=maybe', '--plan: sp: must be true or false (on/off) (got "maybe")'],
    ['account_for_loss=2', '--plan: account_for_loss: must be true or false (on/off) (got "2")'],
    ['mb_group=0', '--plan: mb_group: must be an integer >= 1 (got "0")'],
    ['layout=', '--plan: layout: needs a Megatron pipeline layout, e.g. "Et|(tt|)*30mL"'],
    // Megatron's conflicts between the ways of stating a split ([TC] L2229–2259)
    ['pp=8,layout=Et|(tt|)*30mL,first=7', '--plan: layout: cannot be combined with first/last or account_for_embedding/account_for_loss (Megatron refuses it)'],
    ['pp=8,last=6,layout=Et|(tt|)*30mL', '--plan: layout: cannot be combined with first/last or account_for_embedding/account_for_loss (Megatron refuses it)'],
    ['pp=8,layout=Et|(tt|)*30mL,account_for_embedding=true', '--plan: layout: cannot be combined with first/last or account_for_embedding/account_for_loss (Megatron refuses it)'],
    ['pp=8,account_for_loss=on,layout=Et,t|(tt|)*29,t|mL', '--plan: layout: cannot be combined with first/last or account_for_embedding/account_for_loss (Megatron refuses it)'],
    ['pp=8,account_for_embedding=true,first=7', '--plan: account_for_embedding: cannot be combined with first/last (Megatron refuses it)'],
    ['pp=8,last=7,account_for_loss=yes', '--plan: account_for_loss: cannot be combined with first/last (Megatron refuses it)'],
    ['pp=8,layout=Et|(tt|)*30mL,layout=Et|(tt|)*30mL', '--plan: layout: given more than once'],
    ['tp=2,tp=4', '--plan: tp: given more than once'],
    ['mbs=1,micro_batch_size=1', '--plan: micro_batch_size: given more than once'],
    ['tp', `--plan: tp: expected key=value (keys: ${keys})`],
    ['', `--plan: expected key=value pairs separated by commas (keys: ${keys})`],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parsePlanSpec(spec, job, shapeOf(job)), (e: unknown) => e instanceof InputError && e.message === message,
      `${spec} → ${message}`);
  }
});

test('--plan sp, account_for_*, layout (commas inside it are Megatron\'s cosmetic ones) and mb_group', () => {
  const dense = llamaJob();
  assert.equal(parsePlanSpec('tp=2', dense, shapeOf(dense)).sequenceParallel, true); // default: TP > 1
  assert.equal(parsePlanSpec('tp=2,sp=false', dense, shapeOf(dense)).sequenceParallel, false);
  assert.equal(parsePlanSpec('tp=2,sequence_parallel=off', dense, shapeOf(dense)).sequenceParallel, false);
  // an MoE model with TP > 1 and sp=false is parsed as asked; checkPlan refuses it
  const moe = mixtralZooJob();
  const noSp = parsePlanSpec('tp=2,pp=8,vpp=7,ep=8,etp=1,sp=false', moe, shapeOf(moe));
  assert.equal(noSp.sequenceParallel, false);
  assert.deepEqual(checkPlan(moe, shapeOf(moe), noSp), [
    { rule: 'sequence-parallel-with-moe-tp', reason: 'an MoE model with TP 2 needs sequence parallel on' },
  ]);

  // accounted: 94 + 2 = 96 over PP8 is 12 per rank; the first and last rank build 11 decoder layers
  const qwen = qwen3_235bJob();
  const acc = parsePlanSpec('tp=2,pp=8,vpp=4,ep=8,account_for_embedding=true,account_for_loss=true', qwen, shapeOf(qwen));
  assert.deepEqual([acc.accountEmbedding, acc.accountLoss, acc.firstStageLayers, acc.lastStageLayers, acc.layout], [true, true, 11, 11, '']);
  assert.deepEqual(checkPlan(qwen, shapeOf(qwen), acc), []);
  const loss = parsePlanSpec('pp=2,account_for_loss=true,account_for_embedding=false', deepseekZooJob(), shapeOf(deepseekZooJob()));
  assert.deepEqual([loss.accountEmbedding, loss.accountLoss, loss.firstStageLayers, loss.lastStageLayers], [false, true, 31, 30]);
  // false account_for_* flags are not a conflict with first/last (Megatron only refuses the flags set)
  const uneven = parsePlanSpec('pp=16,ep=64,first=4,last=1,account_for_embedding=false', deepseekZooJob(), shapeOf(deepseekZooJob()));
  assert.deepEqual([uneven.firstStageLayers, uneven.lastStageLayers, uneven.accountEmbedding], [4, 1, false]);

  // a layout with Megatron's cosmetic commas, then more keys: read into its compact form; VPP from its 32 stages
  const ds = deepseekZooJob();
  const lay = parsePlanSpec('tp=2,layout=Ettt|(tt|)*29,m|L,pp=8,ep=64,mb_group=16', ds, shapeOf(ds));
  assert.deepEqual([lay.layout, lay.pp, lay.vpp, lay.ep, lay.mbGroup], ['Et*3|(tt|)*29m|L', 8, 4, 64, 16]);
  // PP rank 0: stages 0, 8, 16, 24 (3 + 2 + 2 + 2); rank 7: stages 7, 15, 23, 31 (2 + 2 + 2 + 0)
  assert.deepEqual([lay.firstStageLayers, lay.lastStageLayers], [9, 6]);
  assert.deepEqual(checkPlan(ds, shapeOf(ds), lay), []);
  // the layout last, with commas and spaces
  const last = parsePlanSpec('tp=2,pp=8,ep=64,layout=Et|, (tt|)*30, mL', ds, shapeOf(ds));
  assert.deepEqual([last.layout, last.vpp, last.firstStageLayers, last.lastStageLayers], ['Et|(tt|)*30mL', 4, 7, 6]);
  // a stated vpp is kept (layout-vpp checks it)
  const stated = parsePlanSpec('tp=2,pp=8,ep=64,vpp=2,layout=Et|(tt|)*30mL', ds, shapeOf(ds));
  assert.equal(stated.vpp, 2);
  assert.deepEqual(checkPlan(ds, shapeOf(ds), stated).map((v) => v.rule), ['layout-vpp']);
  // a layout Megatron refuses is kept as written; checkPlan says why
  const bad = parsePlanSpec('pp=8,ep=64,layout=Et|(tt|)*30,L', ds, shapeOf(ds));
  assert.equal(bad.layout, 'Et|(tt|)*30,L');
  assert.deepEqual(checkPlan(ds, shapeOf(ds), bad).map((v) => v.rule), ['layout-valid']);
  // mb_group: micro-batches per virtual stage group, default PP
  const g = parsePlanSpec('tp=2,pp=8,vpp=7,ep=8,etp=1,mb_group=16', moe, shapeOf(moe));
  assert.equal(g.mbGroup, 16);
  assert.equal(parsePlanSpec('tp=2,pp=8,vpp=7,ep=8,etp=1', moe, shapeOf(moe)).mbGroup, 8);
});
