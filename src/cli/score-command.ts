import type { Argv } from 'yargs';
import { COMMANDS } from './commands.js';
import { describeJob } from '../job/describe.js';
import { InputError } from '../job/errors.js';
import { loadJobContext } from '../job-context.js';
import { planToJson } from '../render/plan-json.js';
import { renderExplain } from '../render/explain.js';
import { withJobOverrides, overridesFrom, choiceOption, numberOption, textOption } from './job-options.js';
import type { JobOverrides } from '../job/load-job.js';
import { printStructured } from './output.js';
import { planWarnings } from '../plan/plan-warnings.js';
import { calibrationLabel } from '../cost/calibration.js';
import { calibrationJson, planLaunchJson } from '../plans/result.js';
import { defaultTolerance, rankInSpace, scoreGivenPlan } from '../search/compare.js';
import { sensitivityOf } from '../search/neighbours.js';
import { compareJson, renderCompare, type CompareInput } from '../render/compare.js';
import { renderSensitivity, sensitivityJson } from '../render/sensitivity.js';
import { withProgress } from './search-progress.js';
import { explainEmpty } from '../enumerate/index.js';
import { MAX_WORKERS, searchWorkers } from './workers.js';
import { rankFlags, withRankFlags, type RankFlagArgs } from './rank-flags.js';
import type { JobContext } from '../job-context.js';
import type { Plan } from '../enumerate/plan.js';
import type { Estimate } from '../cost/estimate.js';

interface ScoreArgs extends JobOverrides, RankFlagArgs {
  job: string;
  plan: string;
  format?: string;
  rank: boolean;
  sensitivity: boolean;
  workers?: string;
  quiet: boolean;
}

export function registerScore(cli: Argv, setExit: (code: number) => void): void {
  cli.command<ScoreArgs>(
    COMMANDS.score.usage,
    COMMANDS.score.describe,
    (y) => withRankFlags(withJobOverrides(y))
      .positional('job', { type: 'string', describe: 'Job file (YAML) or a Hugging Face config.json', demandOption: true })
      .option('plan', {
        type: 'string', demandOption: true,
        describe: 'The plan: tp,cp,pp,vpp,ep,etp,mbs,recompute,dispatcher,first,last,distopt,sp,account_for_embedding,'
          + 'account_for_loss,layout,mb_group (unset fields take Megatron-LM defaults)',
      })
      .option('format', { type: 'string', describe: 'Output format: table, json or yaml (default table)' })
      .option('rank', { type: 'boolean', default: false, describe: 'Also search the whole space: where the plan ranks, and what the best plan changes, term by term' })
      .option('sensitivity', { type: 'boolean', default: false, describe: 'Also score one step up and down on each axis (tp, cp, pp, vpp, ep, etp, mbs, recompute, dispatcher, distributed optimizer)' })
      .option('workers', { type: 'string', describe: 'With --rank: worker threads (0 = none; default: the cores when the space is large enough to pay for them)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'With --rank: no progress on stderr' })
      .example('$0 score fixtures/models/mixtral-8x22b.yaml --plan tp=2,pp=8,vpp=7,ep=8,etp=1', 'The model-zoo plan for Mixtral 8x22B')
      .example("$0 score fixtures/models/deepseek-v3.yaml --plan 'tp=2,pp=8,ep=64,etp=1,layout=Et|(tt|)*30mL'",
        "NVIDIA's DeepSeek-V3 recipe: an explicit pipeline layout (VPP 4 from its 32 stages)")
      .example('$0 score fixtures/models/qwen3-235b-a22b.yaml --gpus 256 --plan tp=2,pp=8,vpp=4,ep=32,etp=1,account_for_embedding=true,account_for_loss=true',
        'Qwen3-235B: 94 layers + embedding + loss split over PP8 VPP4')
      .example('$0 score fixtures/models/mixtral-8x22b.yaml --gpus 128 --plan tp=2,pp=8,vpp=7,ep=8,etp=1 --rank --sensitivity',
        'Where the model-zoo plan ranks, what the best plan changes, and what one step on each axis costs'),
    async (args) => {
      setExit(await runScore(args));
    },
  );
}

async function runScore(args: ScoreArgs): Promise<number> {
  const format = choiceOption('--format', args.format, ['table', 'json', 'yaml'] as const, 'table');
  const planText = textOption('--plan', args.plan, 'key=value pairs such as tp=2,pp=8,ep=8') as string;
  const { tie: tieAsked, memoryMarginBytes } = rankFlags(args);
  const workersAsked = numberOption('--workers', args.workers, { min: 0, max: MAX_WORKERS });
  if (!args.rank && args.tie !== undefined) throw new InputError('--tie: only with --rank (the search\'s tie: when another plan is clearly faster)');
  if (!args.rank && args.memoryMargin !== undefined) throw new InputError('--memory-margin: only with --rank (the plans the search ranks)');
  if (!args.rank && args.workers !== undefined) throw new InputError('--workers: only with --rank (scoring one plan needs no pool)');
  const jc = loadJobContext(args.job, overridesFrom(args));
  const { job, shape } = jc;
  const { plan, estimate: est } = scoreGivenPlan(jc, planText);
  const tolerance = tieAsked ?? defaultTolerance(jc.calibration);
  for (const w of planWarnings(job, plan)) process.stderr.write(`moefold: warning: ${w}\n`);
  const launchOf = (p: Plan) => planLaunchJson(job, shape, p);
  const launch = launchOf(plan);
  const compare = args.rank ? await compareWithSpace(jc, plan, est, tolerance, memoryMarginBytes, searchWorkers(workersAsked, args.quiet, jc.job, jc.space), args.quiet) : null;
  if (compare === 'interrupted') return 130;
  if (compare === 'empty') return 2;
  const sensitivity = args.sensitivity
    ? sensitivityOf(job, shape, jc.scoreContext(), plan, { maxFirstLastReduction: jc.space.uneven.enabled ? jc.space.uneven.maxFirstLastReduction : 0 })
    : null;
  if (format === 'table') {
    const parts = [renderExplain(job, plan, est, describeJob(job, calibrationLabel(jc.calibration)), launch)];
    if (compare) parts.push(renderCompare(compare));
    if (sensitivity) parts.push(renderSensitivity(job, sensitivity));
    process.stdout.write(`${parts.join('\n\n')}\n`);
  } else {
    const bf16 = jc.calibration.denseBf16PeakFlops;
    const base = compare ? compareJson(compare, launchOf, bf16) : planToJson(1, plan, est, launch, bf16);
    printStructured({
      ...base, calibration: calibrationJson(jc.calibration),
      ...(sensitivity ? { sensitivity: sensitivityJson(job, sensitivity) } : {}),
    }, format);
  }
  return est.fits ? 0 : 1;
}

/** `score --rank`: one search of the job's space, counting the plans above the given one. */
async function compareWithSpace(jc: JobContext, plan: Plan, est: Estimate, tolerance: number, memoryMarginBytes: number | undefined, workers: number,
  quiet: boolean): Promise<CompareInput | 'interrupted' | 'empty'> {
  const { job, space, calibration } = jc;
  const outcome = await withProgress(workers, quiet,
    (onProgress, signal) => rankInSpace({ job, space, calibration, given: est, tolerance, memoryMarginBytes, workers, onProgress, signal }));
  if (outcome.search.interrupted) {
    process.stderr.write('moefold: interrupted: the counts would be partial, so no rank is shown\n');
    return 'interrupted';
  }
  if (outcome.search.stats.valid === 0) {
    process.stderr.write(`${explainEmpty(outcome.search.stats, job, space)}\n`);
    return 'empty';
  }
  const top = outcome.search.top[0];
  return { job, given: { plan, estimate: est }, best: top ? { plan: top.plan, estimate: top.estimate } : null, rank: outcome.rank };
}
