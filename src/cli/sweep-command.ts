import type { Argv } from 'yargs';
import { COMMANDS } from './commands.js';
import { describeJob } from '../job/describe.js';
import { calibrationNames } from '../paths.js';
import { applyFixes, loadSearchSpace, type SearchSpace } from '../enumerate/index.js';
import { InputError } from '../job/errors.js';
import { createSearchPool } from '../search/pool.js';
import { withJobOverrides, overridesFrom, numberOption, choiceOption, textOption } from './job-options.js';
import type { JobOverrides } from '../job/load-job.js';
import { printStructured } from './output.js';
import { MAX_WORKERS, resolveWorkers, validPlans } from './workers.js';
import { workersForWork } from '../search/pool-choice.js';
import { rankFlags, withRankFlags, type RankFlagArgs } from './rank-flags.js';
import { parseGpuList, parseGpusList, parseSeqLengthList, parseTokens, DEFAULT_TOKENS } from '../sweep/sweep-args.js';
import { refuseWhenNoneLoads, sweepPoints, sweepWarnings } from '../sweep/points.js';
import { runSweep, sweepRankOptions } from '../sweep/run-sweep.js';
import { buildSweepJson, firstJob, pointsWithPlan } from '../sweep/sweep-result.js';
import { renderSweepTable, sweepHeader, formatTokens } from '../sweep/sweep-table.js';

const SWEEP_FORMATS = ['table', 'json', 'yaml'] as const;


interface SweepArgs extends JobOverrides, RankFlagArgs {
  job: string;
  tokens?: string;
  space?: string;
  fix?: string;
  workers?: string;
  format?: string;
  quiet: boolean;
  timing: boolean;
}

export function registerSweep(cli: Argv, setExit: (code: number) => void): void {
  cli.command<SweepArgs>(
    COMMANDS.sweep.usage,
    COMMANDS.sweep.describe,
    (y) => withRankFlags(withJobOverrides(y))
      .positional('job', { type: 'string', describe: 'Job file (YAML) or a Hugging Face config.json', demandOption: true })
      // The sweep's axes: the job overrides of the same names, as comma-separated lists (declared again for their help).
      .option('gpus', { type: 'string', group: 'Sweep axes:', describe: 'GPU counts, e.g. 64,128,256 (default: the job\'s cluster.gpus)' })
      .option('gpu', { type: 'string', group: 'Sweep axes:', describe: `GPU calibrations: names in cost-models/ (${calibrationNames().join(', ')}) or calibration files, e.g. h100-sxm,b200 (default: the job's)` })
      .option('seq-length', { type: 'string', group: 'Sweep axes:', describe: 'Sequence lengths, e.g. 4096,8192 (default: the job\'s)' })
      .option('tokens', { type: 'string', describe: `Token budget for the time and GPU-hours columns, e.g. 15e12 or 1.5T (default ${formatTokens(DEFAULT_TOKENS)})` })
      .option('space', { type: 'string', describe: 'Search-space file (default search-spaces/default.yaml)' })
      .option('fix', { type: 'string', describe: 'Pin dimensions at every point, e.g. tp=2,recompute=none' })
      .option('workers', { type: 'string', describe: 'Worker threads shared by all points (0 = none; default: the cores when the points together are large enough to pay for them)' })
      .option('format', { type: 'string', describe: `Output format: ${SWEEP_FORMATS.join(', ')} (default table)` })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress on stderr' })
      .option('timing', { type: 'boolean', default: true, describe: 'Record wall time (--no-timing: byte-identical JSON run to run)' })
      .example('$0 sweep deepseek-v3.yaml --gpus 256,512,1024,2048 --gpu h100-sxm,h200-sxm,b200 --tokens 15e12',
        'Scaling and GPU-hours for 15 T tokens on three GPUs')
      .example('$0 sweep job.yaml --gpus 64,128 --seq-length 4096,8192 --format json', 'The sweep as JSON (src/sweep/sweep-json.ts)'),
    async (args) => {
      setExit(await runSweepCommand(args));
    },
  );
}

/** Exit 0 when at least one point has a plan, 2 when none has (or the input is bad), 130 when interrupted. */
async function runSweepCommand(a: SweepArgs): Promise<number> {
  const gpuCounts = parseGpusList(a.gpus);
  const gpuKinds = parseGpuList(a.gpu);
  const seqLengths = parseSeqLengthList(a.seqLength);
  const tokens = parseTokens(a.tokens);
  const format = choiceOption('--format', a.format, SWEEP_FORMATS, 'table');
  const spaceFile = textOption('--space', a.space, 'a search-space file');
  const fix = textOption('--fix', a.fix, 'key=value pairs such as tp=2,ep=8');
  const requested = numberOption('--workers', a.workers, { min: 0, max: MAX_WORKERS });
  let workers = resolveWorkers(requested, a.quiet);
  // The list flags are the sweep's axes; every other override applies to each point as `tune` applies it.
  const overrides = overridesFrom({ ...a, gpus: undefined, gpu: undefined, seqLength: undefined });
  const space = loadSpace(spaceFile, fix);

  // With --workers the pool first: its threads start (each loads the scorer's modules) while this thread reads
  // the points' jobs; without it, the pool once the points' valid plans together pay for it (search/pool-choice.ts).
  let pool = requested !== undefined ? createSearchPool(workers) : null;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  const showProgress = !a.quiet && process.stderr.isTTY;
  const rank = sweepRankOptions(rankFlags(a));
  let run;
  try {
    const points = sweepPoints(a.job, overrides, { gpuKinds, seqLengths, gpuCounts });
    refuseWhenNoneLoads(points);
    if (requested === undefined) {
      const work = points.reduce((n, p) => n + (p.job === null ? 0 : validPlans(p.job, space)), 0);
      workers = workersForWork(work, workers);
      pool = createSearchPool(workers);
    }
    for (const w of sweepWarnings(points)) process.stderr.write(`moefold: warning: ${w}\n`);
    if (pool) process.once('SIGINT', onSigint);
    run = await runSweep(points, {
      space, rank, workers, pool, signal: abort.signal,
      onPoint: showProgress ? (done, total) => process.stderr.write(`\rsweep: ${done}/${total} points searched\x1b[K`) : undefined,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (showProgress) process.stderr.write('\r\x1b[K');
    await pool?.destroy();
  }

  const sweep = buildSweepJson(run, { jobFile: a.job, objective: rank.objective, space: spaceFile, tokens, timing: a.timing });
  if (format === 'table') {
    const modelText = describeJob(firstJob(run)).split(' · ')[0];
    process.stdout.write(`${sweepHeader(sweep, modelText, a.timing ? run.wallS : null)}\n${renderSweepTable(sweep)}\n`);
  } else {
    printStructured(sweep, format);
  }
  if (run.interrupted) {
    process.stderr.write('moefold: interrupted: points not searched to the end show what was found so far\n');
    return 130;
  }
  return pointsWithPlan(run.outcomes) > 0 ? 0 : 2;
}

/** The search space (and --fix pins) once for every point. */
function loadSpace(file: string | undefined, fix: string | undefined): SearchSpace {
  if (file !== undefined && file.trim() === '') throw new InputError('--space: needs a value (a search-space file)');
  const space = loadSearchSpace(file);
  return fix !== undefined ? applyFixes(space, fix) : space;
}
