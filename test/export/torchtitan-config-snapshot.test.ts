/**
 * Drift guard for the torchtitan export: data/upstream/torchtitan-v0.2.2.config.json is torchtitan v0.2.2's
 * JobConfig (scripts/torchtitan-config-snapshot.py reads torchtitan/config/job_config.py at the tag). Every key
 * that the torchtitan export writes, for the top plans of each fixture and for the torchtitan test jobs, must be a
 * key of its section there with a value of the annotated type (the file parsed back with smol-toml).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as TOML from 'smol-toml';
import { REPO_ROOT } from '../../src/paths.js';
import { exportPlan } from '../../src/export/index.js';
import { InputError } from '../../src/job/errors.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { fixturePlans } from './fixture-plans.js';
import { shapeOf } from './jobs.js';
import { deepseekBf16, llamaJob, llamaPlan, qwenJob, qwenPlan } from './torchtitan-jobs.js';

interface Snapshot {
  tag: string;
  commit: string;
  sections: Record<string, Record<string, { type: string; default: unknown }>>;
}

const snapshot = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'data/upstream/torchtitan-v0.2.2.config.json'), 'utf8')) as Snapshot;

/** Splits `text` at `sep` outside brackets. */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (depth === 0 && text.startsWith(sep, i)) {
      out.push(text.slice(start, i).trim());
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(text.slice(start).trim());
  return out;
}

/**
 * Whether a TOML value fits a Python annotation of job_config.py: int, float, str, bool, None (never: TOML has no
 * null), Literal['a', 'b'], list[T] and unions A | B. An annotation of another form throws (extend this then).
 */
function fits(value: unknown, annotation: string): boolean {
  const alternatives = splitTop(annotation, '|');
  if (alternatives.length > 1) return alternatives.some((a) => fits(value, a));
  const a = annotation.trim();
  if (a === 'int') return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
  if (a === 'float') return typeof value === 'number' || typeof value === 'bigint';
  if (a === 'str') return typeof value === 'string';
  if (a === 'bool') return typeof value === 'boolean';
  if (a === 'None') return false;
  const literal = /^Literal\[(.*)\]$/.exec(a);
  if (literal) return splitTop(literal[1], ',').map((x) => x.replace(/^'(.*)'$/, '$1')).includes(value as string);
  const list = /^list\[(.*)\]$/.exec(a);
  if (list) return Array.isArray(value) && value.every((v) => fits(v, list[1]));
  throw new Error(`annotation ${a} is not understood by this test`);
}

/** Each written key as [section path, key, value]. */
function writtenKeys(doc: Record<string, unknown>, prefix = ''): [string, string, unknown][] {
  const out: [string, string, unknown][] = [];
  for (const [k, v] of Object.entries(doc)) {
    const sub = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      // a table at the top is a section; below, a table is a sub-section when JobConfig has one of that name
      if (prefix === '' || sub in snapshot.sections) out.push(...writtenKeys(v as Record<string, unknown>, sub));
      else out.push([prefix, k, v]);
    } else {
      out.push([prefix, k, v]);
    }
  }
  return out;
}

function problems(text: string, where: string): string[] {
  const out: string[] = [];
  for (const [section, key, value] of writtenKeys(TOML.parse(text) as Record<string, unknown>)) {
    const s = snapshot.sections[section];
    if (!s) {
      out.push(`${where}: [${section}] is no section of torchtitan ${snapshot.tag}'s JobConfig`);
      continue;
    }
    const k = s[key];
    if (!k) out.push(`${where}: ${section}.${key} is no key of torchtitan ${snapshot.tag}`);
    else if (!fits(value, k.type)) out.push(`${where}: ${section}.${key} = ${JSON.stringify(value)} is not ${k.type}`);
  }
  return out;
}

test('torchtitan snapshot: it is v0.2.2\'s JobConfig', () => {
  assert.equal(snapshot.tag, 'v0.2.2');
  assert.equal(snapshot.commit, '73a0e6979dd10b6b1904098eb3c8f62c18ab87ce');
  assert.equal(snapshot.sections.parallelism.expert_parallel_comm_backend.type, "Literal['standard', 'deepep']");
  assert.equal(snapshot.sections.parallelism.module_fqns_per_model_part.type, 'list[list[str]] | None');
  assert.equal(snapshot.sections['training.dataloader'].num_workers.type, 'int'); // a nested dataclass is a sub-table
});

test('torchtitan snapshot: the type check catches what it should', () => {
  assert.equal(fits(4, 'int'), true);
  assert.equal(fits(4.5, 'int'), false);
  assert.equal(fits('4', 'int'), false);
  assert.equal(fits('full', "Literal['selective', 'full', 'memory_budget', 'none']"), true);
  assert.equal(fits('some', "Literal['selective', 'full', 'memory_budget', 'none']"), false);
  assert.equal(fits([['a', 'b'], ['c']], 'list[list[str]] | None'), true);
  assert.equal(fits(['a'], 'list[list[str]] | None'), false);
  assert.deepEqual(problems('[parallelism]\ntensor_parallel_degree = "2"\nnot_a_key = 1\n[nope]\nx = 1\n', 't'), [
    't: parallelism.tensor_parallel_degree = "2" is not int',
    't: parallelism.not_a_key is no key of torchtitan v0.2.2',
    "t: [nope] is no section of torchtitan v0.2.2's JobConfig",
  ]);
});

test('torchtitan snapshot: every key every torchtitan export writes exists in v0.2.2 with a value of its type', async () => {
  const cases: [string, Job, Plan][] = [
    ['qwen3 test job', qwenJob(), qwenPlan()],
    ['llama3 test job', llamaJob(), llamaPlan()],
    ['deepseek-v3 bf16 test job', deepseekBf16().job, deepseekBf16().plan],
  ];
  for (const f of await fixturePlans(5)) f.plans.forEach((p, i) => cases.push([`${f.file} plan ${i + 1}`, f.job, p]));
  const found: string[] = [];
  let files = 0;
  for (const [where, job, plan] of cases) {
    let text: string;
    try {
      text = exportPlan('torchtitan', job, shapeOf(job), plan);
    } catch (e) {
      if (e instanceof InputError) continue; // refused with its reason
      throw e;
    }
    files++;
    found.push(...problems(text, where));
  }
  assert.ok(files >= 8, `${files} torchtitan files checked`);
  assert.deepEqual(found, []);
});
