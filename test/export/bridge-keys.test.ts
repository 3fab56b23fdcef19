/**
 * Drift guard for the megatron-bridge export: every key it writes for the top plans of every fixtures/ci baseline
 * (and the export test plans, with their dispatcher / recompute / precision variants) exists in the snapshot of
 * Megatron-Bridge 067f987's ConfigContainer (data/upstream/megatron-bridge-067f987.json, written by
 * scripts/bridge_keys.py from the Bridge and Megatron-LM sources), under the model nesting of the plan's recipe,
 * with a value of a type the field takes (and one of its choices where it has them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { exportPlan } from '../../src/export/index.js';
import { matchBridgeRecipe } from '../../src/export/bridge-recipes.js';
import { InputError } from '../../src/job/errors.js';
import { planAtRank, readPlansFile } from '../../src/plans/plans-file.js';
import { REPO_ROOT } from '../../src/paths.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { deepseekJob, deepseekPlan, shapeOf } from './jobs.js';

interface Field { types: string[]; choices?: string[] }
interface Snapshot { megatron_bridge_commit: string; sections: Record<string, Record<string, Field>>; dict_sections: string[] }
const SNAPSHOT = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'data', 'upstream', 'megatron-bridge-067f987.json'), 'utf8')) as Snapshot;

/** A Hydra value as the export writes it, read back: its type name and, for a string, the string. */
function hydraType(text: string): { type: string; str?: string } {
  if (text === 'null') return { type: 'null' };
  if (text === 'true' || text === 'false') return { type: 'bool' };
  if (/^-?\d+$/.test(text)) return { type: 'int' };
  if (/^-?(\d+\.\d*|\.\d+|\d+)(e-?\d+)?$/i.test(text)) return { type: 'float' };
  if (text.startsWith('[')) return { type: 'list' };
  if (text.startsWith('"')) return { type: 'str', str: JSON.parse(text) as string };
  return { type: 'str', str: text };
}

/** The snapshot section and field of an override key for a recipe of the given nesting. */
function locate(key: string, nesting: 'provider' | 'builder'): { section: string; field: string } {
  const k = key.replace(/^\+\+/, '');
  if (k.startsWith('model.transformer.')) return { section: 'model.transformer@builder', field: k.slice('model.transformer.'.length) };
  const [section, ...rest] = k.split('.');
  return { section: section === 'model' ? `model@${nesting}` : section, field: rest.join('.') };
}

/** Why the snapshot refuses one override line (unknown key, wrong type, not a choice, a dict key without ++), or null. */
function lineProblem(line: string, nesting: 'provider' | 'builder'): string | null {
  const eq = line.indexOf('=');
  const key = line.slice(0, eq);
  const { section, field } = locate(key, nesting);
  if (SNAPSHOT.dict_sections.includes(section)) return key.startsWith('++') ? null : `${key} adds to a dict, so it needs ++`;
  const spec = SNAPSHOT.sections[section]?.[field];
  if (spec === undefined) return `${key} is not a field of Bridge ${SNAPSHOT.megatron_bridge_commit.slice(0, 7)} (${section})`;
  const v = hydraType(line.slice(eq + 1));
  const ok = spec.types.includes(v.type) || spec.types.includes('any') || (v.type === 'int' && spec.types.includes('float'));
  if (!ok) return `${line}: ${v.type} where ${section}.${field} takes ${spec.types.join('|')}`;
  if (v.str !== undefined && spec.choices !== undefined && !spec.types.includes('null') && !spec.choices.includes(v.str)) {
    return `${line}: not one of ${spec.choices.join(', ')}`;
  }
  return null;
}

function checkExport(job: Job, plan: Plan, what: string): number {
  let text: string;
  try {
    text = exportPlan('megatron-bridge', job, shapeOf(job), plan);
  } catch (e) {
    // a model Bridge has no recipe for, or a base it cannot load (a codebook-compressed LoRA job), writes nothing
    if (e instanceof InputError && /megatron-bridge (has no (PEFT \(LoRA\) )?recipe for|cannot launch (codebook|int4))/.test(e.message)) return 0;
    throw e;
  }
  const match = matchBridgeRecipe(job.model);
  assert.ok('recipe' in match, what);
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const problem = lineProblem(line, match.recipe.nesting);
    assert.equal(problem, null, `${what}: ${problem ?? ''}`);
  }
  return lines.length;
}

test('the checks catch what they should: an unknown key, a wrong type, a bad choice, a misplaced nesting, a dict key without ++', () => {
  assert.equal(lineProblem('model.tensor_model_parallel_size=2', 'provider'), null);
  assert.equal(lineProblem('model.transformer.tensor_model_parallel_size=2', 'builder'), null);
  assert.match(lineProblem('model.tensor_model_parallel_sizes=2', 'provider') ?? '', /is not a field/);
  assert.match(lineProblem('model.tensor_model_parallel_size=true', 'provider') ?? '', /bool where/);
  assert.match(lineProblem('model.moe_token_dispatcher_type=broadcast', 'provider') ?? '', /not one of/);
  assert.match(lineProblem('model.transformer.seq_length=4096', 'builder') ?? '', /is not a field/);
  assert.match(lineProblem('env_vars.NCCL_NVLS_ENABLE=0', 'provider') ?? '', /needs \+\+/);
});

test('the snapshot names its commit', () => {
  assert.match(SNAPSHOT.megatron_bridge_commit, /^067f987/);
  assert.ok(Object.keys(SNAPSHOT.sections['model@provider']).length > 100);
});

test('every key the export writes for the fixtures/ci top plans exists in Bridge 067f987 with its type', () => {
  const dir = path.join(REPO_ROOT, 'fixtures', 'ci');
  let checked = 0;
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.baseline.json'))) {
    const pf = readPlansFile(path.join(dir, f));
    const job = { ...pf.job, source: `fixtures/ci/${f}` };
    for (let rank = 1; rank <= pf.result.plans.length; rank++) checked += checkExport(job, planAtRank(pf, rank).plan, `${f} plan ${rank}`);
  }
  assert.ok(checked > 100, `only ${checked} keys checked`);
});

test('every key of the dispatcher, recompute and precision variants exists with its type', () => {
  const base = deepseekPlan();
  const b200 = deepseekJob();
  b200.cluster.gpu = 'b200';
  for (const [what, job, plan] of [
    ['deepseek flex selective fp8', deepseekJob(), base],
    ['deepseek allgather full bf16', deepseekJob(), { ...base, dispatcher: 'allgather', recompute: 'full', precision: 'bf16' }],
    ['deepseek no distributed optimizer', deepseekJob(), { ...base, dispatcher: 'alltoall', distributedOptimizer: false }],
    ['deepseek b200 mxfp8', b200, base],
  ] as [string, Job, Plan][]) assert.ok(checkExport(job, plan, what) > 30, what);
});
