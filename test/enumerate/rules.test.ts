import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, ModelSpec } from '../../src/job/types.js';
import type { Plan } from '../../src/enumerate/plan.js';
import { LEVEL_DEPTH, RULES, checkPlan, firstBroken, pruneRulesAt, unevenSplitProblem } from '../../src/enumerate/rules.js';
import { parsePlanSpec } from '../../src/enumerate/plan-spec.js';
import { mbGroupProblem, smallestMbGroup, virtualStageLayers } from '../../src/plan/layout.js';
import {
  LLAMA3_70B, MIXTRAL_8X22B, TINY_MOE, deepseekZooJob, llama405bJob, makeJob, mixtralZooJob, qwen3ZooJob, qwen3_235bJob,
  shapeOf,
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
/** Qwen3-235B-A22B (94 layers) on its fixture's 256 GPUs: TP2 PP8 EP8, DP 16, 128 micro-batches. */
const qwen235 = qwen3_235bJob();
const QWEN235_PP8 = 'tp=2,pp=8,ep=8';
const ACCOUNT_BOTH = 'account_for_embedding=true,account_for_loss=true';
/** NVIDIA's DeepSeek-V3 recipe layout (PP8 VPP4). */
const DSV3_LAYOUT = 'Et|(tt|)*30mL';
/** Megatron's micro-batch group docstring example (schedules.py: "PP2 N3M5 with VP2"): 8 layers, 2 GPUs, GBS 5. */
const pp2m5 = makeJob(TINY_MOE, { gpus: 2, globalBatchSize: 5 });

/** Mixtral with LoRA of rank `rank` on `targets` (Bridge's default targets unless given). */
const lora = (rank: number, targets: Job['training']['lora_target_modules'] = ['linear_qkv', 'linear_proj', 'linear_fc1', 'linear_fc2']): Job =>
  ({ ...mixtral, training: { ...mixtral.training, frozen: true, lora_rank: rank, lora_target_modules: targets } });

const CASES: RuleCase[] = [
  { rule: 'lora-divisible-by-tp', what: 'LoRA rank 16, TP8', job: lora(16), plan: 'tp=8' },
  { rule: 'lora-divisible-by-tp', what: 'LoRA rank 12 on linear_proj and linear_fc2 only (A is row-parallel), TP8', job: lora(12, ['linear_proj', 'linear_fc2']), plan: 'tp=8' },
  {
    rule: 'lora-divisible-by-tp', what: 'LoRA rank 12 on linear_qkv, TP8', job: lora(12), plan: 'tp=8',
    reason: 'lora_rank 12 is not divisible by TP 8 (Megatron-Bridge shards the adapters over TP)',
  },
  { rule: 'lora-divisible-by-etp', what: 'LoRA rank 12 on the experts\' linear_fc1, ETP4', job: lora(12), plan: 'etp=4' },
  {
    rule: 'lora-divisible-by-etp', what: 'LoRA rank 12 on the experts\' linear_fc1, ETP8', job: lora(12), plan: 'etp=8',
    reason: "lora_rank 12 is not divisible by ETP 8 (Megatron-Bridge shards the experts' adapters over ETP)",
  },
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
  {
    rule: 'sequence-parallel-with-moe-tp', what: '--plan sp=false on an MoE model with TP2', job: mixtral, plan: `${MIXTRAL_ZOO},sp=false`,
    reason: 'an MoE model with TP 2 needs sequence parallel on',
  },
  { rule: 'sequence-parallel-with-moe-tp', what: '--plan sp=false on a dense model with TP2', job: llama, plan: 'tp=2,sp=false' },
  { rule: 'sequence-parallel-needs-tp', what: 'TP2 with SP', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'sequence-parallel-needs-tp', what: 'TP1 with SP', job: mixtral, plan: 'pp=8,ep=8',
    edit: (p) => { p.sequenceParallel = true; }, reason: 'sequence parallel needs TP > 1 (TP is 1)',
  },
  { rule: 'cp-attention-variant', what: 'sliding window 128 without CP', job: tiny({ window_size: 128 }, 16), plan: 'cp=1' },
  {
    rule: 'cp-attention-variant', what: 'sliding window 128, CP2 (TE has no p2p CP backend)', job: tiny({ window_size: 128 }, 16),
    plan: 'cp=2', reason: 'CP 2 with window_size 128: Transformer Engine has no p2p context-parallel attention backend for it',
  },
  {
    rule: 'cp-attention-variant', what: 'learnable softmax (sinks), CP2', job: tiny({ softmax_type: 'learnable' }, 16), plan: 'cp=2',
    reason: 'CP 2 with softmax_type learnable: Transformer Engine has no p2p context-parallel attention backend for it',
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
  {
    rule: 'pp-layer-split', what: 'Qwen3-235B, 94 layers on PP8, accounted split (the even rule does not apply)',
    job: qwen235, plan: `${QWEN235_PP8},${ACCOUNT_BOTH}`,
  },
  {
    rule: 'pp-layer-split', what: 'Qwen3-235B, 94 layers on PP8, even', job: qwen235, plan: QWEN235_PP8,
    reason: 'num_layers 94 is not divisible by PP 8 (even split)',
  },
  { rule: 'accounted-split', what: 'Qwen3-235B: 94 + embedding + loss = 96 on PP8', job: qwen235, plan: `${QWEN235_PP8},${ACCOUNT_BOTH}` },
  { rule: 'accounted-split', what: 'DeepSeek-V3: 61 + loss = 62 on PP2', job: deepseek, plan: 'pp=2,ep=64,account_for_loss=true' },
  {
    rule: 'accounted-split', what: 'Qwen3-235B: 94 + loss = 95 on PP8', job: qwen235, plan: `${QWEN235_PP8},account_for_loss=true`,
    reason: 'num_layers 94 + loss = 95 is not divisible by PP 8',
  },
  {
    rule: 'accounted-split', what: 'Llama-3.1-405B: 126 + embedding = 127 on PP8', job: llama405bJob(),
    plan: 'tp=8,pp=8,account_for_embedding=true', reason: 'num_layers 126 + embedding = 127 is not divisible by PP 8',
  },
  { rule: 'layout-valid', what: 'DeepSeek-V3 with NVIDIA\'s recipe layout on PP8', job: deepseek, plan: `tp=2,pp=8,ep=64,layout=${DSV3_LAYOUT}` },
  {
    rule: 'layout-valid', what: 'DeepSeek-V3 with Megatron\'s docstring layout, commas in it', job: deepseek,
    plan: 'tp=2,pp=8,ep=64,layout=Ettt|(tt|)*29,m|L',
  },
  {
    rule: 'layout-valid', what: 'a layout with 59 decoder layers for 61 (an empty stage keeps 32)', job: deepseek, plan: 'tp=2,pp=8,ep=64,layout=Et|(tt|)*29|mL',
    reason: '--pipeline-model-parallel-layout "Et|(tt|)*29|mL" holds 59 decoder layers t, not num_layers 61',
  },
  {
    rule: 'layout-valid', what: 'the recipe layout (32 stages) on PP5', job: deepseek, plan: `pp=5,layout=${DSV3_LAYOUT}`,
    reason: '--pipeline-model-parallel-layout "Et|(tt|)*30mL" has 32 stages, not a multiple of PP 5',
  },
  {
    rule: 'layout-valid', what: 'the recipe layout without its MTP layer', job: deepseek, plan: 'tp=2,pp=8,ep=64,layout=Et|(tt|)*30L',
    reason: '--pipeline-model-parallel-layout "Et|(tt|)*30L" holds 0 MTP layers m, not mtp_num_layers 1',
  },
  { rule: 'vpp-needs-pp', what: 'PP2 VPP2', job: mixtral, plan: 'pp=2,vpp=2' },
  { rule: 'vpp-needs-pp', what: 'PP1 VPP2', job: mixtral, plan: 'vpp=2', reason: 'VPP 2 needs PP > 1 (PP is 1)' },
  { rule: 'vpp-layer-split', what: '§4.3: Mixtral 8x22B, 7 layers/stage, VPP7', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'vpp-layer-split', what: '§2.11: 7 layers/stage split into 3', job: mixtral, plan: 'tp=2,pp=8,vpp=3,ep=8,etp=1',
    reason: '7 layers per pipeline stage are not divisible by VPP 3',
  },
  {
    rule: 'accounted-vpp-split', what: 'Qwen3-235B PP8 VPP4: 96/8 = 12 per rank, 3 per virtual stage', job: qwen235,
    plan: `${QWEN235_PP8},vpp=4,${ACCOUNT_BOTH}`,
  },
  {
    rule: 'accounted-vpp-split', what: 'Llama-3.1-405B PP8 VPP8: 128/8 = 16 per rank', job: llama405bJob(),
    plan: `tp=8,pp=8,vpp=8,${ACCOUNT_BOTH}`,
  },
  {
    rule: 'accounted-vpp-split', what: 'Qwen3-235B PP8 VPP5: 12 per rank', job: qwen235, plan: `${QWEN235_PP8},vpp=5,${ACCOUNT_BOTH}`,
    reason: '12 layers per pipeline rank (with embedding + loss) are not divisible by VPP 5',
  },
  {
    rule: 'accounted-vpp-split', what: 'DeepSeek-V3 PP2 VPP2, loss only: 31 per rank', job: deepseek,
    plan: 'pp=2,vpp=2,ep=64,account_for_loss=true',
    reason: '31 layers per pipeline rank (with loss) are not divisible by VPP 2',
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
  { rule: 'layout-vpp', what: 'the recipe layout, VPP from its 32 stages on PP8', job: deepseek, plan: `tp=2,pp=8,ep=64,layout=${DSV3_LAYOUT}` },
  { rule: 'layout-vpp', what: 'the recipe layout with vpp=4 stated', job: deepseek, plan: `tp=2,pp=8,vpp=4,ep=64,layout=${DSV3_LAYOUT}` },
  {
    rule: 'layout-vpp', what: 'the recipe layout with vpp=2 stated', job: deepseek, plan: `tp=2,pp=8,vpp=2,ep=64,layout=${DSV3_LAYOUT}`,
    reason: 'the layout has 32 stages, i.e. 4 virtual stages per PP rank, not VPP 2',
  },
  { rule: 'gbs-divisible-by-mbs-dp', what: 'GBS 256, DP8', job: mixtral, plan: MIXTRAL_ZOO },
  {
    rule: 'gbs-divisible-by-mbs-dp', what: '§2.11: GBS 250 with DP8',
    job: makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 250 }), plan: MIXTRAL_ZOO,
    reason: 'global batch size 250 is not divisible by micro-batch 1 × DP 8 = 8',
  },
  { rule: 'vpp-microbatches', what: 'VPP7 PP8, 32 micro-batches', job: mixtral, plan: MIXTRAL_ZOO },
  {
    // the default group PP 8: 25 = 3·8 + 1 leaves a last group of 1 < PP (the message names the flag that fixes it)
    rule: 'vpp-microbatches', what: 'VPP7 PP8, 25 micro-batches', job: makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 200 }),
    plan: MIXTRAL_ZOO, reason: 'with VPP 7: 25 micro-batches leave a last group of 1 (group 8), fewer than PP 8 '
      + '(a micro-batch group of 13 runs: mb_group=13, --microbatch-group-size-per-virtual-pipeline-stage)',
  },
  {
    rule: 'vpp-microbatches', what: 'VPP7 PP8, 25 micro-batches in groups of 13 (25 % 13 = 12 >= 8)',
    job: makeJob(MIXTRAL_8X22B, { gpus: 128, globalBatchSize: 200 }), plan: `${MIXTRAL_ZOO},mb_group=13`,
  },
  { rule: 'vpp-microbatches', what: "Megatron's example: PP2 VPP2, group 3, 5 micro-batches (5 % 3 = 2 >= 2)", job: pp2m5, plan: 'pp=2,vpp=2,mb_group=3' },
  {
    rule: 'vpp-microbatches', what: 'PP2 VPP2, group 4, 5 micro-batches', job: pp2m5, plan: 'pp=2,vpp=2,mb_group=4',
    // the message names the smallest group that runs (5 % 3 = 2 >= PP 2)
    reason: 'with VPP 2: 5 micro-batches leave a last group of 1 (group 4), fewer than PP 2 '
      + '(a micro-batch group of 3 runs: mb_group=3, --microbatch-group-size-per-virtual-pipeline-stage)',
  },
  {
    rule: 'vpp-microbatches', what: 'PP2 VPP2, group 6 > 5 micro-batches', job: pp2m5, plan: 'pp=2,vpp=2,mb_group=6',
    reason: 'with VPP 2: the micro-batch group 6 must lie in [PP 2, micro-batches 5] '
      + '(a micro-batch group of 3 runs: mb_group=3, --microbatch-group-size-per-virtual-pipeline-stage)',
  },
  {
    rule: 'vpp-microbatches', what: 'PP2 VPP2, 1 micro-batch', job: makeJob(TINY_MOE, { gpus: 2, globalBatchSize: 1 }), plan: 'pp=2,vpp=2',
    reason: 'with VPP 2: 1 micro-batches are fewer than PP 2',
  },
  { rule: 'vpp-microbatches', what: 'no VPP: the group is not used (group 6 > 5 micro-batches)', job: pp2m5, plan: 'pp=2,mb_group=6' },
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
  {
    rule: 'derived-sizes-consistent', what: 'an accounted split stating 12 decoder layers on the first stage', job: qwen235,
    plan: `${QWEN235_PP8},${ACCOUNT_BOTH}`, edit: (p) => { p.firstStageLayers = 12; },
    reason: 'an accounted split builds 11/11 decoder layers on the first/last stage, not 12/11',
  },
  {
    rule: 'derived-sizes-consistent', what: 'a layout stating 7 decoder layers on the last stage', job: deepseek,
    plan: `tp=2,pp=8,ep=64,layout=${DSV3_LAYOUT}`, edit: (p) => { p.lastStageLayers = 7; },
    reason: 'the layout builds 7/6 decoder layers on the first/last stage, not 7/7',
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

test('mbGroupProblem: Megatron\'s interleaved-schedule checks on the micro-batch group (schedules.py L1160–1180)', () => {
  assert.equal(mbGroupProblem(2, 5, 3), null); // the docstring's "PP2 N3M5 with VP2": 5 % 3 = 2 >= PP
  assert.equal(mbGroupProblem(2, 5, 2), '5 micro-batches leave a last group of 1 (group 2), fewer than PP 2');
  assert.equal(mbGroupProblem(8, 32, 8), null);
  assert.equal(mbGroupProblem(8, 25, 13), null);
  assert.equal(mbGroupProblem(8, 25, 12), '25 micro-batches leave a last group of 1 (group 12), fewer than PP 8');
  assert.equal(mbGroupProblem(8, 25, 26), 'the micro-batch group 26 must lie in [PP 8, micro-batches 25]');
  assert.equal(mbGroupProblem(8, 25, 7), 'the micro-batch group 7 must lie in [PP 8, micro-batches 25]');
  assert.equal(mbGroupProblem(8, 4, 8), '4 micro-batches are fewer than PP 8');
  assert.equal(mbGroupProblem(4, 10, 6), null); // 10 % 6 = 4 >= PP
  assert.equal(mbGroupProblem(4, 10, 10), null);
  // the rule as schedules.py states it: group in [PP, M], and the last group (M % group) 0 or at least PP
  for (let pp = 1; pp <= 8; pp++) {
    for (let m = 1; m <= 40; m++) {
      for (let g = 1; g <= 45; g++) {
        const runs = g >= pp && g <= m && (m % g === 0 || m % g >= pp);
        assert.equal(mbGroupProblem(pp, m, g) === null, runs, `PP ${pp}, M ${m}, group ${g}`);
      }
    }
  }
});

test('smallestMbGroup: PP where Megatron\'s default runs, else the smallest group that runs; PP when none does', () => {
  assert.equal(smallestMbGroup(8, 32), 8);
  assert.equal(smallestMbGroup(2, 5), 3); // Megatron's docstring example
  assert.equal(smallestMbGroup(8, 25), 13); // 9 → 7, 10 → 5, 11 → 3, 12 → 1 are last groups < 8; 13 → 12
  assert.equal(smallestMbGroup(4, 10), 5);
  assert.equal(smallestMbGroup(3, 7), 4);
  assert.equal(smallestMbGroup(8, 4), 8); // fewer micro-batches than PP: no group runs
  for (let pp = 1; pp <= 8; pp++) {
    for (let m = pp; m <= 40; m++) {
      const g = smallestMbGroup(pp, m);
      assert.equal(mbGroupProblem(pp, m, g), null, `PP ${pp}, M ${m}: ${g}`);
      for (let h = pp; h < g; h++) assert.notEqual(mbGroupProblem(pp, m, h), null, `PP ${pp}, M ${m}: ${h} < ${g} runs`);
    }
  }
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
const SPLIT_FIELDS: readonly (keyof Plan)[] = ['pp', 'firstStageLayers', 'lastStageLayers', 'accountEmbedding', 'accountLoss', 'layout'];
const LEVEL_FIELDS: Record<string, readonly (keyof Plan)[]> = {
  job: [], tp: ['tp'], cp: ['cp'], combo: ['tp', 'cp', 'pp', 'sequenceParallel'],
  split: SPLIT_FIELDS, vpp: [...SPLIT_FIELDS, 'vpp'],
  mbs: ['tp', 'cp', 'dp', 'vpp', 'microBatchSize', 'mbGroup', ...SPLIT_FIELDS],
  ep: ['ep', 'tp', 'etp'], etp: ['etp'], pair: ['ep', 'etp', 'pp'], dispatcher: ['ep', 'etp', 'pp', 'dispatcher'],
};

test('each rule reads only the plan fields of its level (what lets the enumerator check it there)', () => {
  const jobs = [mixtral, deepseek, llama, tiny({ moe_shared_expert_intermediate_size: 1020, ffn_hidden_size: 1020, moe_layer_freq: 2 }, 8)];
  const specs = ['tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1', 'tp=3,cp=3,pp=5,vpp=2,ep=16,etp=3,mbs=3,first=3,last=2', 'tp=8,pp=16,first=4,last=1,ep=64,dispatcher=flex',
    'tp=1,cp=2,pp=2,vpp=4,ep=1,etp=1,mbs=2,dispatcher=flex', 'tp=16,cp=8,pp=4,mbs=8',
    `tp=2,pp=8,vpp=4,ep=8,${ACCOUNT_BOTH}`, 'pp=2,vpp=2,account_for_loss=true,mb_group=3', `tp=2,pp=8,ep=64,layout=${DSV3_LAYOUT}`,
    'pp=4,vpp=3,layout=Et|(tt|)*10tL,mb_group=5'];
  // other values for the fields a level must not read
  const noise: Partial<Plan>[] = [
    { tp: 7, cp: 5, pp: 3, vpp: 3, ep: 6, etp: 5, dp: 3.5, edp: 1.5, microBatchSize: 3, numMicroBatches: 2.5, firstStageLayers: 2, lastStageLayers: 9, sequenceParallel: true, dispatcher: 'flex',
      accountEmbedding: true, accountLoss: false, layout: 'Et|tt|tL', mbGroup: 5 },
    { tp: 1, cp: 1, pp: 1, vpp: 1, ep: 1, etp: 1, dp: 1, edp: 1, microBatchSize: 1, numMicroBatches: 1, firstStageLayers: 0, lastStageLayers: 0, sequenceParallel: false, dispatcher: 'alltoall',
      accountEmbedding: false, accountLoss: false, layout: '', mbGroup: 1 },
    { accountEmbedding: false, accountLoss: true, layout: DSV3_LAYOUT, mbGroup: 13 },
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

test('accounted splits: Qwen3-235B PP8 VPP4 and Llama-3.1-405B PP8 VPP8 are valid with embedding + loss, not without', () => {
  const llama405 = llama405bJob();
  for (const [job, base, L] of [[qwen235, `${QWEN235_PP8},vpp=4`, 94], [llama405, 'tp=8,pp=8,vpp=8', 126]] as const) {
    const shape = shapeOf(job);
    assert.equal(job.model.num_layers, L);
    const both = parsePlanSpec(`${base},${ACCOUNT_BOTH}`, job, shape);
    assert.deepEqual(checkPlan(job, shape, both), [], `${job.model.name} with embedding + loss`);
    // (L + 2)/8 per rank, the first rank one decoder layer fewer for the embedding, the last one fewer for the loss
    assert.deepEqual([both.firstStageLayers, both.lastStageLayers], [(L + 2) / 8 - 1, (L + 2) / 8 - 1]);
    // L % 8 == 6: the even split is refused (and so is one accounted term: L + 1 is odd)
    assert.deepEqual(checkPlan(job, shape, parsePlanSpec(base, job, shape)).map((v) => v.rule), ['pp-layer-split']);
    for (const one of ['account_for_embedding=true', 'account_for_loss=true']) {
      assert.deepEqual(checkPlan(job, shape, parsePlanSpec(`${base},${one}`, job, shape)).map((v) => v.rule), ['accounted-split']);
    }
  }
});

test('an accounted split: the first virtual stage of PP rank 0 builds one layer fewer, and the last of the last rank', () => {
  const shape = shapeOf(qwen235);
  // 96 counted layers over 8 ranks × 4 virtual stages: 3 each; stage s is virtual stage s // 8 of rank s % 8
  const both = parsePlanSpec(`${QWEN235_PP8},vpp=4,${ACCOUNT_BOTH}`, qwen235, shape);
  const v = virtualStageLayers(both, 94);
  assert.deepEqual(v, [2, ...new Array<number>(30).fill(3), 2]);
  assert.equal(v.reduce((a, b) => a + b, 0), 94);
  // embedding only on DeepSeek-V3 (61 + 1 = 62 on PP2): rank 0 builds 30, rank 1 builds 31; loss only the reverse
  const ds = shapeOf(deepseek);
  assert.deepEqual(virtualStageLayers(parsePlanSpec('pp=2,ep=64,account_for_embedding=true', deepseek, ds), 61), [30, 31]);
  assert.deepEqual(virtualStageLayers(parsePlanSpec('pp=2,ep=64,account_for_loss=true', deepseek, ds), 61), [31, 30]);
  // Llama-3.1-405B PP8 VPP8: 128/64 = 2 per virtual stage, 1 on the first and on the last
  const llama405 = llama405bJob();
  const l = virtualStageLayers(parsePlanSpec(`tp=8,pp=8,vpp=8,${ACCOUNT_BOTH}`, llama405, shapeOf(llama405)), 126);
  assert.deepEqual([l.length, l[0], l[1], l[8], l[62], l[63]], [64, 1, 2, 2, 2, 1]);
  // a layout states each virtual stage
  const lay = parsePlanSpec(`tp=2,pp=8,ep=64,layout=${DSV3_LAYOUT}`, deepseek, ds);
  assert.deepEqual(virtualStageLayers(lay, 61), [1, ...new Array<number>(30).fill(2), 0]);
});
