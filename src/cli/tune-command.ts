import type { Argv } from 'yargs';
import { isLoraRun } from '../job/finetune.js';
import { COMMANDS } from './commands.js';
import { describeJob } from '../job/describe.js';
import { InputError } from '../job/errors.js';
import { calibrationLabel } from '../cost/calibration.js';
import { loadJobContext, type JobContext } from '../job-context.js';
import { EXPORT_FORMATS, type ExportFormat } from '../export/index.js';
import type { Plan } from '../enumerate/plan.js';
import type { Piscina } from 'piscina';
import { createSearchPool, resolveRankOptions, runSearch } from '../search/pool.js';
import { rankPosition, scoreGivenPlan, shardReference, type ScoredPlan } from '../search/compare.js';
import { sensitivityOf } from '../search/neighbours.js';
import { compareJson, renderCompare } from '../render/compare.js';
import { renderSensitivity, sensitivityJson } from '../render/sensitivity.js';
import { checkReportTarget, writeReport } from '../report/write-report.js';
import { OBJECTIVES, type Objective, type RankOptions } from '../search/objective.js';
import { withProgress } from './search-progress.js';
import { renderPlansTable, TABLE_WIDTH } from '../render/plans-table.js';
import { renderExplain } from '../render/explain.js';
import { noPlanExit, writeOutDir } from './tune-result.js';
import { buildResult, planLaunchJson } from '../plans/result.js';
import { withJobOverrides, overridesFrom, numberOption, choiceOption, textOption } from './job-options.js';
import type { JobOverrides } from '../job/load-job.js';
import { printStructured } from './output.js';
import { dryRun } from './dry-run.js';
import { MAX_WORKERS, resolveWorkers, searchWorkers } from './workers.js';
import { parseExportFormats } from './export-command.js';
import { prepareOutDir, type OutDir } from '../io/out-dir.js';
import { DEFAULT_TOP, rankFlags, withRankFlags, type RankFlagArgs } from './rank-flags.js';
import { rankingHeader, tieRule, wrapAtSeparator } from './tune-result.js';

const TUNE_FORMATS = ['table', 'json', 'yaml'] as const;

/** The most plans a result keeps: a bound on memory and output size however large the space. */
export const MAX_TOP = 1000;
/** Launch configs `--out` writes by default: the first few plans (plans.json holds all `--top`). */
export const DEFAULT_OUT_TOP = 5;

/** The command line as yargs hands it over: numeric options arrive as text and are read by parseTuneArgs. */
interface TuneArgs extends JobOverrides, RankFlagArgs {
  job: string;
  space?: string;
  fix?: string;
  objective?: string;
  minThroughput?: string;
  top?: string;
  outTop?: string;
  wide: boolean;
  pareto: boolean;
  workers?: string;
  format?: string;
  out?: string;
  export?: string;
  explain?: string;
  compare?: string;
  sensitivity: boolean;
  report?: string;
  quiet: boolean;
  dryRun: boolean;
  timing: boolean;
}

/** TuneArgs with its numeric options read and checked. */
interface Tune extends Omit<TuneArgs, 'minThroughput' | 'top' | 'workers' | 'explain' | 'objective' | 'format' | 'tie'
  | 'memoryMargin' | 'outTop'> {
  objective: Objective;
  format: 'table' | 'json' | 'yaml';
  minThroughput?: number;
  top: number;
  tie?: number;
  memoryMarginBytes?: number;
  outTop: number;
  workers?: number;
  explain?: number;
}

function parseTuneArgs(a: TuneArgs): Tune {
  const top = numberOption('--top', a.top, { min: 1, max: MAX_TOP, dflt: DEFAULT_TOP }) as number;
  const outTop = numberOption('--out-top', a.outTop, { min: 1, max: top, dflt: Math.min(top, DEFAULT_OUT_TOP) }) as number;
  if (a.outTop !== undefined && a.out === undefined) throw new InputError('--out-top: needs --out DIR to write the launch configs into');
  const { tie, memoryMarginBytes } = rankFlags(a);
  return {
    ...a,
    space: textOption('--space', a.space, 'a search-space file'),
    fix: textOption('--fix', a.fix, `key=value pairs such as tp=2,ep=8`),
    out: textOption('--out', a.out, 'a folder to write plans.json and launch configs into'),
    export: textOption('--export', a.export, `launch formats joined by commas: ${EXPORT_FORMATS.join(', ')}`),
    objective: choiceOption('--objective', a.objective, OBJECTIVES, 'throughput'),
    format: choiceOption('--format', a.format, TUNE_FORMATS, 'table'),
    top,
    outTop,
    tie,
    memoryMarginBytes,
    minThroughput: numberOption('--min-throughput', a.minThroughput, { min: 0, max: 1e9, integer: false }),
    workers: numberOption('--workers', a.workers, { min: 0, max: MAX_WORKERS }),
    explain: numberOption('--explain', a.explain, { min: 1, max: top }),
    compare: textOption('--compare', a.compare, 'a plan as key=value pairs, e.g. tp=2,pp=8,vpp=7,ep=8,etp=1'),
    report: textOption('--report', a.report, 'the HTML file to write'),
  };
}

export function registerTune(cli: Argv, setExit: (code: number) => void): void {
  cli.command<TuneArgs>(
    COMMANDS.tune.usage,
    COMMANDS.tune.describe,
    (y) => withRankFlags(withJobOverrides(y))
      .positional('job', { type: 'string', describe: 'Job file (YAML) or a Hugging Face config.json', demandOption: true })
      .option('space', { type: 'string', describe: 'Search-space file (default search-spaces/default.yaml)' })
      .option('fix', { type: 'string', describe: 'Pin dimensions, e.g. tp=2,ep=8,recompute=none' })
      .option('objective', { type: 'string', describe: `Rank by tokens/s/GPU, or by lowest peak memory: ${OBJECTIVES.join(' or ')} (default throughput)` })
      .option('min-throughput', { type: 'string', describe: 'With --objective memory: minimum tokens/s/GPU a plan must reach' })
      .option('top', { type: 'string', describe: `How many rows to show and keep in the result (default ${DEFAULT_TOP})` })
      .option('wide', { type: 'boolean', default: false, describe: 'Every column (DO, dispatcher, step time, main costs); the default table fits 120 columns' })
      .option('out-top', { type: 'string', describe: `With --out: launch configs for the first N plans (default min(--top, ${DEFAULT_OUT_TOP}))` })
      .option('pareto', { type: 'boolean', default: false, describe: 'Also show the Pareto front of throughput vs peak memory' })
      .option('workers', { type: 'string', describe: 'Worker threads (0 = none; default: the cores when the space is large enough to pay for them)' })
      .option('format', { type: 'string', describe: `Output format: ${TUNE_FORMATS.join(', ')} (default table)` })
      .option('out', { type: 'string', describe: 'Write plans.json and launch configs for the top plans (and, with --pareto, the Pareto plans) into this folder' })
      .option('export', { type: 'string', describe: 'With --out: launch formats to write, e.g. torchrun,slurm,megatron (default torchrun; megatron-bridge for a LoRA job)' })
      .option('explain', { type: 'string', describe: 'Also print the full breakdown of plan N' })
      .option('compare', { type: 'string', describe: 'A plan (the --plan syntax of score): where it ranks in the space and what plan 1 changes, term by term' })
      .option('sensitivity', { type: 'boolean', default: false, describe: 'Also show what one step up or down on each axis of plan 1 costs' })
      .option('report', { type: 'string', describe: 'Also write the result as one self-contained HTML page (see moefold report)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress on stderr' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only enumerate: count candidates, valid plans and what each rule pruned' })
      .option('timing', { type: 'boolean', default: true, describe: 'Record wall time in the result (--no-timing: byte-identical JSON run to run)' })
      .example('$0 tune fixtures/models/mixtral-8x22b.yaml --gpus 128', 'Best plans for Mixtral 8x22B on 128 H100s')
      .example('$0 tune deepseek-v3.yaml --gpus 1024 --fix tp=1', 'Pin TP (any dimension: --fix tp=2,ep=8,mbs=1)')
      .example('$0 tune job.yaml --objective memory --min-throughput 3000', 'Smallest footprint above a speed floor')
      .example('$0 tune job.yaml --out plans/ --export torchrun,slurm', 'Save plans.json and launch scripts')
      .example('$0 tune job.yaml --compare tp=2,pp=8,vpp=7,ep=8,etp=1 --sensitivity', 'Where today\'s recipe ranks, and how sensitive the best plan is')
      .example('$0 tune job.yaml --dry-run', 'How many mappings Megatron accepts, and why the rest are refused'),
    async (args) => {
      setExit(await runTune(args));
    },
  );
}

async function runTune(raw: TuneArgs): Promise<number> {
  const args = parseTuneArgs(raw);
  // With --workers N the pool is known before the job is: its threads start (and load the scorer) while this
  // thread reads the job and the space. Without it, the pool is chosen by the space's size (searchWorkers).
  const workers = args.workers !== undefined && !args.dryRun ? resolveWorkers(args.workers, args.quiet) : 0;
  const pool = createSearchPool(workers);
  try {
    return await tuneWith(args, pool === null ? undefined : { pool, workers });
  } finally {
    await pool?.destroy();
  }
}

async function tuneWith(args: Tune, early: EarlyPool | undefined): Promise<number> {
  const jc = loadJobContext(args.job, overridesFrom(args), { space: args.space, fix: args.fix });
  const { job, shape, space, calibration } = jc;
  if (args.explain !== undefined && args.format !== 'table') {
    throw new InputError('--explain: only with --format table (the JSON/YAML result already holds every breakdown)');
  }
  if (args.wide && args.format !== 'table') {
    throw new InputError('--wide: only with --format table (the JSON/YAML result already holds every field)');
  }
  if (args.minThroughput !== undefined && args.objective !== 'memory') {
    throw new InputError('--min-throughput: only with --objective memory (throughput ranking already puts the fastest first)');
  }
  if (args.dryRun && (args.out || args.explain !== undefined || args.format !== 'table' || args.pareto
    || args.compare !== undefined || args.sensitivity || args.report !== undefined)) {
    throw new InputError('--dry-run: only counts candidates; it takes no --out, --explain, --pareto, --compare, --sensitivity, --report or --format');
  }
  if (args.compare !== undefined && args.objective !== 'throughput') {
    throw new InputError('--compare: only with --objective throughput (it counts the plans faster than the given one)');
  }
  // The given plan is read and checked, and the report's file, before the search.
  const given = args.compare !== undefined ? scoreGivenPlan(jc, args.compare, '--compare') : null;
  if (args.report !== undefined) checkReportTarget(args.report, '--report');
  // a LoRA run on a frozen base is launched by Megatron-Bridge (Megatron-LM's scripts would train every weight)
  const defaultExport = isLoraRun(job.training) ? 'megatron-bridge' : 'torchrun';
  const exportFormats = args.out ? parseExportFormats(args.export ?? defaultExport, '--export') : [];
  if (args.export && !args.out) throw new InputError('--export: needs --out DIR to write the launch configs into');

  if (args.dryRun) {
    const { text, valid } = dryRun(job, shape, space, calibrationLabel(calibration));
    process.stdout.write(`${text}\n`);
    return valid > 0 ? 0 : 2;
  }
  // A bad --out is reported before the search, and the folder is ours until the files are written.
  const outDir = args.out !== undefined ? prepareOutDir(args.out, '--out') : null;
  try {
    return await searchAndReport(args, jc, given, exportFormats, outDir, early);
  } finally {
    outDir?.release();
  }
}

/** A pool made before the job was read (--workers N), and its thread count. */
interface EarlyPool { pool: Piscina; workers: number }

async function searchAndReport(args: Tune, jc: JobContext, given: ScoredPlan | null, exportFormats: ExportFormat[],
  outDir: OutDir | null, early: EarlyPool | undefined): Promise<number> {
  const { job, shape, space, calibration } = jc;

  const rank: RankOptions = {
    objective: args.objective,
    minTokensPerSPerGpu: args.minThroughput ?? 0,
    topK: args.top,
    pareto: args.pareto || args.report !== undefined, // the report draws the front
    tie: args.tie,
    memoryMarginBytes: args.memoryMarginBytes,
  };
  const workers = early?.workers ?? searchWorkers(args.workers, args.quiet, job, space);

  // --compare: the shards count the plans above the given one (exact, every plan), against the ranking's own tie
  const reference = given ? shardReference(given.estimate, rank, resolveRankOptions(rank, calibration).rank.tie) : undefined;
  const search = await withProgress(workers, args.quiet,
    (onProgress, signal) => runSearch({ job, space, calibration, rank, workers, reference, onProgress, signal }, early?.pool));

  const result = buildResult(job, shape, calibration, args, search);
  const none = noPlanExit(job, space, calibration, search, 'nothing to show');
  if (none !== null) return none;
  if (search.interrupted && !args.quiet) {
    process.stderr.write(`moefold: interrupted: ${search.shardsDone} of ${search.shardCount} shards searched; showing the best so far\n`);
  }

  const compare = given && !search.interrupted
    ? { job, given, best: search.top[0], rank: rankPosition(search, given.estimate, search.rank.tie) } : null;
  const sensitivity = args.sensitivity ? sensitivityOf(job, shape, jc.scoreContext(), search.top[0].plan,
    { maxFirstLastReduction: space.uneven.enabled ? space.uneven.maxFirstLastReduction : 0 }) : null;
  const reportBytes = args.report !== undefined
    ? writeReport(args.report, { result: args.pareto ? result : buildResult(job, shape, calibration, { ...args, pareto: true }, search) }, '--report')
    : 0;
  const exported = outDir ? writeOutDir(outDir.dir, job, shape, result, search.top.slice(0, args.outTop),
    args.pareto ? search.pareto : [], exportFormats) : null;

  if (args.format === 'table') {
    const lines: string[] = [];
    lines.push(wrapAtSeparator(describeJob(job, calibrationLabel(calibration)), TABLE_WIDTH));
    lines.push(`${search.stats.enumerated.toLocaleString('en-US')} candidates enumerated · ${search.stats.valid.toLocaleString('en-US')} valid`
      + ` (Megatron accepts) · ${search.fitting.toLocaleString('en-US')} fit in memory`
      + (args.timing ? ` · ${search.wallS.toFixed(2)} s` : ''));
    lines.push(rankingHeader(search, calibration));
    const table = { wide: args.wide, bf16PeakFlops: calibration.denseBf16PeakFlops };
    lines.push(renderPlansTable(job, search.top, { ...table, tieRule: tieRule(search) }));
    if (args.pareto) {
      lines.push('Pareto front (throughput vs peak memory; lowest memory first):');
      lines.push(renderPlansTable(job, search.pareto, table));
    }
    if (args.explain !== undefined) {
      const r = search.top[args.explain - 1];
      if (r) lines.push(renderExplain(job, r.plan, r.estimate, `Plan ${args.explain}:`, result.plans[args.explain - 1].launch));
      else lines.push(`--explain ${args.explain}: only ${search.top.length} plan(s) were found`);
    }
    if (given && search.interrupted) lines.push('--compare: interrupted: the counts would be partial, so no rank is shown');
    if (compare) lines.push('', renderCompare(compare));
    if (sensitivity) lines.push('', renderSensitivity(job, sensitivity, 'Sensitivity of plan 1,'));
    if (args.report !== undefined) lines.push(`wrote ${args.report} (${Math.round(reportBytes / 1024)} KiB)`);
    if (args.out && exported) {
      lines.push(`wrote ${args.out}/plans.json and launch configs (${exportFormats.join(', ')}) for plans 1–${exported.plans}`
        + (exported.pareto ? ` and Pareto plans 1–${exported.pareto} (pareto-N.*)` : '')
        + (exported.refused ? `; ${exported.refused} export(s) refused: see the *.refused.txt files` : ''));
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    const launch = (p: Plan) => planLaunchJson(job, shape, p);
    printStructured({
      ...result,
      ...(compare ? { compare: compareJson(compare, launch, calibration.denseBf16PeakFlops) } : {}),
      ...(sensitivity ? { sensitivity: sensitivityJson(job, sensitivity) } : {}),
    }, args.format);
  }
  return search.interrupted ? 130 : 0;
}
