/**
 * Reader of Megatron-LM training logs: the iteration lines, the memory reports and the arguments block, and the
 * step-time summary the calibration fits to.
 *
 * The formats, as Megatron-LM prints them (source: NVIDIA/Megatron-LM @d98e8a64dd):
 * - iteration line, printed once by the last rank: megatron/training/training.py L3567–3641 (`training_log`),
 *   ` [%Y-%m-%d %H:%M:%S.%f] iteration {:8d}/{:8d} | consumed samples: {:12d} | ... elapsed time per iteration (ms):
 *   {:.1f} | [throughput per GPU (TFLOP/s/GPU): {:.1f} |] ... global batch size: {:5d} | ... number of skipped
 *   iterations: {:3d} | number of nan iterations: {:3d} |`. Every field ends in ' |'. Older releases print no
 *   timestamp (v2.6 megatron/training.py L555); fields are read by name, so order, spacing and extra fields do not
 *   matter.
 * - memory report, printed by every rank whose data-parallel rank is 0: megatron/training/utils/common_utils.py
 *   L313–334 (`report_memory`), `[Rank {r}] {name} memory (MB) | allocated: {:.2f} | max allocated: {:.2f} |
 *   reserved: {:.2f} | max reserved: {:.2f}[ | total device memory used: {:.2f}]`; `name` is `(after N iterations)`
 *   (training.py L3684) or `(before|after save_checkpoint for iteration N)` (training.py L3867, L3896). Older
 *   releases print the numbers unrounded ("allocated: 54250.97802734375").
 * - arguments block, rank 0: megatron/training/arguments.py L1990–2001 (`_print_args`),
 *   `  {arg} {'.' * (48 - len(arg))} {value}` between `---- arguments ----` and `---- end of arguments ----` rules.
 *
 * Every other line is ignored. Each line may carry launcher prefixes (torchrun `[default3]:`, `[rank3]:`, srun
 * `--label` `12: `, mpirun `[1,3]<stdout>:`) and ANSI colour codes. The parser is one pass over the lines with
 * substring tests and anchored, non-nested patterns only: linear in the size of the log.
 */
import { median } from './median.js';
import { inputError } from '../job/errors.js';

export interface IterationRecord {
  iteration: number;
  trainIters: number;
  /** Average step time over the iterations since the previous record (Megatron's "elapsed time per iteration"). */
  elapsedMs: number;
  tflopsPerGpu: number | null;
  globalBatchSize: number | null;
  /** Iterations in this record's window whose update was skipped (loss-scale overflow); the record is kept. */
  skippedIterations: number;
  /** Iterations in this record's window with a nan loss; the record is kept, summariseSteps leaves it out. */
  nanIterations: number;
  /** 1-based line number in the log. */
  line: number;
}

export interface MemoryRecord {
  rank: number;
  /** The report's name as printed, e.g. '(after 20 iterations)', '(before save_checkpoint for iteration 100)'. */
  when: string;
  allocatedMiB: number;
  maxAllocatedMiB: number;
  reservedMiB: number;
  maxReservedMiB: number;
  line: number;
}

export interface MegatronLog {
  iterations: IterationRecord[];
  memory: MemoryRecord[];
  args: ReadonlyMap<string, string>;
}

export interface StepSummary {
  medianStepS: number;
  minStepS: number;
  maxStepS: number;
  /** (max-min)/median */
  spread: number;
  iterationsUsed: number;
  /** logged records left out as warm-up */
  warmupRecords: number;
  medianTflopsPerGpu: number | null;
  globalBatchSize: number | null;
}

const ITERATION_MARK = 'elapsed time per iteration (ms):';
const MEMORY_MARK = ' memory (MB) |';
const ARGS_START = /^-+ arguments -+$/;
const ARGS_END = /^-+ end of arguments -+$/;
/** `  name ..... value`; with a name of 48 characters or more the dots are empty: `  name  value`. */
const ARG_LINE = /^ {2}([A-Za-z_]\w*) \.*(?: (.*))?$/;
/** `iteration    20/  100 |` (any spacing), found anywhere in the line. */
const ITERATION_HEAD = /iteration\s+(\d+)\s*\/\s*(\d+)\s*\|/;
const RANK_HEAD = /\[Rank (\d+)\] /;
/** A decimal number as Python prints one (Number() alone would also take '', '0x1f', 'Infinity'). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** One launcher prefix at the start of a line: torchrun `[default3]:` / `[rank3]:`, mpirun `[1,3]<stdout>:`, srun `12: `. */
const LAUNCHER_PREFIX = /^(?:\[(?:default|rank)\d+\]:|\[\d+,\d+\]<std(?:out|err)>:|\s*\d+: )/;

/** The line without ANSI codes and launcher prefixes (srun may wrap torchrun: `3: [default3]:...`). */
function cleanLine(raw: string): string {
  let s = raw.includes('\x1b') ? raw.replace(ANSI, '') : raw;
  for (let i = 0; i < 4; i++) {
    const m = LAUNCHER_PREFIX.exec(s);
    if (!m) break;
    s = s.slice(m[0].length);
  }
  return s;
}

function decimal(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!DECIMAL.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

function count(text: string | undefined): number | undefined {
  const v = decimal(text);
  return v !== undefined && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** `key: value | key: value |` -> map (key trimmed; the first ': ' splits, values keep no surrounding blanks). */
function fieldsOf(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of text.split('|')) {
    const colon = part.indexOf(': ');
    if (colon < 0) continue;
    const key = part.slice(0, colon).trim();
    if (!fields.has(key)) fields.set(key, part.slice(colon + 2).trim());
  }
  return fields;
}

interface ParsedIteration {
  record: IterationRecord;
  /** The line from "iteration" on: two ranks printing the same record differ only in the timestamp before it. */
  signature: string;
}

/** An iteration line, or undefined when it is truncated (every complete one ends in '|') or has a bad number. */
function parseIterationLine(line: string, lineNo: number): ParsedIteration | undefined {
  const head = ITERATION_HEAD.exec(line);
  if (!head || !line.trimEnd().endsWith('|')) return undefined;
  const iteration = Number(head[1]);
  const trainIters = Number(head[2]);
  const rest = line.slice(head.index + head[0].length);
  const f = fieldsOf(rest);
  const elapsedMs = decimal(f.get('elapsed time per iteration (ms)'));
  if (elapsedMs === undefined || elapsedMs <= 0 || !Number.isSafeInteger(iteration) || iteration < 1) return undefined;
  const skipped = f.has('number of skipped iterations') ? count(f.get('number of skipped iterations')) : 0;
  const nan = f.has('number of nan iterations') ? count(f.get('number of nan iterations')) : 0;
  if (skipped === undefined || nan === undefined) return undefined;
  // The throughput is Megatron's own estimate; a nan there does not spoil the timing, so it reads as absent.
  const tflops = decimal(f.get('throughput per GPU (TFLOP/s/GPU)'));
  const gbs = count(f.get('global batch size'));
  return {
    record: {
      iteration, trainIters, elapsedMs, tflopsPerGpu: tflops ?? null, globalBatchSize: gbs ?? null,
      skippedIterations: skipped, nanIterations: nan, line: lineNo,
    },
    signature: line.slice(head.index).trimEnd(),
  };
}

function parseMemoryLine(line: string, lineNo: number): MemoryRecord | undefined {
  const at = line.indexOf(MEMORY_MARK);
  const head = RANK_HEAD.exec(line);
  if (!head || head.index > at) return undefined;
  const when = line.slice(head.index + head[0].length, at).trim();
  const f = fieldsOf(line.slice(at + MEMORY_MARK.length));
  const allocatedMiB = decimal(f.get('allocated'));
  const maxAllocatedMiB = decimal(f.get('max allocated'));
  const reservedMiB = decimal(f.get('reserved'));
  const maxReservedMiB = decimal(f.get('max reserved'));
  if (allocatedMiB === undefined || maxAllocatedMiB === undefined || reservedMiB === undefined
    || maxReservedMiB === undefined) return undefined;
  return { rank: Number(head[1]), when, allocatedMiB, maxAllocatedMiB, reservedMiB, maxReservedMiB, line: lineNo };
}

/** Where a run starts, by line: its first iteration record and the last arguments block printed before it. */
interface RunStart { firstRecord: number; argsLine: number }

/**
 * Parses a Megatron-LM training log.
 * - Iteration numbers that repeat are kept once (the first), whether they follow each other (several ranks
 *   printing, interleaved) or come back later with the same text (the same log concatenated twice).
 * - Iteration numbers that go back with different text are a restart from a checkpoint within the same file:
 *   only the records of the last start are kept (the earlier run may have had another layout), and so are only
 *   the memory reports printed after the previous run's last record, or after the last start's arguments block
 *   when it printed one.
 * - The arguments block: the last value printed for each name wins.
 * Throws inputError(file, '', ...) when there is no iteration line at all.
 */
export function parseMegatronLog(text: string, file: string): MegatronLog {
  const lines = text.split('\n');
  // A log cut while being written ends without a line end: its last line may be partial. An iteration line there
  // still counts when complete (it ends in '|'); a memory or argument line cannot show that and is left out.
  const lastComplete = text.endsWith('\n') ? lines.length - 1 : lines.length - 2;
  let run: IterationRecord[] = [];
  let runSignatures = new Map<number, string>();
  let lastIteration = 0;
  let runStart: RunStart = { firstRecord: 0, argsLine: 0 };
  let lastArgsStart = 0;
  const memory: MemoryRecord[] = [];
  const args = new Map<string, string>();
  let inArgs = false;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.length === 0) continue;
    const line = cleanLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    const lineNo = i + 1;
    if (line.includes(ITERATION_MARK)) {
      const parsed = parseIterationLine(line, lineNo);
      if (!parsed) continue;
      const it = parsed.record.iteration;
      if (it > lastIteration) {
        run.push(parsed.record);
        runSignatures.set(it, parsed.signature);
        lastIteration = it;
      } else if (it < lastIteration && runSignatures.get(it) !== parsed.signature) {
        // Restart: keep the records of the last start only.
        const previousLast = run[run.length - 1].line;
        runStart = { firstRecord: previousLast, argsLine: lastArgsStart > previousLast ? lastArgsStart : 0 };
        run = [parsed.record];
        runSignatures = new Map([[it, parsed.signature]]);
        lastIteration = it;
      }
      continue;
    }
    if (i > lastComplete) continue;
    if (line.includes(MEMORY_MARK)) {
      const rec = parseMemoryLine(line, lineNo);
      if (rec) memory.push(rec);
      continue;
    }
    const trimmed = line.trim();
    if (inArgs) {
      if (ARGS_END.test(trimmed)) { inArgs = false; continue; }
      const m = ARG_LINE.exec(line.trimEnd());
      if (m) args.set(m[1], m[2] ?? '');
    } else if (trimmed.startsWith('-') && ARGS_START.test(trimmed)) {
      inArgs = true;
      lastArgsStart = lineNo;
    }
  }
  if (run.length === 0) {
    throw inputError(file, '', 'no Megatron iteration lines ("iteration N/ M | ... elapsed time per iteration (ms): ...")');
  }
  const memoryFrom = runStart.argsLine || runStart.firstRecord;
  return { iterations: run, memory: memory.filter((m) => m.line > memoryFrom), args };
}

/**
 * Skips warm-up: every record with iteration <= warmupIterations, and always the first logged record (it averages
 * over the start-up iterations); median of the rest. Records with nan iterations > 0 are left out too, and so are
 * records at a global batch size other than the last record's (batch-size ramp-up counts as warm-up).
 * Throws inputError(file, field, ...) when nothing is left (say how many records there were and what was skipped,
 * and what to do).
 */
export function summariseSteps(
  log: MegatronLog, file: string, opts: { warmupIterations?: number; field?: string } = {},
): StepSummary {
  const field = opts.field ?? '';
  const warmup = opts.warmupIterations ?? 5;
  if (!Number.isSafeInteger(warmup) || warmup < 0) {
    throw inputError(file, field, `warm-up iterations must be an integer >= 0 (got ${warmup})`);
  }
  const recs = log.iterations;
  const finalGbs = recs.length > 0 ? recs[recs.length - 1].globalBatchSize : null;
  let warmupRecords = 0;
  let nanRecords = 0;
  let rampRecords = 0;
  const used: IterationRecord[] = [];
  recs.forEach((r, i) => {
    if (i === 0 || r.iteration <= warmup) warmupRecords++;
    else if (r.globalBatchSize !== finalGbs) rampRecords++;
    else if (r.nanIterations > 0) nanRecords++;
    else used.push(r);
  });
  if (used.length === 0) {
    const span = recs.length > 0 ? ` (iterations ${recs[0].iteration}..${recs[recs.length - 1].iteration})` : '';
    const ramp = rampRecords > 0 ? `, ${rampRecords} at a global batch size other than the final ${finalGbs}` : '';
    throw inputError(file, field,
      `no iteration records left to time: ${recs.length} logged${span}, ${warmupRecords} skipped as warm-up `
      + `(the first logged record and those at iteration <= ${warmup})${ramp}, ${nanRecords} with nan iterations; `
      + 'run more iterations past the warm-up (or log more often with --log-interval), or lower the warm-up');
  }
  const steps = used.map((r) => r.elapsedMs / 1000).sort((a, b) => a - b);
  const medianStepS = median(steps);
  const tflops = used.flatMap((r) => (r.tflopsPerGpu === null ? [] : [r.tflopsPerGpu])).sort((a, b) => a - b);
  return {
    medianStepS,
    minStepS: steps[0],
    maxStepS: steps[steps.length - 1],
    spread: (steps[steps.length - 1] - steps[0]) / medianStepS,
    iterationsUsed: used.length,
    warmupRecords: warmupRecords + rampRecords,
    medianTflopsPerGpu: tflops.length > 0 ? median(tflops) : null,
    globalBatchSize: finalGbs,
  };
}

/** Max over each rank's memory reports of "max allocated" (MiB), by global rank (in rank order). */
export function maxAllocatedByRank(log: MegatronLog): Map<number, number> {
  const byRank = new Map<number, number>();
  for (const m of log.memory) byRank.set(m.rank, Math.max(byRank.get(m.rank) ?? 0, m.maxAllocatedMiB));
  return new Map([...byRank].sort((a, b) => a[0] - b[0]));
}

/** A logged argument as a number (undefined when absent, 'None', or not a number such as 'True' or '[1, 2]'). */
export function logArgNumber(log: MegatronLog, name: string): number | undefined {
  return decimal(log.args.get(name));
}
