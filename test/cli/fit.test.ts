import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../../src/paths.js';
import { calibrationFromDoc, loadCalibration } from '../../src/cost/calibration.js';
import { loadDevSet, predict, withValues, type DevRun } from '../../scripts/dev-set.js';
import {
  fit, leaveOneGroupOut, readFreeTable, setCalibrationEntry, softL1, type FreeTable,
} from '../../src/calibrate/fit-core.js';

const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'accuracy');
const index = yaml.load(fs.readFileSync(path.join(FIXTURES, 'runs.yaml'), 'utf8')) as { runs: { id: string; job: string }[] };

/** A runs file of the named fixture entries (absolute job paths), with groups as given. */
function devSet(ids: [string, string][]): DevRun[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-fit-'));
  try {
    const runs = ids.map(([id, group]) => {
      const e = index.runs.find((r) => r.id === id);
      assert.ok(e, id);
      return { ...e, group, job: path.join(FIXTURES, e.job) };
    });
    fs.writeFileSync(path.join(dir, 'runs.yaml'), yaml.dump({ runs }));
    return loadDevSet(path.join(dir, 'runs.yaml')).runs;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const table = (min: number, max: number, prior = min): FreeTable => ({
  calibration: 'h100-sxm', loss_scale: 0.1, prior_weight: 1e-4,
  constants: [{ key: 'overhead.step_overhead_s', min, max, meaning: 'fixed per-step time', prior }],
});

/** Replaces each run's measurement by the model's prediction with step_overhead_s = truth. */
function measuredAt(runs: DevRun[], truth: number): void {
  const cal = withValues(runs[0].jc.calibration, ['overhead.step_overhead_s'], [truth]);
  for (const r of runs) r.measuredTokens = predict(r, cal).tokensPerSPerGpu;
}

const IDS: [string, string][] = [['nemo2407-gpt3-5b-64', 'a'], ['mlperf31-gpt3-512', 'a'], ['mb2509-llama3-70b-64', 'b']];

test('fit recovers a constant the measurements were made with, from a wrong start', () => {
  const runs = devSet(IDS);
  measuredAt(runs, 0.2);
  const res = fit(runs, runs[0].jc.calibration, table(0.001, 0.5, 0.02));
  assert.ok(Math.abs(res.values[0] / 0.2 - 1) < 0.01, `fitted ${res.values[0]}`);
  assert.ok(res.loss < 2e-5, `loss ${res.loss}`); // what is left is the weak pull toward the prior 0.02
});

test('fit stays inside the bounds when the data want more', () => {
  const runs = devSet(IDS);
  measuredAt(runs, 0.4);
  const res = fit(runs, runs[0].jc.calibration, table(0.001, 0.1, 0.05));
  assert.ok(res.values[0] <= 0.1 && res.values[0] > 0.099, `fitted ${res.values[0]}`);
});

test('leave-one-group-out predicts each group with constants fitted without it', () => {
  const runs = devSet(IDS);
  measuredAt(runs, 0.2);
  // group b disagrees: its run was measured 20 % slower than the model predicts at 0.2
  runs[2].measuredTokens *= 0.8;
  const { heldOut, folds } = leaveOneGroupOut(runs, runs[0].jc.calibration, table(0.001, 2, 0.05));
  assert.deepEqual(folds.map((f) => f.group), ['a', 'b']);
  // without b, the fit recovers 0.2 and predicts b 25 % fast; without a, it fits slow b alone and predicts a slow
  assert.ok(Math.abs(folds[1].values[0] / 0.2 - 1) < 0.01, `fold without b: ${folds[1].values[0]}`);
  assert.ok(Math.abs(Math.exp(heldOut[2]) - 1.25) < 0.005, `held-out b ${Math.exp(heldOut[2])}`);
  assert.ok(folds[0].values[0] > 0.2 && heldOut[0] < -0.01, 'a is predicted (slow) from b alone');
});

test('a constant no run depends on stays at its prior (the weak pull), one the runs determine does not', () => {
  const runs = devSet([['nemo2407-gpt3-5b-64', 'a'], ['mlperf31-gpt3-512', 'a']]); // dense runs: no MoE term
  measuredAt(runs, 0.2);
  const t: FreeTable = {
    calibration: 'h100-sxm', loss_scale: 0.1, prior_weight: 1e-4,
    constants: [
      { key: 'overhead.step_overhead_s', min: 0.001, max: 0.5, meaning: 'fixed per-step time', prior: 0.05 },
      { key: 'moe.routing_imbalance_real', min: 0, max: 1, meaning: 'default expert load excess', prior: 0.25 },
    ],
  };
  const res = fit(runs, runs[0].jc.calibration, t);
  assert.ok(Math.abs(res.values[0] / 0.2 - 1) < 0.01, `step overhead ${res.values[0]}`);
  assert.ok(Math.abs(res.values[1] - 0.25) < 0.01, `imbalance ${res.values[1]}`);
});

test('soft-L1 is the square for small errors and linear for large ones', () => {
  assert.ok(Math.abs(softL1(0.01, 0.1) / 0.01 ** 2 - 1) < 0.01);
  assert.ok(Math.abs(softL1(10, 0.1) / (2 * 0.1 * 10) - 1) < 0.02);
});

test('a free-constant table is refused when its bounds leave what the calibration allows', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-free-'));
  try {
    const f = path.join(dir, 'x.free.yaml');
    fs.writeFileSync(f, yaml.dump({ calibration: 'h100-sxm', loss_scale: 0.1, prior_weight: 1e-4,
      constants: [{ key: 'overlap.tp_overlap_fraction', min: 0, max: 1.2, meaning: 'hidden share of TP comm', prior: 0.5 }] }));
    assert.throws(() => readFreeTable(f), /constants\[0\] overlap\.tp_overlap_fraction: bounds must lie in the calibration's \[0, 1\]/);
    fs.writeFileSync(f, yaml.dump({ calibration: 'h100-sxm', loss_scale: 0.1, prior_weight: 1e-4,
      constants: [{ key: 'overlap.no_such', min: 0, max: 1, meaning: 'nothing at all', prior: 0.5 }] }));
    assert.throws(() => readFreeTable(f), /overlap\.no_such: not a calibration key/);
    fs.writeFileSync(f, yaml.dump({ calibration: 'h100-sxm', loss_scale: 0.1, prior_weight: 1e-4,
      constants: [{ key: 'overlap.tp_overlap_fraction', min: 0, max: 1, meaning: 'hidden share of TP comm', prior: 2 }] }));
    assert.throws(() => readFreeTable(f), /tp_overlap_fraction: prior: must be a number in \[0, 1\]/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('setCalibrationEntry rewrites one entry and leaves the rest of the file as it was', () => {
  const file = path.join(REPO_ROOT, 'cost-models', 'h100-sxm.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const out = setCalibrationEntry(text, 'cost-models/h100-sxm.yaml', 'overhead.step_overhead_s', 0.0123, 'fixed per-step time. Fitted by a test');
  const cal = calibrationFromDoc(yaml.load(out), 'x');
  assert.equal(cal.stepOverheadS, 0.0123);
  const before = text.split('\n');
  const after = out.split('\n');
  // the entry is two lines (value, source) before and after: the file keeps its length, and only those two change
  assert.equal(after.length, before.length);
  const changed = after.map((l, i) => (l !== before[i] ? i : -1)).filter((i) => i >= 0);
  assert.equal(changed.length, 2, `changed lines: ${changed.join(', ')}`);
  assert.equal(after[changed[0] - 1], '  step_overhead_s:');
  assert.equal(changed[1], changed[0] + 1);
  assert.match(out, /  step_overhead_s:\n    value: 0\.0123\n    source: "fixed per-step time\. Fitted by a test"\n/);
  assert.throws(() => setCalibrationEntry(text, 'f.yaml', 'overhead.nope', 1, 'x'), /f\.yaml: no key overhead\.nope/);
});

test('every shipped free table loads, and the calibration holds what npm run fit wrote', () => {
  const dir = path.join(REPO_ROOT, 'cost-models', 'fit');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.free.yaml'))) {
    const t = readFreeTable(path.join(dir, f));
    const result = path.join(dir, f.replace('.free.yaml', '.result.yaml'));
    if (!fs.existsSync(result)) continue;
    const rec = yaml.load(fs.readFileSync(result, 'utf8')) as { values: Record<string, number> };
    const doc = yaml.load(fs.readFileSync(path.join(REPO_ROOT, 'cost-models', `${t.calibration}.yaml`), 'utf8')) as
      Record<string, Record<string, { value: number; source: string }>>;
    loadCalibration(t.calibration);
    assert.deepEqual(Object.keys(rec.values).sort(), t.constants.map((c) => c.key).sort(), `${f}: the record fits the table's constants`);
    for (const c of t.constants) {
      const [sec, key] = c.key.split('.');
      assert.equal(doc[sec][key].value, rec.values[c.key], `${c.key}: the calibration holds the fitted value`);
      assert.match(doc[sec][key].source, /Fitted by npm run fit/, c.key);
    }
    // a value no fit produced never says it was fitted
    for (const [sec, entries] of Object.entries(doc)) {
      if (typeof entries !== 'object') continue;
      for (const [key, e] of Object.entries(entries)) {
        if (t.constants.some((c) => c.key === `${sec}.${key}`)) continue;
        assert.doesNotMatch(String(e.source), /\bfitted on measured-runs|fitted by npm run fit/i, `${sec}.${key} is not a free constant`);
      }
    }
  }
});
