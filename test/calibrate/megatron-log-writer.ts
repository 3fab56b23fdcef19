/**
 * Writes Megatron-LM training logs the way Megatron's own format strings do, for tests (source: NVIDIA/Megatron-LM
 * @d98e8a64dd megatron/training/training.py L3539–3641 iteration line, L3679–3697 memory reports;
 * megatron/training/utils/common_utils.py L313–334 report_memory; megatron/training/arguments.py L1990–2001
 * _print_args; megatron/core/timers.py L340–355 the "(min, max) time across ranks (ms):" block).
 *
 *   writeMegatronLog({ trainIters: 100, logInterval: 10, stepTimesMs: 1500, globalBatchSize: 256 })
 *
 * gives the arguments block, then one iteration line at iteration 1 (Megatron logs the first iteration always)
 * and every logInterval iterations, each printing the mean step time over the iterations since the previous
 * line, and memory reports of every rank in memoryByRank at the first two logged iterations.
 */
import { rng } from '../../scripts/fuzz.js'; // mulberry32, seedable

export interface MemoryMiB { allocatedMiB: number; maxAllocatedMiB: number; reservedMiB: number; maxReservedMiB: number }

export type ArgValue = string | number | boolean | null;

export interface MegatronLogOptions {
  trainIters: number;
  logInterval: number;
  /** Step time (ms) of each iteration: one number for all, an array indexed by iteration - 1, or a function. */
  stepTimesMs: number | readonly number[] | ((iteration: number) => number);
  globalBatchSize: number;
  /** Printed as "throughput per GPU (TFLOP/s/GPU)": a number, or a function of the iteration and the printed mean
   * step time (e.g. `(_, ms) => flop / (ms / 1000) / 1e12`); absent: the field is not printed (no --log-throughput). */
  tflopsPerGpu?: number | ((iteration: number, elapsedMs: number) => number);
  /** Peak memory by global rank. Each rank reports after the first logged iteration (at 90 % of these figures)
   * and after the first log interval (these figures), so the max over its reports is exactly what is given. */
  memoryByRank?: Readonly<Record<number, MemoryMiB>>;
  /** Arguments block entries on top of train_iters, log_interval, global_batch_size and world_size. */
  args?: Readonly<Record<string, ArgValue>>;
  /** Launcher prefix on every line: torchrun `[default{local rank}]:` or srun --label `{rank}: `. Default 'none'. */
  prefix?: 'none' | 'torchrun' | 'srun';
  /** Other loggers' lines around the Megatron ones (Python logging INFO/WARNING, NCCL INFO, TE warnings, timers
   * blocks, evaluation and checkpoint lines that mention iterations). Default false. */
  noise?: boolean;
  /** Seed of the jitter and of the noise (default 1). */
  seed?: number;
  /** Relative per-iteration jitter, uniform in ±jitter (default 0: step times exactly as given). */
  jitter?: number;
  /** The first warmupIterations iterations (of this start) take warmupFactor times longer (defaults 0 and 3). */
  warmupIterations?: number;
  warmupFactor?: number;
  /** World size printed and used for the ranks' prefixes (default args.world_size, else 8). */
  worldSize?: number;
  /** Timestamped iteration lines as Megatron HEAD prints them (default true); false: the older format. */
  timestamps?: boolean;
  /** A resumed run: the checkpoint's iteration; the first logged iteration is startIteration + 1. Default 0. */
  startIteration?: number;
  /** Iterations whose update was skipped / whose loss was nan (counted in the record of their window). */
  skippedAt?: readonly number[];
  nanAt?: readonly number[];
  /** Saves a checkpoint after these iterations: memory reports "(before|after save_checkpoint for iteration N)". */
  saveCheckpointAt?: readonly number[];
  /** A MoE run: prints load_balancing_loss after lm loss. Default false. */
  moeMetrics?: boolean;
  /** Line end (default '\n'). */
  lineEnd?: '\n' | '\r\n';
}

export interface IterationLineFields {
  iteration: number;
  trainIters: number;
  consumedSamples: number;
  elapsedMs: number | string;
  tflopsPerGpu?: number;
  learningRate?: number;
  globalBatchSize: number;
  losses: ReadonlyArray<readonly [string, number]>;
  lossScale?: number;
  gradNorm?: number;
  skippedIterations?: number;
  nanIterations?: number;
  /** '2024-04-06 02:55:45.123456', or absent for the older format. */
  timestamp?: string;
}

/** Python '{:Nd}'. */
const d = (v: number, width: number): string => String(v).padStart(width);
/** Python '{:.Nf}' (elapsed may be given as text, e.g. 'nan'). */
const f = (v: number | string, digits: number): string => (typeof v === 'string' ? v : v.toFixed(digits));
/** Python '{:.6E}': the exponent has at least two digits. */
function e6(v: number): string {
  const [mant, exp] = v.toExponential(6).toUpperCase().split('E');
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mant}E${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** One iteration line, field for field as training_log builds it. */
export function formatIterationLine(x: IterationLineFields): string {
  let s = x.timestamp === undefined ? '' : ` [${x.timestamp}]`;
  s += ` iteration ${d(x.iteration, 8)}/${d(x.trainIters, 8)} |`;
  s += ` consumed samples: ${d(x.consumedSamples, 12)} |`;
  s += ` elapsed time per iteration (ms): ${f(x.elapsedMs, 1)} |`;
  if (x.tflopsPerGpu !== undefined) s += ` throughput per GPU (TFLOP/s/GPU): ${f(x.tflopsPerGpu, 1)} |`;
  if (x.learningRate !== undefined) s += ` learning rate: ${e6(x.learningRate)} |`;
  s += ` global batch size: ${d(x.globalBatchSize, 5)} |`;
  for (const [name, v] of x.losses) s += ` ${name}: ${e6(v)} |`;
  s += ` loss scale: ${f(x.lossScale ?? 1, 1)} |`;
  if (x.gradNorm !== undefined) s += ` grad norm: ${f(x.gradNorm, 3)} |`;
  s += ` number of skipped iterations: ${d(x.skippedIterations ?? 0, 3)} |`;
  s += ` number of nan iterations: ${d(x.nanIterations ?? 0, 3)} |`;
  return s;
}

/** One report_memory line. */
export function formatMemoryLine(rank: number, when: string, m: MemoryMiB): string {
  return `[Rank ${rank}] ${when} memory (MB) | allocated: ${f(m.allocatedMiB, 2)} | max allocated: ${f(m.maxAllocatedMiB, 2)}`
    + ` | reserved: ${f(m.reservedMiB, 2)} | max reserved: ${f(m.maxReservedMiB, 2)}`;
}

/** Python str() of an argument value. */
function pyStr(v: ArgValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** The arguments block, sorted case-insensitively as _print_args sorts its lines. */
export function formatArgsBlock(args: Readonly<Record<string, ArgValue>>): string[] {
  const body = Object.entries(args).map(([k, v]) => `  ${k} ${'.'.repeat(Math.max(0, 48 - k.length))} ${pyStr(v)}`);
  body.sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
  return ['------------------------ arguments ------------------------', ...body,
    '-------------------- end of arguments ---------------------'];
}

/** A timers.log block (megatron/core/timers.py L346–352). */
function timersBlock(entries: ReadonlyArray<readonly [string, number, number]>): string[] {
  return ['(min, max) time across ranks (ms):',
    ...entries.map(([name, lo, hi]) => `    ${(name + ' ').padEnd(48, '.')}: (${f(lo, 2)}, ${f(hi, 2)})`)];
}


function timestampAt(ms: number): string {
  const iso = new Date(Date.UTC(2025, 0, 15, 8, 0, 0) + Math.floor(ms)).toISOString(); // 2025-01-15T08:00:00.000Z
  const micros = String(Math.floor((ms % 1) * 1000)).padStart(3, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${micros}`;
}

function stepOf(opts: MegatronLogOptions, it: number): number {
  const s = opts.stepTimesMs;
  const v = typeof s === 'number' ? s : typeof s === 'function' ? s(it) : s[it - 1];
  if (v === undefined || !(v > 0)) throw new Error(`writeMegatronLog: no step time > 0 for iteration ${it}`);
  return v;
}

/** A whole log as a string (one line end after every line). */
export function writeMegatronLog(opts: MegatronLogOptions): string {
  const random = rng(opts.seed ?? 1);
  const worldSize = opts.worldSize ?? (typeof opts.args?.world_size === 'number' ? opts.args.world_size : 8);
  const lastRank = worldSize - 1;
  const prefix = (rank: number): string => (opts.prefix === 'torchrun' ? `[default${rank % 8}]:`
    : opts.prefix === 'srun' ? `${rank}: ` : '');
  const out: string[] = [];
  const emit = (rank: number, ...lines: string[]): void => { for (const l of lines) out.push(prefix(rank) + l); };
  const noise = opts.noise === true;
  const start = opts.startIteration ?? 0;
  const warmupIts = opts.warmupIterations ?? 0;
  const warmupFactor = opts.warmupFactor ?? 3;
  const jitter = opts.jitter ?? 0;
  const skipped = new Set(opts.skippedAt ?? []);
  const nans = new Set(opts.nanAt ?? []);
  const saves = new Set(opts.saveCheckpointAt ?? []);
  const memory = Object.entries(opts.memoryByRank ?? {}).map(([r, m]) => [Number(r), m] as const);

  if (noise) {
    emit(0, 'using world size: ' + worldSize + ', data-parallel size: ' + worldSize + ', context-parallel size: 1');
    emit(0, 'WARNING:megatron.core.transformer.transformer_config:"moe_router_dtype" is not set; using fp32');
  }
  emit(0, ...formatArgsBlock({
    train_iters: opts.trainIters, log_interval: opts.logInterval, global_batch_size: opts.globalBatchSize,
    world_size: worldSize, ...opts.args,
  }));
  if (noise) {
    for (let r = 0; r < Math.min(worldSize, 4); r++) {
      emit(r, `node-0:${4100 + r}:${4100 + r} [${r % 8}] NCCL INFO Channel 00/32 : 0 1 2 3 4 5 6 7`);
    }
    emit(0, 'INFO:megatron.core.optimizer:Setting up optimizer with config OptimizerConfig(optimizer=\'adam\', lr=0.0003)');
    emit(lastRank, '/usr/local/lib/python3.12/dist-packages/transformer_engine/pytorch/module/base.py:812: UserWarning: '
      + 'To guarantee overlapping TP and SP collectives with the backward GEMMs, set environment variable '
      + 'CUDA_DEVICE_MAX_CONNECTIONS = 1');
    emit(0, ...timersBlock([['model-and-optimizer-setup', 1538.42, 1540.23], ['train/valid/test-data-iterators-setup', 8140.1, 8140.19]]));
    emit(0, 'training ...', '[before the start of training step] datetime: 2025-01-15 08:00:00');
  }

  let clockMs = 0;
  let windowMs = 0;
  let windowIts = 0;
  let windowSkipped = 0;
  let windowNan = 0;
  let memoryReports = 0;
  for (let it = start + 1; it <= opts.trainIters; it++) {
    let step = stepOf(opts, it) * (it - start <= warmupIts ? warmupFactor : 1);
    if (jitter > 0) step *= 1 + jitter * (2 * random() - 1);
    clockMs += step;
    windowMs += step;
    windowIts++;
    if (skipped.has(it)) windowSkipped++;
    if (nans.has(it)) windowNan++;
    if (it % opts.logInterval === 0 || it === start + 1) {
      const elapsedMs = windowMs / windowIts;
      const tf = opts.tflopsPerGpu;
      emit(lastRank, formatIterationLine({
        timestamp: opts.timestamps === false ? undefined : timestampAt(clockMs),
        iteration: it, trainIters: opts.trainIters, consumedSamples: it * opts.globalBatchSize,
        elapsedMs: Number(elapsedMs.toFixed(1)),
        tflopsPerGpu: tf === undefined ? undefined : typeof tf === 'number' ? tf : tf(it, Number(elapsedMs.toFixed(1))),
        learningRate: 3e-4 * Math.min(1, it / 100), globalBatchSize: opts.globalBatchSize,
        losses: [['lm loss', 2 + 9 * Math.exp(-it / 50)], ...(opts.moeMetrics ? [['load_balancing_loss', 1.01] as const] : [])],
        gradNorm: 1 + 5 * Math.exp(-it / 30), skippedIterations: windowSkipped, nanIterations: windowNan,
      }));
      if (memoryReports < 2 && memory.length > 0) {
        const scale = memoryReports === 0 ? 0.9 : 1;
        for (const [rank, m] of memory) {
          emit(rank, formatMemoryLine(rank, `(after ${it} iterations)`, {
            allocatedMiB: m.allocatedMiB * scale, maxAllocatedMiB: m.maxAllocatedMiB * scale,
            reservedMiB: m.reservedMiB * scale, maxReservedMiB: m.maxReservedMiB * scale,
          }));
        }
        memoryReports++;
      }
      if (noise) {
        emit(0, ...timersBlock([['forward-backward', elapsedMs * 0.9, elapsedMs * 0.92], ['optimizer', elapsedMs * 0.05, elapsedMs * 0.06]]));
        if (random() < 0.2) emit(lastRank, `node-1:5200:5300 [${lastRank % 8}] NCCL INFO Connected all rings`);
        if (random() < 0.1) emit(0, `WARNING:megatron.core.rerun_state_machine:Result validation enabled at iteration ${it}`);
        if (it % (opts.logInterval * 5) === 0) {
          emit(lastRank, '-'.repeat(100),
            ` validation loss at iteration ${it} on validation set | lm loss value: 2.512345E+00 | lm loss PPL: 1.233456E+01 | `,
            '-'.repeat(100));
        }
      }
      windowMs = 0;
      windowIts = 0;
      windowSkipped = 0;
      windowNan = 0;
    }
    if (saves.has(it)) {
      for (const [rank, m] of memory) emit(rank, formatMemoryLine(rank, `(before save_checkpoint for iteration ${it})`, m));
      emit(0, `saving checkpoint at iteration ${d(it, 7)} to /checkpoints in torch_dist format`);
      for (const [rank, m] of memory) emit(rank, formatMemoryLine(rank, `(after save_checkpoint for iteration ${it})`, m));
      if (noise) emit(0, ...timersBlock([['save-checkpoint', 30421.34, 30421.36]]));
    }
  }
  const end = opts.lineEnd ?? '\n';
  return out.join(end) + end;
}
