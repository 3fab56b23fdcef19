import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/job/types.js';
import type { SearchSpace } from '../../src/enumerate/search-space.js';
import { applyFixes, loadSearchSpace } from '../../src/enumerate/search-space.js';
import { enumeratePlans, newEnumStats } from '../../src/enumerate/enumerate.js';
import { explainEmpty } from '../../src/enumerate/explain-empty.js';
import { MIXTRAL_8X22B, makeJob, shapeOf } from './jobs.js';

function explain(job: Job, space: SearchSpace): { valid: number; text: string } {
  const stats = newEnumStats();
  for (const _p of enumeratePlans(job, shapeOf(job), space, {}, stats)) { /* none expected */ }
  return { valid: stats.valid, text: explainEmpty(stats, job, space) };
}

test('GBS 250 on DP 8: the batch rule removed everything, and a multiple of 8 is suggested', () => {
  const job = makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 250 });
  const space = applyFixes(loadSearchSpace(), 'tp=2,cp=1,pp=8,ep=8,etp=1,vpp=7,mbs=1,recompute=none,distopt=true,dispatcher=alltoall');
  const { valid, text } = explain(job, space);
  assert.equal(valid, 0);
  const lines = text.split('\n');
  // 3 candidates, one per pipeline split that PP8 with VPP 7 is tried with: the even 7/7, the uneven 4/4 and the
  // balanced layout of 58 slots on 56 stages ("E|(t|)*52(tt|)*2L"); no accounted split (57, 58 % 8 != 0)
  assert.equal(lines[0], "No mapping of Mixtral-8x22B on 128 GPUs (global batch 250, seq 4096) passes Megatron-Core's checks: "
    + '3 candidates enumerated, 0 valid.');
  // the even split and the layout reach the batch rule; 4/4 is refused first (4 layers are not divisible by VPP 7)
  assert.match(text, /\n {2}gbs-divisible-by-mbs-dp +2 {2}global_batch_size % \(micro_batch_size · DP\) == 0/);
  assert.match(text, /\n {2}uneven-stage-split +1 /); // 7 layers/stage with first/last 4/4 and VPP 7
  assert.ok(text.includes('global batch size 250 is not divisible by micro-batch × DP for any tried micro-batch {1} and DP {8}: '
    + 'choose a global batch size that is a multiple of 1×8 = 8 (e.g. 248 or 256)'), text);
});

test('max_position_embeddings below seq_length: one rule removes everything', () => {
  const job = makeJob({ ...MIXTRAL_8X22B, max_position_embeddings: 2048 }, { gpus: 128, globalBatchSize: 256 });
  const space = applyFixes(loadSearchSpace(), 'recompute=none,distopt=true');
  const { valid, text } = explain(job, space);
  assert.equal(valid, 0);
  const ruleLines = text.split('\n').filter((l) => /^ {2}[a-z]/.test(l));
  assert.equal(ruleLines.length, 1);
  assert.match(ruleLines[0], /^ {2}max-position-covers-seq +[0-9,]+ {2}max_position_embeddings >= seq_length/);
  assert.ok(text.includes('- max_position_embeddings 2048 is below seq_length 4096: raise model.max_position_embeddings to at least 4096'));
});

test('EP values that do not divide the experts, with an explicit TP the heads refuse: counts in descending order and hints', () => {
  const job = makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 256 });
  const space = applyFixes(loadSearchSpace(), 'ep=16/32,tp=2/32,recompute=none,distopt=true,dispatcher=alltoall');
  const { valid, text } = explain(job, space);
  assert.equal(valid, 0);
  const ruleLines = text.split('\n').filter((l) => /^ {2}[a-z]/.test(l));
  const counts = ruleLines.map((l) => Number(l.trim().split(/\s+/)[1].replace(/,/g, '')));
  assert.deepEqual([...counts].sort((a, b) => b - a), counts);
  assert.ok(ruleLines.some((l) => l.trim().startsWith('experts-divisible-by-ep')));
  assert.ok(ruleLines.some((l) => l.trim().startsWith('heads-divisible-by-tp')));
  assert.ok(text.includes('- num_experts 8 is not divisible by EP {16, 32}: EP must divide it (e.g. 1, 2, 4, 8).'), text);
  assert.ok(text.includes('- num_attention_heads 48 is not divisible by TP {32}: TP must divide it (e.g. 1, 2, 4, 8, 16).'), text);
});

test('GBS 250 with DP 8 and 16: the smallest fix and the one that allows both', () => {
  const job = makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 250 });
  const space = applyFixes(loadSearchSpace(), 'tp=2,cp=1,pp=4/8,ep=8,etp=1,vpp=1,mbs=1,recompute=none,distopt=true,dispatcher=alltoall,uneven=off');
  const { valid, text } = explain(job, space);
  assert.equal(valid, 0);
  assert.ok(text.includes('- global batch size 250 is not divisible by micro-batch × DP for any tried micro-batch {1} and DP {8, 16}: '
    + 'choose a global batch size that is a multiple of 1×8 = 8 (e.g. 248 or 256), or of 16 (e.g. 240 or 256) to allow every such DP.'), text);
});

test('the batch hint lists only the DP of combos that pass every combo-level rule (TP 4 breaks query-groups-vs-tp)', () => {
  // 6 query groups: TP 2 fits, TP 4 does not (it divides the 48 heads, so only the groups rule refuses it)
  const job = makeJob({ ...MIXTRAL_8X22B, num_query_groups: 6 }, { gpus: 128, globalBatchSize: 250 });
  const space = applyFixes(loadSearchSpace(), 'tp=2/4,cp=1,pp=8,ep=8,etp=1,vpp=1,mbs=1,recompute=none,distopt=true,dispatcher=alltoall,uneven=off');
  const { valid, text } = explain(job, space);
  assert.equal(valid, 0);
  assert.match(text, /\n {2}query-groups-vs-tp +1 /);
  assert.ok(text.includes('- global batch size 250 is not divisible by micro-batch × DP for any tried micro-batch {1} and DP {8}: '
    + 'choose a global batch size that is a multiple of 1×8 = 8 (e.g. 248 or 256).'), text);
});
