import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJobContext } from '../../src/job-context.js';
import { parsePlanSpec } from '../../src/enumerate/index.js';
import { newEstimate } from '../../src/cost/estimate.js';
import { makeScoreContext, scorePlan, stageAllocatedBytes } from '../../src/cost/score.js';
import { applyOverlay, loadCalibration, loadCalibrationStack } from '../../src/cost/calibration.js';
import { withValues } from '../../src/calibrate/fit-core.js';
import { megatronArgsOf, readMegatronArgs, shellWords } from '../../src/calibrate/plan-from-args.js';
import { megatronLaunch } from '../../src/export/index.js';
import { torchrunScript } from '../../src/export/launch-scripts.js';
import { writeMegatronLog } from './megatron-log-writer.js';
import { moefold } from '../cli/run-cli.js';

const QWEN = path.join(REPO_ROOT, 'fixtures/models/qwen3-30b-a3b.yaml');
const LLAMA = path.join(REPO_ROOT, 'fixtures/models/llama3-70b.yaml');
const QWEN_PLAN = 'tp=1,pp=2,ep=8,etp=1,mbs=1';
const LLAMA_PLAN = 'tp=4,pp=4,vpp=5,mbs=1,sp=true';
const LLAMA_PLAN_2 = 'tp=8,pp=2,mbs=1,sp=true';

/** The "true" stack the generated logs come from: the H100 calibration with a slower fixed step time. */
const TRUTH = { 'overhead.step_overhead_s': 0.45 };

function truth(jobFile: string, spec: string): { stepS: number; stageGib: number[]; tp: number; cp: number; dp: number; pp: number } {
  const jc = loadJobContext(jobFile, {}, { warn: false });
  const plan = parsePlanSpec(spec, jc.job, jc.shape);
  const cal = withValues(jc.calibration, Object.keys(TRUTH), Object.values(TRUTH));
  const ctx = makeScoreContext(jc.job, jc.shape, cal);
  const est = scorePlan(ctx, plan, newEstimate());
  return { stepS: est.stepTimeS, stageGib: stageAllocatedBytes(ctx, plan).map((b) => b / 2 ** 30), tp: plan.tp, cp: plan.cp, dp: plan.dp, pp: plan.pp };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-calibrate-'));
}

/** A log of `jobFile` under `spec` at the truth's step time, memory reported by the first rank of each stage. */
function logFor(jobFile: string, spec: string, opts: { prefix?: 'torchrun' | 'srun'; args?: Record<string, number> } = {}): string {
  const t = truth(jobFile, spec);
  const jc = loadJobContext(jobFile, {}, { warn: false });
  const memoryByRank: Record<number, { allocatedMiB: number; maxAllocatedMiB: number; reservedMiB: number; maxReservedMiB: number }> = {};
  const perStage = t.tp * t.cp * t.dp;
  t.stageGib.forEach((g, s) => {
    for (const r of [s * perStage, s * perStage + 1]) {
      memoryByRank[r] = { allocatedMiB: g * 900, maxAllocatedMiB: g * 1024, reservedMiB: g * 1100, maxReservedMiB: g * 1150 };
    }
  });
  return writeMegatronLog({
    trainIters: 60, logInterval: 5, stepTimesMs: t.stepS * 1000, globalBatchSize: jc.job.training.global_batch_size,
    tflopsPerGpu: 300, memoryByRank, prefix: opts.prefix ?? 'torchrun', noise: true, seed: 7, jitter: 0.01,
    args: { world_size: jc.job.cluster.gpus, global_batch_size: jc.job.training.global_batch_size, seq_length: jc.job.training.seq_length,
      tensor_model_parallel_size: t.tp, pipeline_model_parallel_size: t.pp, ...opts.args },
  });
}

function runsFile(dir: string, runs: object[]): string {
  const f = path.join(dir, 'runs.yaml');
  fs.writeFileSync(f, yaml.dump({ runs }));
  return f;
}

test('calibrate on logs of three runs: chosen constants, errors before and after, leave-one-out, memory by stage', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'qwen.log'), logFor(QWEN, QWEN_PLAN));
  fs.writeFileSync(path.join(dir, 'llama.log'), logFor(LLAMA, LLAMA_PLAN, { prefix: 'srun' }));
  fs.writeFileSync(path.join(dir, 'llama2.log'), logFor(LLAMA, LLAMA_PLAN_2));
  const f = runsFile(dir, [
    { id: 'qwen', job: QWEN, plan: QWEN_PLAN, log: 'qwen.log' },
    { id: 'llama', job: LLAMA, plan: LLAMA_PLAN, log: 'llama.log' },
    { id: 'llama-tp8', job: LLAMA, plan: LLAMA_PLAN_2, log: 'llama2.log' },
  ]);
  const out = path.join(dir, 'team.yaml');
  const r = moefold('calibrate', f, '-o', out, '--format', 'json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    constants: { key: string; fitted: boolean; why: string; after: number | null }[]; residual: { median: number; max: number };
    runs: { id: string; error_before: number; error_after: number; error_left_out: number | null;
      measured_max_allocated_gib_by_stage: number[]; predicted_max_allocated_gib_by_stage: number[] }[];
  };
  const fitted = j.constants.filter((c) => c.fitted).map((c) => c.key);
  // the one constant the logs were made with is found, at the value they were made with
  assert.deepEqual(fitted, ['overhead.step_overhead_s']);
  const step = j.constants.find((c) => c.fitted) as unknown as { after: number };
  assert.ok(Math.abs(step.after - 0.45) < 0.01, `step_overhead_s ${step.after}`);
  // the runs do not overlap the EP all-to-all: that constant is invisible to them
  const a2a = j.constants.find((c) => c.key === 'overlap.ep_a2a_overlap_fraction') as { fitted: boolean; why: string };
  assert.equal(a2a.fitted, false);
  assert.equal(a2a.why, 'moves no run by 2 % across its bounds');
  // the generated stack is 0.31 s per step slower: before the fit every run is predicted too fast
  for (const run of j.runs) assert.ok(run.error_before > 0.015, `${run.id} before ${run.error_before}`);
  for (const run of j.runs) assert.ok(Math.abs(run.error_after) < Math.abs(run.error_before), run.id);
  assert.ok(j.residual.max < 0.01, `residual ${j.residual.max}`);
  assert.ok(j.runs.every((run) => run.error_left_out !== null));
  // ranks 0, 1 report stage 0; ranks tp·cp·dp, +1 report stage 1 (rank generator order tp-cp-ep-dp-pp)
  const qwen = j.runs[0];
  assert.equal(qwen.measured_max_allocated_gib_by_stage.length, 2);
  qwen.measured_max_allocated_gib_by_stage.forEach((g, s) => assert.ok(Math.abs(g - qwen.predicted_max_allocated_gib_by_stage[s]) < 0.05));

  // the overlay: only the fitted keys, each sourced, loads over the base and names it
  const doc = yaml.load(fs.readFileSync(out, 'utf8')) as Record<string, Record<string, { value: number; source: string }>>;
  assert.equal(doc.overlay_of as unknown, 'h100-sxm');
  const keys = Object.entries(doc).filter(([, v]) => typeof v === 'object').flatMap(([s, v]) => Object.keys(v).map((k) => `${s}.${k}`));
  assert.deepEqual(keys.sort(), [...fitted].sort());
  for (const k of keys) {
    const [s, key] = k.split('.');
    assert.match(doc[s][key].source, /^calibrated from runs\.yaml on \d{4}-\d{2}-\d{2}, 3 runs, residual [\d.]+ % median/);
  }

  // calibrate, then score the same runs with the overlay: each reproduces the fitted prediction (so within the
  // fit's residual of the measurement), and the overlay is what moved it
  for (const [job, spec, i] of [[QWEN, QWEN_PLAN, 0], [LLAMA, LLAMA_PLAN, 1], [LLAMA, LLAMA_PLAN_2, 2]] as const) {
    const s = moefold('score', job, '--plan', spec, '--calibration', out, '--format', 'json');
    assert.ok(s.status === 0 || s.status === 1, s.stderr);
    const est = JSON.parse(s.stdout) as { estimate: { tokens_per_s_per_gpu: number }; calibration: { label: string } };
    assert.equal(est.calibration.label, 'h100-sxm + team');
    const run = j.runs[i] as unknown as { measured_tokens_per_s_per_gpu: number; error_after: number; error_before: number };
    const fitted = run.measured_tokens_per_s_per_gpu * (1 + run.error_after);
    assert.ok(Math.abs(est.estimate.tokens_per_s_per_gpu / fitted - 1) < 1e-3, `run ${i}: ${est.estimate.tokens_per_s_per_gpu} vs ${fitted}`);
    assert.ok(Math.abs(est.estimate.tokens_per_s_per_gpu / run.measured_tokens_per_s_per_gpu - 1) <= j.residual.max + 1e-3);
    assert.ok(Math.abs(run.error_after - run.error_before) > 0.01, `run ${i}: the overlay moved it`);
  }
  const tune = moefold('tune', QWEN, '--calibration', out, '--top', '1', '--workers', '0', '--quiet', '--no-timing');
  assert.equal(tune.status, 0, tune.stderr);
  // the job line, wrapped at 120 columns (its cluster part may go to a second line)
  assert.match(tune.stdout.split('\n').slice(0, 2).join('\n'), / 16 × h100-sxm \+ team \(/);
});

test('calibrate: errors are one line naming the file and field, exit 2', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'empty.log'), '[default0]: INFO something\nno iterations here\n');
  fs.writeFileSync(path.join(dir, 'other.log'), logFor(QWEN, QWEN_PLAN, { args: { world_size: 32 } }));
  fs.writeFileSync(path.join(dir, 'qwen.log'), logFor(QWEN, QWEN_PLAN));
  const cases: [object[], string[], RegExp][] = [
    [[{ job: QWEN, plan: QWEN_PLAN, log: 'empty.log' }], [], /empty\.log: no Megatron iteration lines/],
    [[{ job: QWEN, plan: QWEN_PLAN, log: 'other.log' }], [], /other\.log: world_size: the log's arguments say 32, but the job's cluster\.gpus is 16/],
    [[{ job: QWEN, plan: 'tp=3,pp=2,ep=8', log: 'qwen.log' }], [], /runs\[0\]\.plan: Megatron-Core would refuse this plan: /],
    [[{ job: QWEN, plan: QWEN_PLAN, log: 'qwen.log' }], ['--constants', 'overhead.step_overhead_s,overhead.moe_layer_overhead_s'],
      /--constants: 2 constants need at least 2 runs \(one per constant\); the runs file has 1/],
    [[{ job: QWEN, plan: QWEN_PLAN }], [], /runs\[0\]\.log: missing: give log/],
    [[{ job: QWEN, plan: QWEN_PLAN, measured: { step_time_s: -1 } }], [], /runs\[0\]\.measured\.step_time_s: must be a number > 0/],
  ];
  for (const [runs, extra, want] of cases) {
    const r = moefold('calibrate', runsFile(dir, runs), ...extra);
    assert.equal(r.status, 2, `${want}: ${r.stdout}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a plan read back from the argument list and the torchrun script moefold exports is the plan', () => {
  const jc = loadJobContext(QWEN, {}, { warn: false });
  const plan = parsePlanSpec('tp=2,pp=2,vpp=12,ep=4,etp=1,mbs=2,recompute=selective,dispatcher=alltoall', jc.job, jc.shape);
  const { args } = megatronLaunch(jc.job, jc.shape, plan);
  const fromArgs = readMegatronArgs(args, jc.job.cluster.gpus, 'x', 'megatron_args');
  assert.deepEqual(fromArgs.plan, plan);
  assert.equal(fromArgs.stack.tp_comm_overlap, jc.job.training.tp_comm_overlap);
  const script = torchrunScript(jc.job, jc.shape, plan, 1);
  const fromScript = readMegatronArgs(megatronArgsOf(shellWords(script)), jc.job.cluster.gpus, 'x', 'launch_script');
  assert.deepEqual(fromScript.plan, plan);
  // without --tp-comm-overlap the run did not overlap: the stack field reads false
  const without = args.filter((a) => a !== '--tp-comm-overlap');
  assert.equal(readMegatronArgs(without, 16, 'x', 'm').stack.tp_comm_overlap, false);
  assert.throws(() => readMegatronArgs(['--tensor-model-parallel-size', '$TP'], 16, 'runs.yaml', 'runs[0].launch_script'),
    { message: 'runs.yaml: runs[0].launch_script: --tensor-model-parallel-size is set from a shell variable ($TP): give the run\'s plan with its values (plan: or megatron_args:)' });
  assert.deepEqual(shellWords('a "b c" \'d e\' f\\\n g # comment\nh'), ['a', 'b c', 'd e', 'f', 'g', 'h']);
});

test('overlays: applied in order over the base they name; a mismatch or a full file later is refused', () => {
  const dir = tmpDir();
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  fs.writeFileSync(a, yaml.dump({ name: 'a', overlay_of: 'h100-sxm', overhead: { step_overhead_s: { value: 0.3, source: 'test overlay a' } } }));
  fs.writeFileSync(b, yaml.dump({ name: 'b', overlay_of: 'h100-sxm', overhead: { step_overhead_s: { value: 0.4, source: 'test overlay b' } } }));
  const cal = loadCalibrationStack('h100-sxm', [a, b]);
  assert.equal(cal.stepOverheadS, 0.4);
  assert.deepEqual(cal.overlays.map((o) => o.name), ['a', 'b']);
  assert.throws(() => applyOverlay(loadCalibration('b200'), yaml.load(fs.readFileSync(a, 'utf8')), a),
    { message: `${a}: overlay_of: is "h100-sxm", but it is applied over the b200 calibration (cost-models/b200.yaml): an overlay holds constants fitted over the calibration it names` });
  const full = path.join(REPO_ROOT, 'cost-models/h200-sxm.yaml');
  assert.throws(() => loadCalibrationStack('h100-sxm', [a, full]), /overlay_of: missing: a full calibration can only be the base/);
  assert.throws(() => loadCalibration(a), /overlay_of: this is an overlay/);
  // an overlay fitted over another applies only after it
  const c = path.join(dir, 'c.yaml');
  fs.writeFileSync(c, yaml.dump({ name: 'c', overlay_of: 'h100-sxm', overlays_before: ['a'], overhead: { step_overhead_s: { value: 0.2, source: 'test overlay c' } } }));
  assert.equal(loadCalibrationStack('h100-sxm', [a, c]).stepOverheadS, 0.2);
  assert.throws(() => loadCalibrationStack('h100-sxm', [c]), { message: `${c}: overlays_before: it was fitted over h100-sxm + a, but it is applied over h100-sxm: give the same overlays before it, in that order` });
  // --gpu takes a path; the first --calibration may be a full calibration (the base)
  const r = moefold('score', QWEN, '--plan', QWEN_PLAN, '--calibration', full, '--calibration', a, '--format', 'json');
  assert.equal(r.status, 2, r.stdout);
  assert.match(r.stderr, /overlay_of: is "h100-sxm", but it is applied over the h200-sxm calibration/);
  const g = moefold('score', QWEN, '--plan', QWEN_PLAN, '--gpu', full, '--format', 'json');
  assert.equal(JSON.parse(g.stdout).calibration.label, 'h200-sxm');

  // plans.json records the overlays; check against it without them is a changed job
  const outDir = path.join(dir, 'plans');
  const t = moefold('tune', QWEN, '--calibration', a, '--top', '2', '--workers', '0', '--quiet', '--no-timing', '--out', outDir);
  assert.equal(t.status, 0, t.stderr);
  const pf = JSON.parse(fs.readFileSync(path.join(outDir, 'plans.json'), 'utf8')) as { cluster: { calibrations: string[] }; calibration: { label: string } };
  // the folder holds a copy of the overlay and names it (a plans file names no file outside its folder)
  assert.deepEqual(pf.cluster.calibrations, ['calibration-1-a.yaml']);
  assert.equal(fs.readFileSync(path.join(outDir, 'calibration-1-a.yaml'), 'utf8'), fs.readFileSync(a, 'utf8'));
  assert.equal(moefold('export', path.join(outDir, 'plans.json'), '--format', 'megatron').status, 0);
  const evil = path.join(dir, 'evil.json');
  fs.writeFileSync(evil, JSON.stringify({ ...pf, cluster: { ...pf.cluster, gpu: '/etc/x.yaml' } }));
  const e = moefold('export', evil, '--format', 'megatron');
  assert.equal(e.status, 2);
  assert.match(e.stderr, /cluster\.gpu: a path in a plans file must be relative and stay inside its folder/);
  assert.equal(pf.calibration.label, 'h100-sxm + a');
  const same = moefold('check', QWEN, '--baseline', path.join(outDir, 'plans.json'), '--calibration', a, '--workers', '0', '--format', 'json');
  assert.equal(same.status, 0, same.stdout + same.stderr);
  const other = moefold('check', QWEN, '--baseline', path.join(outDir, 'plans.json'), '--workers', '0', '--format', 'json');
  assert.equal(other.status, 1, other.stderr);
  assert.match(other.stdout, /cluster\.calibrations/);
});
