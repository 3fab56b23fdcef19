import fs from 'node:fs';
import path from 'node:path';
import type { Argv } from 'yargs';
import { COMMANDS } from './commands.js';
import { InputError } from '../job/errors.js';
import { loadJobContext } from '../job-context.js';
import { runSearch } from '../search/pool.js';
import { OBJECTIVES, type RankOptions } from '../search/objective.js';
import { withProgress } from './search-progress.js';
import { buildResult } from '../plans/result.js';
import { noPlanExit } from './tune-result.js';
import { withJobOverrides, overridesFrom, numberOption, choiceOption, textOption } from './job-options.js';
import type { JobOverrides } from '../job/load-job.js';
import { MAX_WORKERS, searchWorkers } from './workers.js';
import { MAX_TOP } from './tune-command.js';
import { readSweepFile } from '../report/sweep-file.js';
import { checkReportTarget, writeReport } from '../report/write-report.js';
import { oneLine } from '../text/one-line.js';
import type { SweepJson } from '../sweep/sweep-json.js';
import { DEFAULT_TOP, rankFlags, withRankFlags, type RankFlagArgs } from './rank-flags.js';

/** The command line as yargs hands it over (numeric options as text, read by parseReportArgs). */
interface ReportArgs extends JobOverrides, RankFlagArgs {
  job: string;
  output?: string;
  sweep?: string;
  top?: string;
  space?: string;
  fix?: string;
  objective?: string;
  workers?: string;
  quiet: boolean;
  timing: boolean;
}


export function registerReport(cli: Argv, setExit: (code: number) => void): void {
  cli.command<ReportArgs>(
    COMMANDS.report.usage,
    COMMANDS.report.describe,
    (y) => withRankFlags(withJobOverrides(y))
      .positional('job', { type: 'string', describe: 'Job file (YAML) or a Hugging Face config.json', demandOption: true })
      .option('output', { alias: 'o', type: 'string', describe: 'The HTML file to write (required)' })
      .option('sweep', { type: 'string', describe: 'A sweep JSON (moefold sweep --format json) to draw the scaling curve from' })
      .option('top', { type: 'string', describe: `How many plans to plot, break down and list (default ${DEFAULT_TOP})` })
      .option('space', { type: 'string', describe: 'Search-space file (default search-spaces/default.yaml)' })
      .option('fix', { type: 'string', describe: 'Pin dimensions, e.g. tp=2,ep=8,recompute=none' })
      .option('objective', { type: 'string', describe: `Rank by ${OBJECTIVES.join(' or ')} (default throughput)` })
      .option('workers', { type: 'string', describe: 'Worker threads (0 = none; default: the cores when the space is large enough to pay for them)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress on stderr' })
      .option('timing', { type: 'boolean', default: true, describe: 'Show the search\'s wall time (--no-timing: the same page byte for byte run to run)' })
      .example('$0 report fixtures/models/mixtral-8x22b.yaml --gpus 128 -o report.html', 'Plots and tables of the best plans')
      .example('$0 report job.yaml -o report.html --sweep sweep.json', 'With the scaling curve of a sweep'),
    async (args) => {
      setExit(await runReport(args));
    },
  );
}

async function runReport(a: ReportArgs): Promise<number> {
  const out = textOption('-o', a.output, 'the HTML file to write the report into');
  if (out === undefined) throw new InputError('-o: missing: give the HTML file to write the report into (-o report.html)');
  const top = numberOption('--top', a.top, { min: 1, max: MAX_TOP, dflt: DEFAULT_TOP }) as number;
  const objective = choiceOption('--objective', a.objective, OBJECTIVES, 'throughput');
  const workersAsked = numberOption('--workers', a.workers, { min: 0, max: MAX_WORKERS });
  const space = textOption('--space', a.space, 'a search-space file');
  const fix = textOption('--fix', a.fix, 'key=value pairs such as tp=2,ep=8');
  const sweepFile = textOption('--sweep', a.sweep, 'a sweep JSON file written by moefold sweep --format json');

  const { job, shape, space: searchSpace, calibration } = loadJobContext(a.job, overridesFrom(a), { space, fix });
  // Everything that can be refused is refused before the search: the target, then the sweep.
  checkReportTarget(out, '-o');
  refuseOverwritingInput(out, [['the job file', a.job], ['the sweep file', sweepFile]]);
  const sweep: SweepJson | undefined = sweepFile === undefined ? undefined : readSweepFile(sweepFile);
  if (sweep && sweep.model.name !== job.model.name) {
    process.stderr.write(`moefold: warning: --sweep: ${oneLine(sweepFile as string)} is a sweep of ${oneLine(sweep.model.name)}, not of ${oneLine(job.model.name)}: its scaling curve is drawn as it is\n`);
  }

  const rank: RankOptions = { objective, minTokensPerSPerGpu: 0, topK: top, pareto: true, ...rankFlags(a) };
  const workers = searchWorkers(workersAsked, a.quiet, job, searchSpace);
  const search = await withProgress(workers, a.quiet,
    (onProgress, signal) => runSearch({ job, space: searchSpace, calibration, rank, workers, onProgress, signal }));
  const none = noPlanExit(job, searchSpace, calibration, search, 'no report written');
  if (none !== null) return none;
  const result = buildResult(job, shape, calibration, { objective, space, timing: a.timing, pareto: true }, search);
  const bytes = writeReport(out, { result, sweep }, '-o');
  if (isRegularFile(out)) {
    process.stdout.write(`wrote ${oneLine(out)} (${(bytes / 1024).toFixed(0)} KiB): ${result.plans.length} plans, a Pareto front of `
      + `${result.pareto?.length ?? 0}${sweep ? `, the scaling curve of ${sweep.points.length} sweep points` : ''}`
      + `${search.interrupted ? ' (interrupted: the best found so far)' : ''}\n`);
  }
  return search.interrupted ? 130 : 0;
}

/** `-o` naming one of the command's own inputs would replace it with the page: refused. */
function refuseOverwritingInput(out: string, inputs: [string, string | undefined][]): void {
  const target = realPathOrSelf(out);
  for (const [what, file] of inputs) {
    if (file !== undefined && realPathOrSelf(file) === target) throw new InputError(`-o: ${oneLine(out)}: is ${what}; give another path for the report`);
  }
}

function realPathOrSelf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** False for a device or a pipe (`-o /dev/stdout`): then the page itself went to stdout and nothing is added. */
function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
