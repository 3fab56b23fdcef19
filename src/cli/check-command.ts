import fs from 'node:fs';
import type { Argv } from 'yargs';
import { COMMANDS } from './commands.js';
import { InputError } from '../job/errors.js';
import { checkJob, type CheckOptions } from '../check/run-check.js';
import { findJobBaselinePairs, type JobBaselinePair } from '../check/find-pairs.js';
import { renderJunit } from '../check/junit.js';
import { writeFileAtomic, writeFilesAtomic, type FileToWrite } from '../io/write-files.js';
import type { JobCheckReport } from '../check/check-types.js';
import { SharedPool } from '../search/pool-choice.js';
import { MAX_WORKERS, resolveWorkers } from './workers.js';
import { MAX_TOP } from './tune-command.js';
import { oneLine, safeLines } from '../text/one-line.js';
import { withJobOverrides, overridesFrom, numberOption, choiceOption, textOption } from './job-options.js';
import type { JobOverrides } from '../job/load-job.js';

interface CheckArgs extends JobOverrides {
  target: string;
  baseline?: string;
  rank?: string;
  tolerance?: string;
  format?: string;
  junit?: string;
  update: boolean;
  space?: string;
  fix?: string;
  workers?: string;
}

export function registerCheck(cli: Argv, setExit: (code: number) => void): void {
  cli.command<CheckArgs>(
    COMMANDS.check.usage,
    COMMANDS.check.describe,
    (y) => withJobOverrides(y)
      .positional('target', { type: 'string', demandOption: true, describe: 'A job file (with --baseline), or a folder of NAME.yaml jobs with NAME.baseline.json beside each' })
      .option('baseline', { type: 'string', describe: 'plans.json of the committed plan (job-file mode)' })
      .option('rank', { type: 'string', describe: 'Which plan of the baseline is the committed one (default 1)' })
      .option('tolerance', { type: 'string', describe: 'Relative throughput slack before "a better plan exists" or "regression" fails (default 0.03)' })
      .option('format', { type: 'string', describe: 'Report format: text or json (default text)' })
      .option('junit', { type: 'string', describe: 'Also write a JUnit XML report to this file' })
      .option('update', { type: 'boolean', default: false, describe: 'Rewrite the baseline(s) with the current best (for a deliberate change)' })
      .option('space', { type: 'string', describe: 'Search-space file (default search-spaces/default.yaml)' })
      .option('fix', { type: 'string', describe: 'Pin dimensions of the search, e.g. tp=2,ep=8' })
      .option('workers', { type: 'string', describe: 'Worker threads (0 = none; default: the cores once a job\'s space is large enough to pay for them)' })
      .example('$0 check model.yaml --baseline plans/plans.json', 'Exit 1 when the committed plan went stale')
      .example('$0 check jobs/ --junit report.xml', 'Every NAME.yaml in jobs/ against NAME.baseline.json')
      .example('$0 check jobs/ --update', 'Accept the current best plans as the new baselines'),
    async (args) => {
      setExit(await runCheck(args));
    },
  );
}

async function runCheck(raw: CheckArgs): Promise<number> {
  const args = {
    ...raw,
    baseline: textOption('--baseline', raw.baseline, 'the plans.json of the committed plan'),
    junit: textOption('--junit', raw.junit, 'a file to write the JUnit XML report to'),
    space: textOption('--space', raw.space, 'a search-space file'),
    fix: textOption('--fix', raw.fix, 'key=value pairs such as tp=2,ep=8'),
    format: choiceOption('--format', raw.format, ['text', 'json'] as const, 'text'),
  };
  const tolerance = numberOption('--tolerance', args.tolerance, { min: 0, max: 0.99, integer: false, dflt: 0.03 }) as number;
  const rank = numberOption('--rank', args.rank, { min: 1, max: MAX_TOP, dflt: 1 }) as number;
  const requestedWorkers = numberOption('--workers', args.workers, { min: 0, max: MAX_WORKERS });
  let isDir = false;
  try {
    isDir = fs.statSync(args.target).isDirectory();
  } catch {
    throw new InputError(`${args.target}: no such file or folder`);
  }
  let pairs: JobBaselinePair[];
  if (isDir) {
    if (args.baseline) throw new InputError('--baseline: not used with a folder (each NAME.yaml is checked against NAME.baseline.json)');
    pairs = findJobBaselinePairs(args.target, args.update);
  } else {
    if (!args.baseline) throw new InputError('--baseline: required when the target is a job file (the plans.json holding the committed plan)');
    if (!args.update && !fs.existsSync(args.baseline)) throw new InputError(`--baseline: ${args.baseline} does not exist (create it with --update)`);
    pairs = [{ job: args.target, baseline: args.baseline }];
  }
  const workers = resolveWorkers(requestedWorkers, args.format === 'json');
  const opts: CheckOptions = {
    rank, tolerance, update: args.update, space: args.space, fix: args.fix, workers, keepTop: 5,
  };
  const pool = new SharedPool(requestedWorkers, workers);
  const reports: JobCheckReport[] = [];
  const writes: FileToWrite[] = [];
  const badInputs: string[] = [];
  try {
    for (const pair of pairs) {
      try {
        const { report, write } = await checkJob(pair.job, pair.baseline, overridesFrom(args), opts, pool);
        reports.push(report);
        writes.push(...write);
      } catch (e) {
        // Folder mode: a broken job or baseline is reported (and fails the run with exit 2) without hiding the others.
        if (!(e instanceof InputError) || !isDir) throw e;
        badInputs.push(e.message);
        reports.push(inputErrorReport(pair, opts, e.message));
      }
    }
  } finally {
    await pool.destroy();
  }
  // Every baseline of the run at once (all or none), then the report: a write that fails is exit 2 with one line
  // naming the file and the reason, and leaves neither a partial file nor a temporary one.
  if (writes.length > 0) writeFilesAtomic(writes, 'check --update');
  if (args.junit) writeFileAtomic(args.junit, renderJunit(reports), '--junit');
  const passed = reports.every((r) => r.passed);
  const finish = (code: number): number => {
    for (const m of badInputs) process.stderr.write(`${oneLine(m)}\n`);
    return badInputs.length > 0 ? 2 : code;
  };
  if (args.format === 'json') {
    process.stdout.write(`${JSON.stringify({ passed, updated: args.update, jobs: reports }, null, 2)}\n`);
  } else {
    process.stdout.write(`${safeLines(renderCheckText(reports))}\n`);
  }
  // --update accepts what changed, but a job for which no baseline could be written still fails.
  return finish(passed || (args.update && reports.every((r) => r.updated)) ? 0 : 1);
}

function inputErrorReport(pair: JobBaselinePair, opts: CheckOptions, message: string): JobCheckReport {
  return {
    job_file: pair.job, baseline_file: pair.baseline, rank: opts.rank, tolerance: opts.tolerance, passed: false,
    baseline_tokens_per_s_per_gpu_recorded: null, baseline_tokens_per_s_per_gpu_now: null, best_tokens_per_s_per_gpu_now: null,
    baseline_fits_now: null, job_changes: [],
    checks: [{ name: 'valid', status: 'fail', message: `bad input: ${message}`, details: [] }],
    updated: false,
  };
}

export function renderCheckText(reports: JobCheckReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.passed ? 'PASS' : 'FAIL'} ${r.job_file} (baseline ${r.baseline_file}, plan ${r.rank})${r.updated ? ' — baseline updated' : ''}`);
    for (const c of r.checks) {
      lines.push(`  ${c.status.padEnd(4)} ${c.name.padEnd(10)} ${c.message}`);
      for (const d of c.details) lines.push(`       ${d}`);
    }
  }
  const failed = reports.filter((r) => !r.passed).length;
  lines.push(`moefold check: ${reports.length - failed} of ${reports.length} job(s) passed${failed ? `, ${failed} failed` : ''}`);
  return lines.join('\n');
}
