/**
 * Golden tests: every export format for the two reference plans, compared with the committed files under
 * test/export/golden/. A format that refuses a plan has its one-line refusal as the golden text.
 * UPDATE_GOLDEN=1 rewrites the files (review the diff before committing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXPORT_FORMATS, exportFileName, exportPlan } from '../../src/export/index.js';
import { InputError } from '../../src/job/errors.js';
import { REPO_ROOT } from '../../src/paths.js';
import { GOLDEN_CASES, shapeOf } from './jobs.js';

const GOLDEN_DIR = path.join(REPO_ROOT, 'test', 'export', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function render(format: (typeof EXPORT_FORMATS)[number], c: (typeof GOLDEN_CASES)[number]): string {
  try {
    return exportPlan(format, c.job, shapeOf(c.job), c.plan, { rank: 1 });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return `refused: ${e.message}\n`;
  }
}

for (const c of GOLDEN_CASES) {
  for (const format of EXPORT_FORMATS) {
    // an export is kept under its own file name; a refusal under <name>.refused.txt
    const base = path.join(GOLDEN_DIR, `${c.name}.${exportFileName(format, 1)}`);
    test(`golden: ${c.name} ${format}`, () => {
      const text = render(format, c);
      const refused = text.startsWith('refused: ');
      const file = refused ? `${base}.refused.txt` : base;
      if (UPDATE) {
        fs.mkdirSync(GOLDEN_DIR, { recursive: true });
        fs.rmSync(refused ? base : `${base}.refused.txt`, { force: true });
        fs.writeFileSync(file, text);
        return;
      }
      assert.ok(fs.existsSync(file), `missing golden file ${path.relative(REPO_ROOT, file)} (run with UPDATE_GOLDEN=1)`);
      assert.equal(text, fs.readFileSync(file, 'utf8'), `${path.relative(REPO_ROOT, file)} differs (UPDATE_GOLDEN=1 rewrites it)`);
    });
  }
}

test('golden: the refusals are the expected ones', () => {
  // DeepSeek-V3 trains in fp8 with MTP: torchtitan is refused (its first reason is fp8), every other format works
  const ds = GOLDEN_CASES[1];
  assert.match(render('torchtitan', ds), /^refused: fixtures\/models\/deepseek-v3\.yaml: export: torchtitan cannot express fp8 training/);
  for (const f of EXPORT_FORMATS) if (f !== 'torchtitan') assert.doesNotMatch(render(f, ds), /^refused/);
  // Mixtral: torchtitan v0.2.2 has no Mixtral model, Megatron-Bridge no Mixtral recipe; the script formats work
  assert.match(render('torchtitan', GOLDEN_CASES[0]), /^refused: fixtures\/models\/mixtral-8x22b\.yaml: export: torchtitan v0\.2\.2 has no model for Mixtral-8x22B/);
  assert.match(render('megatron-bridge', GOLDEN_CASES[0]), /^refused: fixtures\/models\/mixtral-8x22b\.yaml: export: megatron-bridge has no recipe for Mixtral-8x22B/);
  for (const f of EXPORT_FORMATS) if (f !== 'torchtitan' && f !== 'megatron-bridge') assert.doesNotMatch(render(f, GOLDEN_CASES[0]), /^refused/);
});

test('exportFileName and EXPORT_FORMATS', () => {
  assert.deepEqual([...EXPORT_FORMATS], ['megatron', 'torchrun', 'slurm', 'megatron-bridge', 'torchtitan']);
  assert.equal(exportFileName('megatron', 1), 'plan-1.megatron.sh');
  assert.equal(exportFileName('torchrun', 2), 'plan-2.torchrun.sh');
  assert.equal(exportFileName('slurm', 3), 'plan-3.sbatch');
  assert.equal(exportFileName('megatron-bridge', 1), 'plan-1.bridge-overrides.txt');
  assert.equal(exportFileName('torchtitan', 10), 'plan-10.torchtitan.toml');
});
