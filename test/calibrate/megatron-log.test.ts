import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  logArgNumber, maxAllocatedByRank, parseMegatronLog, summariseSteps, type MegatronLog,
} from '../../src/calibrate/megatron-log.js';
import { InputError } from '../../src/job/errors.js';
import { REPO_ROOT } from '../../src/paths.js';
import {
  formatArgsBlock, formatIterationLine, formatMemoryLine, writeMegatronLog, type MegatronLogOptions,
} from './megatron-log-writer.js';

const LOGS = 'fixtures/logs';
const readLog = (name: string): string => fs.readFileSync(path.join(REPO_ROOT, LOGS, name), 'utf8');

/** The records without their line numbers (launcher prefixes and noise move lines, not values). */
const values = (log: MegatronLog): object[] => log.iterations.map(({ line: _line, ...rest }) => rest);

function throwsInput(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

const BASE: MegatronLogOptions = {
  trainIters: 100, logInterval: 10, stepTimesMs: 1500, globalBatchSize: 256, tflopsPerGpu: 412.3,
  memoryByRank: {
    0: { allocatedMiB: 30000, maxAllocatedMiB: 61000.25, reservedMiB: 64000, maxReservedMiB: 66000 },
    4: { allocatedMiB: 28000, maxAllocatedMiB: 55000.5, reservedMiB: 58000, maxReservedMiB: 59000 },
  },
  args: { world_size: 8, tensor_model_parallel_size: 2, expert_model_parallel_size: 4, lr: 0.0003, fp8: null, bf16: true },
};

// ---- real logs -------------------------------------------------------------------------------------------------

test('real log, NVIDIA/Megatron-LM#756 (Mixtral 8x7B): iteration lines, throughput, one memory report', () => {
  const log = parseMegatronLog(readLog('megatron-lm-756-mixtral-8x7b.txt'), 'x.log');
  assert.deepEqual(log.iterations.map((r) => [r.iteration, r.elapsedMs, r.tflopsPerGpu, r.line]), [
    [2, 5630.1, 231.9, 2], [3, 5410.6, 241.4, 3], [71, 5361.6, 243.6, 4], [72, 5470.7, 238.7, 5], [73, 5829.9, 224.0, 6],
  ]);
  for (const r of log.iterations) {
    assert.equal(r.trainIters, 100);
    assert.equal(r.globalBatchSize, 128);
    assert.equal(r.skippedIterations, 0);
    assert.equal(r.nanIterations, 0);
  }
  assert.deepEqual(log.memory, [{
    rank: 1, when: '(after 1 iterations)', allocatedMiB: 54250.97802734375, maxAllocatedMiB: 54250.98583984375,
    reservedMiB: 61480, maxReservedMiB: 61480, line: 1,
  }]);
  assert.equal(log.args.size, 0);
  // Warm-up 5: iteration 2 (the first logged) and 3 go; the median of 5361.6, 5470.7, 5829.9 is 5470.7.
  const s = summariseSteps(log, 'x.log');
  assert.equal(s.iterationsUsed, 3);
  assert.equal(s.warmupRecords, 2);
  assert.equal(s.medianStepS, 5470.7 / 1000);
  assert.equal(s.minStepS, 5361.6 / 1000);
  assert.equal(s.maxStepS, 5829.9 / 1000);
  assert.ok(Math.abs(s.spread - (5.8299 - 5.3616) / 5.4707) < 1e-12);
  assert.equal(s.medianTflopsPerGpu, 238.7);
  assert.equal(s.globalBatchSize, 128);
});

test('real log, NVIDIA/TransformerEngine#2043: four ranks\' memory reports out of order, no throughput', () => {
  const log = parseMegatronLog(readLog('transformer-engine-2043-fp8.txt'), 'x.log');
  assert.equal(log.iterations.length, 1);
  assert.deepEqual(log.iterations[0], {
    iteration: 20, trainIters: 128, elapsedMs: 646.0, tflopsPerGpu: null, globalBatchSize: 8,
    skippedIterations: 0, nanIterations: 0, line: 2,
  });
  assert.deepEqual(log.memory.map((m) => [m.rank, m.when, m.allocatedMiB, m.reservedMiB, m.line]), [
    [1, '(after 20 iterations)', 6351.375, 8528, 8], [3, '(after 20 iterations)', 6351.375, 8528, 9],
    [2, '(after 20 iterations)', 6351.375, 8528, 10], [0, '(after 20 iterations)', 6351.375, 8528, 11],
  ]);
  assert.deepEqual([...maxAllocatedByRank(log)], [[0, 7974.18994140625], [1, 7974.18994140625], [2, 7974.18994140625], [3, 7974.18994140625]]);
  // Its only record is the first logged one: nothing is left to time.
  throwsInput(() => summariseSteps(log, 'runs/fp8.log', { field: 'runs[0].log' }),
    'runs/fp8.log: runs[0].log: no iteration records left to time: 1 logged (iterations 20..20), 1 skipped as '
    + 'warm-up (the first logged record and those at iteration <= 5), 0 with nan iterations; run more iterations '
    + 'past the warm-up (or log more often with --log-interval), or lower the warm-up');
});

test('real log, NVIDIA/nccl#743 (older format): no timestamp, skipped iterations marked, cut last line ignored', () => {
  const text = readLog('nccl-743-bert.txt');
  assert.ok(!text.endsWith('\n'));
  const log = parseMegatronLog(text, 'x.log');
  assert.deepEqual(log.iterations, [{
    iteration: 10, trainIters: 1000000, elapsedMs: 356.2, tflopsPerGpu: null, globalBatchSize: 4,
    skippedIterations: 10, nanIterations: 0, line: 11,
  }]);
  assert.equal(log.memory.length, 0);
});

// ---- the generator's format ----------------------------------------------------------------------------------

test('writer: lines exactly as Megatron\'s format strings print them', () => {
  assert.equal(formatIterationLine({
    timestamp: '2024-04-06 02:55:45.000123', iteration: 2, trainIters: 100, consumedSamples: 256, elapsedMs: 5630.1,
    tflopsPerGpu: 231.9, learningRate: 4e-7, globalBatchSize: 128,
    losses: [['lm loss', 2.02153], ['load_balancing_loss', 1.087362]], lossScale: 1, gradNorm: 6.895,
  }), ' [2024-04-06 02:55:45.000123] iteration        2/     100 | consumed samples:          256 | elapsed time per '
    + 'iteration (ms): 5630.1 | throughput per GPU (TFLOP/s/GPU): 231.9 | learning rate: 4.000000E-07 | global batch '
    + 'size:   128 | lm loss: 2.021530E+00 | load_balancing_loss: 1.087362E+00 | loss scale: 1.0 | grad norm: 6.895 | '
    + 'number of skipped iterations:   0 | number of nan iterations:   0 |');
  assert.equal(formatMemoryLine(3, '(after 20 iterations)', { allocatedMiB: 6351.375, maxAllocatedMiB: 7974.18994140625, reservedMiB: 8528, maxReservedMiB: 8528 }),
    '[Rank 3] (after 20 iterations) memory (MB) | allocated: 6351.38 | max allocated: 7974.19 | reserved: 8528.00 | max reserved: 8528.00');
  assert.deepEqual(formatArgsBlock({ world_size: 64, accumulate_allreduce_grads_in_fp32: true, Data_path: null }), [
    '------------------------ arguments ------------------------',
    '  accumulate_allreduce_grads_in_fp32 .............. True',
    '  Data_path ....................................... None',
    '  world_size ...................................... 64',
    '-------------------- end of arguments ---------------------',
  ]);
});

// ---- parsing what the generator writes -----------------------------------------------------------------------

test('generated log: a record at iteration 1 and every log interval, memory max over reports, arguments', () => {
  const log = parseMegatronLog(writeMegatronLog(BASE), 'x.log');
  assert.deepEqual(log.iterations.map((r) => r.iteration), [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  for (const r of log.iterations) {
    assert.equal(r.elapsedMs, 1500);
    assert.equal(r.tflopsPerGpu, 412.3);
    assert.equal(r.globalBatchSize, 256);
  }
  // Reports after iteration 1 (90 %) and 10 (100 %): the max is the figure given.
  assert.deepEqual(log.memory.map((m) => [m.rank, m.when]), [
    [0, '(after 1 iterations)'], [4, '(after 1 iterations)'], [0, '(after 10 iterations)'], [4, '(after 10 iterations)'],
  ]);
  assert.equal(log.memory[0].maxAllocatedMiB, 54900.22); // 61000.25 * 0.9 = 54900.224999.. in binary, printed '{:.2f}'
  assert.deepEqual([...maxAllocatedByRank(log)], [[0, 61000.25], [4, 55000.5]]);
  assert.equal(log.args.get('world_size'), '8');
  assert.equal(log.args.get('bf16'), 'True');
  assert.equal(log.args.get('fp8'), 'None');
  assert.equal(logArgNumber(log, 'tensor_model_parallel_size'), 2);
  assert.equal(logArgNumber(log, 'expert_model_parallel_size'), 4);
  assert.equal(logArgNumber(log, 'lr'), 0.0003);
  assert.equal(logArgNumber(log, 'train_iters'), 100);
  assert.equal(logArgNumber(log, 'fp8'), undefined);
  assert.equal(logArgNumber(log, 'bf16'), undefined);
  assert.equal(logArgNumber(log, 'no_such_arg'), undefined);
  const s = summariseSteps(log, 'x.log');
  assert.deepEqual(s, {
    medianStepS: 1.5, minStepS: 1.5, maxStepS: 1.5, spread: 0, iterationsUsed: 10, warmupRecords: 1,
    medianTflopsPerGpu: 412.3, globalBatchSize: 256,
  });
});

test('slow warm-up iterations: the record averaging over them is skipped only when inside the warm-up', () => {
  // Iterations 1-3 take 3000 ms, the rest 1000 ms: record 1 = 3000, record 10 = (2*3000 + 7*1000)/9 = 1444.4.
  const log = parseMegatronLog(writeMegatronLog({ ...BASE, stepTimesMs: 1000, warmupIterations: 3, warmupFactor: 3 }), 'x.log');
  assert.deepEqual(log.iterations.slice(0, 3).map((r) => r.elapsedMs), [3000, 1444.4, 1000]);
  const s = summariseSteps(log, 'x.log'); // warm-up 5: record 10 stays
  assert.equal(s.iterationsUsed, 10);
  assert.equal(s.medianStepS, 1);
  assert.equal(s.maxStepS, 1444.4 / 1000);
  assert.ok(Math.abs(s.spread - 0.4444) < 1e-12);
  const s10 = summariseSteps(log, 'x.log', { warmupIterations: 10 });
  assert.equal(s10.iterationsUsed, 9);
  assert.equal(s10.warmupRecords, 2);
  assert.equal(s10.spread, 0);
});

test('jitter is deterministic by seed and the median sits inside it', () => {
  const a = writeMegatronLog({ ...BASE, jitter: 0.05, seed: 7, logInterval: 1 });
  assert.equal(a, writeMegatronLog({ ...BASE, jitter: 0.05, seed: 7, logInterval: 1 }));
  assert.notEqual(a, writeMegatronLog({ ...BASE, jitter: 0.05, seed: 8, logInterval: 1 }));
  const s = summariseSteps(parseMegatronLog(a, 'x.log'), 'x.log');
  assert.equal(s.iterationsUsed, 95);
  assert.ok(s.minStepS >= 1.425 && s.maxStepS <= 1.575, JSON.stringify(s));
  assert.ok(Math.abs(s.medianStepS - 1.5) < 0.02);
  assert.ok(s.spread > 0.05);
});

test('launcher prefixes, other loggers\' lines, older format: the same records, memory and arguments', () => {
  const plain = parseMegatronLog(writeMegatronLog(BASE), 'x.log');
  for (const variant of [
    { prefix: 'torchrun' as const }, { prefix: 'srun' as const }, { noise: true }, { prefix: 'torchrun' as const, noise: true },
    { prefix: 'srun' as const, noise: true, timestamps: false },
  ]) {
    const text = writeMegatronLog({ ...BASE, ...variant });
    const log = parseMegatronLog(text, 'x.log');
    const what = JSON.stringify(variant);
    assert.deepEqual(values(log), values(plain), what);
    assert.deepEqual([...maxAllocatedByRank(log)], [...maxAllocatedByRank(plain)], what);
    assert.deepEqual([...log.args], [...plain.args], what);
    // The line numbers point at the lines themselves.
    const lines = text.split('\n');
    for (const r of log.iterations) assert.ok(lines[r.line - 1].includes(`iteration ${String(r.iteration).padStart(8)}/`), what);
  }
  const srun = writeMegatronLog({ ...BASE, prefix: 'srun', noise: true });
  assert.ok(srun.includes('\n7:  [2025-01-15 08:00:01.500000] iteration        1/'));
  assert.ok(srun.includes('\n4: [Rank 4] (after 1 iterations) memory (MB)'));
  assert.ok(srun.includes('(min, max) time across ranks (ms):'));
  assert.ok(srun.includes(' validation loss at iteration 50 on validation set'));
  const torchrun = writeMegatronLog({ ...BASE, prefix: 'torchrun' });
  assert.ok(torchrun.includes('\n[default0]:  world_size ...................................... 8\n'));
});

test('\\r\\n line ends, ANSI colour codes, srun around torchrun prefixes', () => {
  const plain = parseMegatronLog(writeMegatronLog(BASE), 'x.log');
  const crlf = writeMegatronLog({ ...BASE, lineEnd: '\r\n', noise: true, prefix: 'torchrun' });
  assert.deepEqual(values(parseMegatronLog(crlf, 'x.log')), values(plain));
  assert.deepEqual([...parseMegatronLog(crlf, 'x.log').args], [...plain.args]);
  const coloured = writeMegatronLog(BASE).split('\n')
    .map((l) => (l.length > 0 ? `\x1b[32m${l.replace('elapsed', '\x1b[1melapsed')}\x1b[0m` : l)).join('\n');
  const c = parseMegatronLog(coloured, 'x.log');
  assert.deepEqual(values(c), values(plain));
  assert.deepEqual([...c.args], [...plain.args]);
  assert.deepEqual([...maxAllocatedByRank(c)], [...maxAllocatedByRank(plain)]);
  const nested = writeMegatronLog({ ...BASE, prefix: 'torchrun' }).split('\n').map((l) => (l ? `3: ${l}` : l)).join('\n');
  assert.deepEqual([...parseMegatronLog(nested, 'x.log').args], [...plain.args]);
});

test('duplicates: the same log twice, and every iteration line printed twice, keep the first of each', () => {
  const text = writeMegatronLog(BASE);
  const once = parseMegatronLog(text, 'x.log');
  const twice = parseMegatronLog(text + text, 'x.log');
  assert.deepEqual(twice.iterations, once.iterations);
  assert.deepEqual([...maxAllocatedByRank(twice)], [...maxAllocatedByRank(once)]);
  // Two ranks printing each record, a moment apart: only the timestamp differs.
  const doubled = text.split('\n').flatMap((l) => (l.includes('iteration ') && l.includes('elapsed')
    ? [l, l.replace(/\.\d{6}\]/, '.999999]')] : [l])).join('\n');
  const d = parseMegatronLog(doubled, 'x.log');
  assert.deepEqual(values(d), values(once));
  const lines = doubled.split('\n');
  for (const r of d.iterations) assert.ok(!lines[r.line - 1].includes('.999999]'));
});

test('restart from a checkpoint in the same file: the records, memory and arguments of the last start', () => {
  const first = writeMegatronLog({
    ...BASE, stepTimesMs: 1000, saveCheckpointAt: [50],
    memoryByRank: { 0: { allocatedMiB: 1, maxAllocatedMiB: 70000, reservedMiB: 2, maxReservedMiB: 3 } },
    args: { ...BASE.args, tensor_model_parallel_size: 4 },
  });
  // The first run went on to iteration 80 before it died; the second resumes from the checkpoint at 50.
  const died = first.slice(0, first.lastIndexOf('\n', first.indexOf(' iteration       90/')) + 1);
  const second = writeMegatronLog({ ...BASE, stepTimesMs: 1200, startIteration: 50, noise: true });
  const log = parseMegatronLog(died + second, 'x.log');
  assert.deepEqual(log.iterations.map((r) => [r.iteration, r.elapsedMs]),
    [[51, 1200], [60, 1200], [70, 1200], [80, 1200], [90, 1200], [100, 1200]]);
  assert.deepEqual([...maxAllocatedByRank(log)], [[0, 61000.25], [4, 55000.5]]);
  assert.ok(log.memory.every((m) => m.when === '(after 51 iterations)' || m.when === '(after 60 iterations)'));
  assert.equal(logArgNumber(log, 'tensor_model_parallel_size'), 2);
  const s = summariseSteps(log, 'x.log');
  assert.equal(s.iterationsUsed, 5);
  assert.equal(s.medianStepS, 1.2);
  // Without a new arguments block the memory reports kept are those after the first run's last record.
  const bare = second.slice(second.indexOf('-------------------- end of arguments'));
  const log2 = parseMegatronLog(died + bare, 'x.log');
  assert.deepEqual(log2.iterations.map((r) => r.iteration), [51, 60, 70, 80, 90, 100]);
  assert.deepEqual([...maxAllocatedByRank(log2)], [[0, 61000.25], [4, 55000.5]]);
});

test('checkpoint memory reports count in the max by rank', () => {
  const text = writeMegatronLog({ ...BASE, saveCheckpointAt: [50] });
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('[Rank 4] (before save_checkpoint for iteration 50)'));
  lines[at] = formatMemoryLine(4, '(before save_checkpoint for iteration 50)', { allocatedMiB: 1, maxAllocatedMiB: 77777.77, reservedMiB: 2, maxReservedMiB: 3 });
  const log = parseMegatronLog(lines.join('\n'), 'x.log');
  assert.deepEqual(log.memory.filter((m) => m.rank === 4).map((m) => m.when), [
    '(after 1 iterations)', '(after 10 iterations)', '(before save_checkpoint for iteration 50)', '(after save_checkpoint for iteration 50)',
  ]);
  assert.deepEqual([...maxAllocatedByRank(log)], [[0, 61000.25], [4, 77777.77]]);
});

test('skipped and nan iterations: records kept and marked; the summary leaves out those with nan', () => {
  const log = parseMegatronLog(writeMegatronLog({ ...BASE, skippedAt: [12, 13], nanAt: [33] }), 'x.log');
  const at = (it: number) => log.iterations.find((r) => r.iteration === it)!;
  assert.equal(at(20).skippedIterations, 2);
  assert.equal(at(20).nanIterations, 0);
  assert.equal(at(40).nanIterations, 1);
  assert.equal(at(40).skippedIterations, 0);
  assert.equal(log.iterations.length, 11);
  const s = summariseSteps(log, 'x.log');
  assert.equal(s.iterationsUsed, 9);
  assert.equal(s.warmupRecords, 1);
});

test('bad numbers: a nan step time drops the record, a nan throughput reads as absent', () => {
  const text = writeMegatronLog(BASE).split('\n').map((l) => (l.includes('iteration       30/')
    ? l.replace(/elapsed time per iteration \(ms\): [\d.]+/, 'elapsed time per iteration (ms): nan')
    : l.includes('iteration       40/') ? l.replace(/TFLOP\/s\/GPU\): [\d.]+/, 'TFLOP/s/GPU): nan')
      : l.includes('iteration       50/') ? l.replace(/number of nan iterations: +\d+/, 'number of nan iterations: x')
        : l)).join('\n');
  const log = parseMegatronLog(text, 'x.log');
  assert.deepEqual(log.iterations.map((r) => r.iteration), [1, 10, 20, 40, 60, 70, 80, 90, 100]);
  assert.equal(log.iterations[3].tflopsPerGpu, null);
  assert.equal(log.iterations[3].elapsedMs, 1500);
});

test('a log cut while being written: the partial last line is ignored, a complete one counts', () => {
  const text = writeMegatronLog({ ...BASE, memoryByRank: undefined });
  const cutIter = text.slice(0, text.lastIndexOf(' | number of nan'));
  assert.deepEqual(parseMegatronLog(cutIter, 'x.log').iterations.map((r) => r.iteration).slice(-2), [80, 90]);
  const noFinalEnd = text.slice(0, -1);
  assert.equal(parseMegatronLog(noFinalEnd, 'x.log').iterations.length, 11);
  // A memory line cut inside its last number cannot show it: left out.
  const mem = `${text}${formatMemoryLine(0, '(after 100 iterations)', { allocatedMiB: 1, maxAllocatedMiB: 2, reservedMiB: 3, maxReservedMiB: 99999 })}`;
  assert.equal(parseMegatronLog(mem.slice(0, -3), 'x.log').memory.length, 0);
  assert.equal(parseMegatronLog(`${mem}\n`, 'x.log').memory.length, 1);
});

test('arguments: long names print no dots, values keep their spaces, the last block wins', () => {
  const longName = 'a_very_long_argument_name_of_more_than_48_characters_x';
  const text = [
    ...formatArgsBlock({ [longName]: 3, moe_layer_freq: '[1, 1, 0]', tensor_model_parallel_size: 1 }),
    'INFO:megatron:an interleaved line inside no block',
    ...formatArgsBlock({ tensor_model_parallel_size: 8 }),
    formatIterationLine({ iteration: 1, trainIters: 10, consumedSamples: 8, elapsedMs: 10, globalBatchSize: 8, losses: [] }),
    '',
  ].join('\n');
  assert.ok(text.includes(`  ${longName}  3\n`));
  const log = parseMegatronLog(text, 'x.log');
  assert.equal(log.args.get(longName), '3');
  assert.equal(log.args.get('moe_layer_freq'), '[1, 1, 0]');
  assert.equal(logArgNumber(log, 'moe_layer_freq'), undefined);
  assert.equal(logArgNumber(log, 'tensor_model_parallel_size'), 8);
});

test('batch-size ramp-up records count as warm-up', () => {
  const line = (iteration: number, gbs: number, ms: number) => formatIterationLine({
    iteration, trainIters: 100, consumedSamples: 0, elapsedMs: ms, globalBatchSize: gbs, losses: [['lm loss', 3]],
  });
  const text = [line(1, 64, 900), line(10, 64, 500), line(20, 128, 1000), line(30, 256, 2000), line(40, 256, 2100), ''].join('\n');
  const s = summariseSteps(parseMegatronLog(text, 'x.log'), 'x.log');
  assert.equal(s.iterationsUsed, 2);
  assert.equal(s.warmupRecords, 3);
  assert.equal(s.medianStepS, 2.05);
  assert.equal(s.globalBatchSize, 256);
  assert.equal(s.medianTflopsPerGpu, null);
});

test('errors: no iteration line; nothing left after the warm-up; a bad warm-up', () => {
  throwsInput(() => parseMegatronLog(readLog('README.md'), 'fixtures/logs/README.md'),
    'fixtures/logs/README.md: no Megatron iteration lines ("iteration N/ M | ... elapsed time per iteration (ms): ...")');
  throwsInput(() => parseMegatronLog('', 'empty.log'),
    'empty.log: no Megatron iteration lines ("iteration N/ M | ... elapsed time per iteration (ms): ...")');
  const log = parseMegatronLog(writeMegatronLog({ ...BASE, trainIters: 20, nanAt: [15] }), 'x.log');
  throwsInput(() => summariseSteps(log, 'a.log', { warmupIterations: 10 }),
    'a.log: no iteration records left to time: 3 logged (iterations 1..20), 2 skipped as warm-up (the first logged '
    + 'record and those at iteration <= 10), 1 with nan iterations; run more iterations past the warm-up (or log '
    + 'more often with --log-interval), or lower the warm-up');
  throwsInput(() => summariseSteps(log, 'a.log', { warmupIterations: -1, field: 'warmup' }),
    'a.log: warmup: warm-up iterations must be an integer >= 0 (got -1)');
});

test('a 200k-line log with noise parses whole (linear scan)', () => {
  const text = writeMegatronLog({ ...BASE, trainIters: 50000, logInterval: 1, noise: true, prefix: 'torchrun', jitter: 0.02 });
  const lines = text.split('\n').length;
  assert.ok(lines > 200000, String(lines));
  const log = parseMegatronLog(text, 'big.log');
  assert.equal(log.iterations.length, 50000);
  assert.equal(summariseSteps(log, 'big.log').iterationsUsed, 49995);
});
