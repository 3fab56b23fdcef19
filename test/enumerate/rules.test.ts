import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, ModelSpec } from '../../src/job/types.js';
import type { Plan } from '../../src/enumerate/plan.js';
import { LEVEL_DEPTH, RULES, checkPlan, firstBroken, pruneRulesAt, unevenSplitProblem } from '../../src/enumerate/rules.js';
import { parsePlanSpec } from '../../src/enumerate/plan-spec.js';
import {
  LLAMA3_70B, MIXTRAL_8X22B, TINY_MOE, deepseekZooJob, makeJob, mixtralZooJob, qwen3ZooJob, shapeOf,
} from './jobs.js';

interface RuleCase {
  rule: string;
  /** What the case is (real cases cite megatron.md §2.11). */
  what: string;
  job: Job;
  plan: string;
  /** Adjust the parsed plan (for fields --plan does not take). */
  edit?: (p: Plan) => void;
  /** Exact reason when the rule is broken; undefined when the case is valid for the rule. */
  reason?: string;
}

const mixtral = mixtralZooJob();
const deepseek = deepseekZooJob();
const llama = makeJob(LLAMA3_70B, { gpus: 64, globalBatchSize: 512 });
const tiny = (m: Partial<ModelSpec>, gpus: number, seqLength = 4096) =>
  makeJob({ ...TINY_MOE, ...m }, { gpus, globalBatchSize: 64, seqLength });
const MIXTRAL_ZOO = 'tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1';

const CASES: RuleCase[] = [
  { rule: 'max-position-covers-seq', what: 'Mixtral, seq 4096', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'max-position-covers-seq', what: 'max_position_embeddings 2048 < seq 4096',
    job: makeJob({ ...MIXTRAL_8X22B, max_position_embeddings: 2048 }, { gpus: 128, globalBatchSize: 256 }),
    plan: MIXTRAL_ZOO, reason: 'max_position_embeddings 2048 is smaller than seq_length 4096',
  },
  { rule: 'attn-world-divisible', what: 'TP2·PP8 on 128', job: mixtral, plan: 'tp=2,pp=8' },
  {
    rule: 'attn-world-divisible', what: 'TP3 on 128', job: mixtral, plan: 'tp=3',
    reason: 'world size 128 is not divisible by TP·CP·PP = 3·1·1 = 3',
  },
  { rule: 'heads-divisible-by-tp', what: '48 heads, TP16', job: mixtral, plan: 'tp=16' },
  {
    rule: 'heads-divisible-by-tp', what: '48 heads, TP32', job: mixtral, plan: 'tp=32',
    reason: 'num_attention_heads 48 is not divisible by TP 32',
  },
  { rule: 'query-groups-vs-tp', what: '§2.11: TP16 with 8 query groups is valid in HEAD (TP a multiple)', job: mixtral, plan: 'tp=16' },
  { rule: 'query-groups-vs-tp', what: '8 groups, TP4 (a divisor)', job: mixtral, plan: 'tp=4' },
  {
    rule: 'query-groups-vs-tp', what: '6 groups, TP4', job: tiny({ num_attention_heads: 24, num_query_groups: 6 }, 16), plan: 'tp=4',
    reason: 'num_query_groups 6 is neither a multiple nor a divisor of TP 4',
  },
  { rule: 'ffn-divisible-by-tp', what: 'ffn 1020, TP8, every layer MoE (no dense MLP)', job: tiny({ ffn_hidden_size: 1020, moe_ffn_hidden_size: 1024 }, 8), plan: 'tp=8,etp=1' },
  {
    rule: 'ffn-divisible-by-tp', what: 'ffn 1020, TP8, every other layer dense',
    job: tiny({ ffn_hidden_size: 1020, moe_ffn_hidden_size: 1024, moe_layer_freq: 2 }, 8), plan: 'tp=8,etp=1',
    reason: 'ffn_hidden_size 1020 (dense MLP layers) is not divisible by TP 8',
  },
  { rule: 'shared-expert-divisible-by-tp', what: 'shared 1020, TP4', job: tiny({ moe_shared_expert_intermediate_size: 1020 }, 8), plan: 'tp=4' },
  {
    rule: 'shared-expert-divisible-by-tp', what: 'shared 1020, TP8', job: tiny({ moe_shared_expert_intermediate_size: 1020 }, 8), plan: 'tp=8',
    reason: 'moe_shared_expert_intermediate_size 1020 is not divisible by TP 8',
  },
  {
    rule: 'sequence-parallel-with-moe-tp', what: 'dense model, TP2 without SP (allowed)', job: llama, plan: 'tp=2',
    edit: (p) => { p.sequenceParallel = false; },
  },
  {
    rule: 'sequence-parallel-with-moe-tp', what: '§2.11: EP8 TP2 without SP', job: mixtral, plan: MIXTRAL_ZOO,
    edit: (p) => { p.sequenceParallel = false; }, reason: 'an MoE model with TP 2 needs sequence parallel on',
  },
  { rule: 'sequence-parallel-needs-tp', what: 'TP2 with SP', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'sequence-parallel-needs-tp', what: 'TP1 with SP', job: mixtral, plan: 'pp=8,ep=8',
    edit: (p) => { p.sequenceParallel = true; }, reason: 'sequence parallel needs TP > 1 (TP is 1)',
  },
  { rule: 'cp-seq-divisible', what: 'CP2, seq 4096', job: mixtral, plan: 'cp=2,pp=8' },
  {
    rule: 'cp-seq-divisible', what: '§2.11: CP3 with seq 4096', job: mixtral, plan: 'cp=3',
    reason: 'seq_length 4096 is not divisible by 2·CP = 6',
  },
  { rule: 'cp-tp-seq-divisible', what: 'seq 4100, CP2, TP2', job: tiny({ max_position_embeddings: 8192 }, 16, 4100), plan: 'tp=2,cp=2' },
  {
    rule: 'cp-tp-seq-divisible', what: 'seq 4100, CP2, TP4 (2050 per CP rank)', job: tiny({ max_position_embeddings: 8192 }, 16, 4100),
    plan: 'tp=4,cp=2', reason: 'with sequence parallel, seq_length/CP = 2050 is not divisible by TP 4',
  },
  { rule: 'pp-layer-split', what: '56 layers on PP8', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'pp-layer-split', what: 'DeepSeek-V3, 61 layers, even PP16', job: deepseek, plan: 'pp=16,ep=64',
    reason: 'num_layers 61 is not divisible by PP 16 (even split)',
  },
  { rule: 'vpp-needs-pp', what: 'PP2 VPP2', job: mixtral, plan: 'pp=2,vpp=2' },
  { rule: 'vpp-needs-pp', what: 'PP1 VPP2', job: mixtral, plan: 'vpp=2', reason: 'VPP 2 needs PP > 1 (PP is 1)' },
  { rule: 'vpp-layer-split', what: '§4.3: Mixtral 8x22B, 7 layers/stage, VPP7', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'vpp-layer-split', what: '§2.11: 7 layers/stage split into 3', job: mixtral, plan: 'tp=2,pp=8,vpp=3,ep=8,etp=1',
    reason: '7 layers per pipeline stage are not divisible by VPP 3',
  },
  { rule: 'uneven-stage-split', what: '§4.3: DeepSeek-V3 PP16 first 4 / last 1', job: deepseek, plan: 'pp=16,ep=64,first=4,last=1' },
  {
    rule: 'uneven-stage-split', what: 'DeepSeek-V3 PP16 4/1 with VPP2', job: deepseek, plan: 'pp=16,vpp=2,ep=64,first=4,last=1',
    reason: "first/last 4/1 of 61 layers on PP 16: last stage's 1 layers are not divisible by VPP 2",
  },
  {
    rule: 'uneven-stage-split', what: 'DeepSeek-V3 PP16 4/2', job: deepseek, plan: 'pp=16,ep=64,first=4,last=2',
    reason: 'first/last 4/2 of 61 layers on PP 16: 55 middle layers are not divisible by 14 middle PP stages',
  },
  { rule: 'gbs-divisible-by-mbs-dp', what: 'GBS 256, DP8', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'gbs-divisible-by-mbs-dp', what: '§2.11: GBS 250 with DP8',
    job: makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 250 }), plan: MIXTRAL_ZOO,
    reason: 'global batch size 250 is not divisible by micro-batch 1 × DP 8 = 8',
  },
  { rule: 'vpp-microbatches', what: 'VPP7 PP8, 32 micro-batches', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'vpp-microbatches', what: 'VPP7 PP8, 25 micro-batches', job: makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 200 }),
    plan: MIXTRAL_ZOO, reason: 'with VPP 7, the 25 micro-batches are not a multiple of PP 8 (at least 8)',
  },
  { rule: 'dense-model-no-ep', what: 'dense, TP2 (ETP follows)', job: llama, plan: 'tp=2' },
  { rule: 'dense-model-no-ep', what: 'dense, EP8', job: llama, plan: 'ep=8', reason: 'the model has no experts, so EP must be 1 (got 8)' },
  {
    rule: 'dense-model-no-ep', what: 'dense, TP2 ETP1', job: llama, plan: 'tp=2,etp=1',
    reason: 'the model has no experts, so ETP must equal TP 2 (got 1)',
  },
  { rule: 'experts-divisible-by-ep', what: '8 experts, EP8', job: mixtral, plan: 'ep=8' },
  {
    rule: 'experts-divisible-by-ep', what: '§2.11: EP16 with 8 experts', job: mixtral, plan: 'ep=16',
    reason: 'num_experts 8 is not divisible by EP 16',
  },
  { rule: 'moe-ffn-divisible-by-etp', what: 'moe ffn 1020, ETP4', job: tiny({ moe_ffn_hidden_size: 1020 }, 8), plan: 'tp=4,etp=4' },
  {
    rule: 'moe-ffn-divisible-by-etp', what: 'moe ffn 1020, ETP8', job: tiny({ moe_ffn_hidden_size: 1020 }, 8), plan: 'etp=8',
    reason: 'moe_ffn_hidden_size 1020 is not divisible by ETP 8',
  },
  { rule: 'expert-world-divisible', what: '§4.3: ETP1·EP8·PP8 on 128', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'expert-world-divisible', what: '§2.11: ETP4·EP8·PP8 on 128', job: mixtral, plan: 'tp=2,pp=8,ep=8,etp=4',
    reason: 'world size 128 is not divisible by ETP·EP·PP = 4·8·8 = 256',
  },
  { rule: 'flex-needs-ep-etp', what: 'flex with EP8', job: mixtral, plan: `${MIXTRAL_ZOO},dispatcher=flex` },
  {
    rule: 'flex-needs-ep-etp', what: 'flex with EP1 ETP1', job: mixtral, plan: 'pp=8,dispatcher=flex',
    reason: 'dispatcher flex needs ETP·EP > 1 (ETP 1 · EP 1 = 1)',
  },
  { rule: 'derived-sizes-consistent', what: 'parsed plan', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'derived-sizes-consistent', what: 'DP 4 where world/(TP·CP·PP) is 8', job: mixtral, plan: MIXTRAL_ZOO,
    edit: (p) => { p.dp = 4; }, reason: 'DP 4 is not world/(TP·CP·PP) = 8',
  },
  {
    rule: 'derived-sizes-consistent', what: 'EDP 2 where world/(ETP·EP·PP) is 2', job: mixtral, plan: MIXTRAL_ZOO,
    edit: (p) => { p.edp = 1; }, reason: 'EDP 1 is not world/(ETP·EP·PP) = 2',
  },
];

for (const c of CASES) {
  test(`${c.rule}: ${c.reason ? 'breaks' : 'holds'} — ${c.what}`, () => {
    const shape = shapeOf(c.job);
    const plan = parsePlanSpec(c.plan, c.job, shape);
    c.edit?.(plan);
    const broken = checkPlan(c.job, shape, plan);
    const mine = broken.find((v) => v.rule === c.rule);
    if (c.reason === undefined) assert.equal(mine, undefined, `unexpected: ${JSON.stringify(broken)}`);
    else assert.deepEqual(mine, { rule: c.rule, reason: c.reason });
  });
}

test('every rule has a case where it holds and one where it breaks', () => {
  for (const r of RULES) {
    assert.ok(CASES.some((c) => c.rule === r.name && c.reason === undefined), `${r.name}: no valid case`);
    assert.ok(CASES.some((c) => c.rule === r.name && c.reason !== undefined), `${r.name}: no invalid case`);
  }
});

test('rule names are unique kebab-case and each cites a source', () => {
  const names = RULES.map((r) => r.name);
  assert.equal(new Set(names).size, names.length);
  for (const r of RULES) {
    assert.match(r.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    assert.match(r.source, /\[(PS|VA|TC|MPC|RT)\]/);
  }
  assert.match(RULES.find((r) => r.name === 'query-groups-vs-tp')!.source, /core_v0\.12–v0\.15/);
});

test('published model-zoo configurations pass every rule', () => {
  assert.deepEqual(checkPlan(mixtral, shapeOf(mixtral), parsePlanSpec(`${MIXTRAL_ZOO},dispatcher=alltoall`, mixtral, shapeOf(mixtral))), []);
  assert.deepEqual(checkPlan(deepseek, shapeOf(deepseek),
    parsePlanSpec('tp=1,cp=1,pp=16,ep=64,etp=1,mbs=1,first=4,last=1,dispatcher=flex', deepseek, shapeOf(deepseek))), []);
  const qwen = qwen3ZooJob();
  assert.deepEqual(checkPlan(qwen, shapeOf(qwen), parsePlanSpec('tp=1,pp=1,ep=8,etp=1,mbs=1', qwen, shapeOf(qwen))), []);
});

test('§2.11: ETP4·EP8·PP8 on 128 GPUs breaks only the [PS] world check (passes validate_args and TransformerConfig)', () => {
  const plan = parsePlanSpec('tp=2,pp=8,vpp=7,ep=8,etp=4', mixtral, shapeOf(mixtral));
  assert.deepEqual(checkPlan(mixtral, shapeOf(mixtral), plan).map((v) => v.rule), ['expert-world-divisible']);
});

test('checkPlan lists every broken rule in RULES order', () => {
  // CP3 on 128 GPUs with seq 4096: the world check and the CP/seq check both fail.
  const plan = parsePlanSpec('cp=3,ep=16', mixtral, shapeOf(mixtral));
  assert.deepEqual(checkPlan(mixtral, shapeOf(mixtral), plan).map((v) => v.rule),
    ['attn-world-divisible', 'cp-seq-divisible', 'experts-divisible-by-ep']);
});

test('unevenSplitProblem follows Megatron [TC] L2294–2368', () => {
  assert.equal(unevenSplitProblem(61, 16, 1, 4, 1), null);
  assert.equal(unevenSplitProblem(60, 16, 2, 2, 2), null); // 56 over 14 = 4 per middle stage
  assert.equal(unevenSplitProblem(60, 16, 3, 3, 3), '54 middle layers are not divisible by 14 middle PP stages');
  assert.equal(unevenSplitProblem(60, 16, 4, 2, 2), "first stage's 2 layers are not divisible by VPP 4");
  assert.equal(unevenSplitProblem(10, 2, 1, 6, 4), null);
  assert.equal(unevenSplitProblem(10, 2, 1, 6, 3), '1 middle layers remain for 0 middle PP stages');
  assert.equal(unevenSplitProblem(10, 3, 1, 5, 5), '0 middle layers remain for 1 middle PP stages');
  assert.equal(unevenSplitProblem(10, 4, 1, 0, 5), 'first stage must hold more than 0 layers (got 0)');
  assert.equal(unevenSplitProblem(10, 1, 1, 10, 10), 'an uneven first/last split needs PP >= 2 (PP is 1)');
  assert.equal(unevenSplitProblem(66, 8, 2, 6, 6), '9 layers per middle stage are not divisible by VPP 2');
});

test('RULES is ordered by loop level, so the first broken rule is the one the enumerator counts', () => {
  let depth = 0;
  for (const r of RULES) {
    assert.ok(LEVEL_DEPTH[r.level] >= depth, `${r.name} (${r.level}) comes after a rule of a deeper loop`);
    depth = LEVEL_DEPTH[r.level];
  }
  // the enumerator's per-level lists cover every prune rule once
  const levels = Object.keys(LEVEL_DEPTH) as (keyof typeof LEVEL_DEPTH)[];
  const all = levels.flatMap((l) => [...pruneRulesAt(l)]).sort((a, b) => a - b);
  assert.deepEqual(all, RULES.flatMap((r, i) => (r.use === 'prune' ? [i] : [])));
  assert.equal(firstBroken(pruneRulesAt('combo'), mixtral, shapeOf(mixtral), parsePlanSpec('tp=3', mixtral, shapeOf(mixtral))),
    RULES.findIndex((r) => r.name === 'attn-world-divisible'));
  assert.equal(firstBroken(pruneRulesAt('combo'), mixtral, shapeOf(mixtral), parsePlanSpec(MIXTRAL_ZOO, mixtral, shapeOf(mixtral))), -1);
});

/** The plan fields each level may read (besides the job); a rule must not change its answer when others change. */
const LEVEL_FIELDS: Record<string, readonly (keyof Plan)[]> = {
  job: [], tp: ['tp'], cp: ['cp'], combo: ['tp', 'cp', 'pp', 'sequenceParallel'],
  split: ['pp', 'firstStageLayers', 'lastStageLayers'], vpp: ['pp', 'firstStageLayers', 'lastStageLayers', 'vpp'],
  mbs: ['tp', 'cp', 'pp', 'dp', 'vpp', 'microBatchSize', 'firstStageLayers', 'lastStageLayers'],
  ep: ['ep', 'tp', 'etp'], etp: ['etp'], pair: ['ep', 'etp', 'pp'], dispatcher: ['ep', 'etp', 'pp', 'dispatcher'],
};

test('each rule reads only the plan fields of its level (what lets the enumerator check it there)', () => {
  const jobs = [mixtral, deepseek, llama, tiny({ moe_shared_expert_intermediate_size: 1020, ffn_hidden_size: 1020, moe_layer_freq: 2 }, 8)];
  const specs = ['tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1', 'tp=3,cp=3,pp=5,vpp=2,ep=16,etp=3,mbs=3,first=3,last=2', 'tp=8,pp=16,first=4,last=1,ep=64,dispatcher=flex',
    'tp=1,cp=2,pp=2,vpp=4,ep=1,etp=1,mbs=2,dispatcher=flex', 'tp=16,cp=8,pp=4,mbs=8'];
  // other values for the fields a level must not read
  const noise: Partial<Plan>[] = [
    { tp: 7, cp: 5, pp: 3, vpp: 3, ep: 6, etp: 5, dp: 3.5, edp: 1.5, microBatchSize: 3, numMicroBatches: 2.5, firstStageLayers: 2, lastStageLayers: 9, sequenceParallel: true, dispatcher: 'flex' },
    { tp: 1, cp: 1, pp: 1, vpp: 1, ep: 1, etp: 1, dp: 1, edp: 1, microBatchSize: 1, numMicroBatches: 1, firstStageLayers: 0, lastStageLayers: 0, sequenceParallel: false, dispatcher: 'alltoall' },
  ];
  for (const job of jobs) {
    const shape = shapeOf(job);
    for (const spec of specs) {
      const plan = parsePlanSpec(spec, job, shape);
      for (const r of RULES) {
        if (r.level === 'plan') continue;
        const want = r.holds(job, shape, plan);
        for (const n of noise) {
          const other = { ...plan };
          for (const [k, v] of Object.entries(n)) if (!LEVEL_FIELDS[r.level].includes(k as keyof Plan)) (other as Record<string, unknown>)[k] = v;
          // ETP follows TP where the enumerator checks ep-level rules of a dense model
          if (r.level === 'ep' && !shape.isMoe) other.etp = other.tp;
          assert.equal(r.holds(job, shape, other), want, `${r.name} on ${spec} changed with ${JSON.stringify(n)}`);
        }
      }
    }
  }
});
