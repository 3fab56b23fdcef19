import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moefold } from '../cli/run-cli.js';
import type { SweepJson, SweepPointJson } from '../../src/sweep/sweep-json.js';
import { parseTokens, DEFAULT_TOKENS, parseGpusList } from '../../src/sweep/sweep-args.js';
import { formatCount3, formatDays, shortMapping } from '../../src/sweep/sweep-table.js';
import { TABLE_WIDTH } from '../../src/render/plans-table.js';
import { gpuHours, scalingEfficiency, timeToTrainS } from '../../src/sweep/sweep-result.js';
import { shardsPerWorkerFor } from '../../src/sweep/run-sweep.js';
import { InputError } from '../../src/job/errors.js';

const MIXTRAL = 'fixtures/models/mixtral-8x7b.yaml';
const GPU_COUNTS = [8, 16, 32];
const GPU_KINDS = ['h100-sxm', 'b200'];
const SWEEP = ['sweep', MIXTRAL, '--gpus', GPU_COUNTS.join(','), '--gpu', GPU_KINDS.join(','), '--tokens', '2.5T'];

// Every field of the contract, checked by the compiler: a field added to SweepJson/SweepPointJson must be added here.
const SWEEP_KEYS: Record<keyof SweepJson, true> = { moefold: true, job_file: true, model: true, training: true, tokens: true, ranking: true, points: true, wall_s: true };
const POINT_KEYS: Record<keyof SweepPointJson, true> = {
  gpu: true, calibration: true, gpus: true, seq_length: true, global_batch_size: true, valid: true, fitting: true, best: true,
  reason: true, time_to_train_s: true, gpu_hours: true,
};

function sweepJson(...extra: string[]): { sweep: SweepJson; stdout: string; status: number | null; stderr: string } {
  const r = moefold(...SWEEP, '--format', 'json', '--no-timing', '--quiet', ...extra);
  return { sweep: r.status === 0 || r.status === 2 ? JSON.parse(r.stdout || 'null') : null, stdout: r.stdout, status: r.status, stderr: r.stderr };
}

// The workers-0 sweep, run once and read by several tests.
let base: ReturnType<typeof sweepJson> | undefined;
const baseSweep = () => (base ??= sweepJson('--workers', '0'));

const relClose = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));

test('sweep: one point per GPU kind × GPU count, the same JSON with and without a pool, every field of SweepJson', () => {
  const noPool = baseSweep();
  const pooled = sweepJson('--workers', '2');
  assert.equal(noPool.status, 0, noPool.stderr);
  assert.equal(pooled.status, 0, pooled.stderr);
  assert.equal(pooled.stdout, noPool.stdout, 'a shared pool must not change any point');
  const s = noPool.sweep;
  assert.deepEqual(Object.keys(s).sort(), Object.keys(SWEEP_KEYS).sort());
  assert.equal(s.tokens, 2.5e12);
  assert.equal(s.wall_s, null);
  assert.equal(s.job_file, MIXTRAL);
  assert.equal(s.model.name, 'Mixtral-8x7B');
  assert.deepEqual(s.points.map((p) => [p.gpu, p.gpus]), GPU_KINDS.flatMap((g) => GPU_COUNTS.map((n) => [g, n])));
  for (const p of s.points) {
    assert.deepEqual(Object.keys(p).sort(), Object.keys(POINT_KEYS).sort());
    assert.equal(p.calibration.name, p.gpu);
    assert.equal(p.seq_length, 4096);
    assert.equal(p.global_batch_size, 256);
    assert.ok(p.valid >= p.fitting);
    assert.equal(p.best === null, p.reason !== null, 'a reason exactly when there is no plan');
  }
});

test('sweep: each point\'s best plan is the plan `moefold tune` ranks first for that point alone', () => {
  const { sweep } = baseSweep();
  let compared = 0;
  for (const p of sweep.points) {
    const r = moefold('tune', MIXTRAL, '--gpus', String(p.gpus), '--gpu', p.gpu, '--format', 'json', '--no-timing', '--quiet', '--workers', '0');
    if (p.best === null) {
      assert.equal(r.status, 2, `${p.gpu} × ${p.gpus}: tune finds no plan either`);
      continue;
    }
    assert.equal(r.status, 0, r.stderr);
    const tune = JSON.parse(r.stdout);
    assert.deepEqual(p.best.mapping, tune.plans[0].mapping, `${p.gpu} × ${p.gpus}`);
    assert.equal(p.best.estimate.tokens_per_s_per_gpu, tune.plans[0].estimate.tokens_per_s_per_gpu);
    assert.deepEqual(p.best, tune.plans[0], 'the whole plan, launch included');
    assert.equal(p.valid, tune.search.valid);
    assert.equal(p.fitting, tune.search.fitting);
    compared++;
  }
  assert.ok(compared >= 4, `${compared} points with a plan`);
});

test('sweep: time to train and GPU-hours follow from tokens/s/GPU, the GPU count and the token budget', () => {
  const { sweep } = baseSweep();
  for (const p of sweep.points) {
    if (p.best === null) {
      assert.equal(p.time_to_train_s, null);
      assert.equal(p.gpu_hours, null);
      continue;
    }
    const tps = p.best.estimate.tokens_per_s_per_gpu;
    const timeS = 2.5e12 / (tps * p.gpus);
    assert.ok(relClose(p.time_to_train_s as number, timeS), `${p.time_to_train_s} vs ${timeS}`);
    assert.ok(relClose(p.gpu_hours as number, (timeS * p.gpus) / 3600), `${p.gpu_hours}`);
    // GPU-hours depend only on the throughput per GPU: 2.5e12 tokens ÷ tokens/s/GPU ÷ 3600.
    assert.ok(relClose(p.gpu_hours as number, 2.5e12 / tps / 3600));
  }
  // The figures by hand, once: 1e12 tokens at 1,000 tokens/s/GPU on 100 GPUs is 1e7 s and 277,777.8 GPU-hours.
  assert.equal(timeToTrainS(1e12, 1000, 100), 1e7);
  assert.ok(relClose(gpuHours(1e7, 100), 277_777.78));
});

test('sweep: a point where nothing fits is a row with the reason, not a failure', () => {
  const { sweep } = baseSweep();
  const p = sweep.points.find((x) => x.gpu === 'h100-sxm' && x.gpus === 8) as SweepPointJson;
  assert.equal(p.best, null);
  assert.ok(p.valid > 0 && p.fitting === 0);
  const m = /^nothing fits: smallest ([\d.]+) GiB of ([\d.]+) GiB$/.exec(p.reason ?? '');
  assert.ok(m, p.reason ?? 'null');
  assert.ok(Number(m[1]) > Number(m[2]));
});

test('sweep: the table has one row per point within 120 columns, and states the token budget', () => {
  const r = moefold(...SWEEP, '--workers', '2', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  for (const l of lines) assert.ok([...l].length <= TABLE_WIDTH, `${[...l].length} columns: ${l}`);
  assert.match(r.stdout, /\nh100-sxm +8 +nothing fits: smallest [\d.]+ GiB of [\d.]+ GiB\n/, 'the row without a plan says why');
  assert.match(r.stdout, /to train 2\.5T tokens \(--tokens\)/);
  assert.match(r.stdout, /= 6 points, 5 with a plan · [\d.]+ s\n/);
  const header = lines.findIndex((l) => l.startsWith('GPU '));
  for (const col of ['GPUs', 'best mapping', 'tok/s/GPU', 'MFU', 'step s', 'peak GiB', 'scale', 'days', 'GPU-h']) assert.ok(lines[header].includes(col), col);
  assert.ok(!/ seq /.test(lines[header]), 'one sequence length: no seq column');
  const rows = lines.slice(header + 2);
  assert.equal(rows.length, GPU_KINDS.length * GPU_COUNTS.length);
  assert.match(rows[4], /^b200 +16 +TP\d+ (CP\d+ )?PP\d+ (VPP\d+ )?EP\d+ ETP\d+ mbs\d+ (alltoall|allgather|flex)( rc:\w+)? +[\d,]+ +[\d.]+% /);
  assert.match(rows[3], / 100% +[\d.]+ +[\d.]+ K$/, 'the smallest b200 point is the scaling reference');
});

test('sweep: a point with no valid plan, and an invalid point, are rows; no plan at any point is exit 2', () => {
  const r = moefold('sweep', MIXTRAL, '--gpus', '8,12,16', '--fix', 'pp=16', '--workers', '0', '--format', 'json', '--no-timing');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepJson;
  assert.deepEqual(s.points.map((p) => p.gpus), [8, 12, 16]);
  assert.equal(s.points[0].reason, 'no valid plan: every candidate left breaks world % (TP·CP·PP) == 0');
  assert.match(s.points[1].reason ?? '', /^invalid job: --gpus: must be a multiple of gpus_per_node \(8\)/);
  assert.equal(s.points[1].valid, 0);
  assert.ok(s.points[2].best !== null);

  const none = moefold('sweep', MIXTRAL, '--gpus', '8,16', '--fix', 'ep=16', '--workers', '0', '--no-timing');
  assert.equal(none.status, 2, 'no point has a plan');
  assert.match(none.stdout, /\nh100-sxm +8 +no valid plan: every candidate left breaks num_experts % EP == 0\n/);
  assert.match(none.stdout, /= 2 points, 0 with a plan/);

  const allBad = moefold('sweep', MIXTRAL, '--gpus', '12,20', '--workers', '0');
  assert.equal(allBad.status, 2);
  assert.equal(allBad.stdout, '');
  assert.match(allBad.stderr, /^fixtures\/models\/mixtral-8x7b\.yaml: --gpus: must be a multiple of gpus_per_node \(8\).*\(got 12\)\n$/);
});

test('sweep: bad list entries and budgets are one line naming the flag and the entry, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--gpus', '8,x'], /^--gpus: entry "x" must be an integer from 1 to \d+\n$/],
    [['--gpus', '8,0'], /^--gpus: entry "0" must be an integer from 1 to \d+\n$/],
    [['--gpus', '8,-16'], /^--gpus: entry "-16" must be an integer/],
    [['--gpus', '8,,16'], /^--gpus: an empty entry in "8,,16"/],
    [['--gpus', '16,16'], /^--gpus: "16" is listed twice\n$/],
    [['--gpus', '8.5'], /^--gpus: entry "8.5" must be an integer/],
    [['--gpus'], /^--gpus: needs a value/],
    [['--gpu', 'h100-sxm,h300'], /^--gpu: unknown GPU "h300" \(known: .*h100-sxm.*\)\n$/],
    [['--gpu', 'no/such.yaml'], /^no\/such\.yaml: no such calibration file/],
    [['--seq-length', '4096,long'], /^--seq-length: entry "long" must be an integer from 1 to \d+\n$/],
    [['--tokens', '0'], /^--tokens: must be a number of tokens from 1 to 1e18, e\.g\. 15e12, 1\.5T or 800B \(got "0"\)\n$/],
    [['--tokens', '0.5'], /^--tokens: must be a number of tokens from 1 to 1e18/],
    [['--tokens', 'lots'], /^--tokens: must be a number of tokens from 1.*\(got "lots"\)\n$/],
    [['--tokens', '1e30'], /^--tokens: must be/],
    [['--format', 'csv'], /^--format: must be one of table, json, yaml \(got "csv"\)\n$/],
    [['--workers', '-1'], /^--workers: must be an integer from 0 to/],
  ];
  for (const [args, re] of cases) {
    const r = moefold('sweep', MIXTRAL, ...(args[0] === '--gpus' ? [] : ['--gpus', '16']), ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, args.join(' '));
  }
});

test('sweep units: token budgets, counts, days, the short mapping and the scaling reference', () => {
  assert.equal(parseTokens(undefined), DEFAULT_TOKENS);
  assert.equal(parseTokens('15e12'), 15e12);
  assert.equal(parseTokens('1.5T'), 1.5e12);
  assert.equal(parseTokens('800b'), 8e11);
  assert.equal(parseTokens('300000000000'), 3e11);
  assert.throws(() => parseTokens('-1'), InputError);
  assert.throws(() => parseTokens(''), InputError);
  assert.deepEqual(parseGpusList(' 64, 128 ,256'), [64, 128, 256]);
  assert.throws(() => parseGpusList('064,64'), /listed twice/);
  assert.equal(formatCount3(1_234_567), '1.23 M');
  assert.equal(formatCount3(456_000), '456 K');
  assert.equal(formatCount3(999_999), '1.00 M');
  assert.equal(formatCount3(87), '87');
  assert.equal(formatDays(86_400 * 3.5), '3.50');
  assert.equal(formatDays(86_400 * 365), '365');
  assert.equal(formatDays(86_400 * 3191.4), '3,191');
  assert.equal(shardsPerWorkerFor(1), 8);
  assert.equal(shardsPerWorkerFor(24), 1);

  const plan = (tp: number, cp: number, pp: number, vpp: number, ep: number, recompute: string) => ({
    mapping: { tp, cp, pp, vpp, ep, etp: 1 }, micro_batch_size: 2, dispatcher: 'alltoall', recompute,
  }) as unknown as Parameters<typeof shortMapping>[0];
  assert.equal(shortMapping(plan(2, 1, 8, 4, 64, 'none'), true), 'TP2 PP8 VPP4 EP64 ETP1 mbs2 alltoall');
  assert.equal(shortMapping(plan(4, 2, 1, 1, 1, 'selective'), false), 'TP4 CP2 PP1 mbs2 rc:sel');

  const point = (gpu: string, gpus: number, tps: number | null) => ({
    gpu, gpus, seq_length: 4096, best: tps === null ? null : { estimate: { tokens_per_s_per_gpu: tps } },
  }) as unknown as SweepPointJson;
  // The reference is the fewest GPUs *with a plan* of each GPU kind.
  const eff = scalingEfficiency([point('a', 8, null), point('a', 16, 1000), point('a', 32, 900), point('b', 32, 500), point('b', 16, 400)]);
  assert.deepEqual(eff, [null, 1, 0.9, 1.25, 1]);
});
