import type { Argv } from 'yargs';
import { describeJob } from '../job/describe.js';
import { InputError } from '../job/errors.js';
import { loadJobContext } from '../job-context.js';
import { scorePlan } from '../cost/score.js';
import { newEstimate } from '../cost/estimate.js';
import { checkPlan, parsePlanSpec } from '../enumerate/index.js';
import { planToJson } from '../render/plan-json.js';
import { renderExplain } from '../render/explain.js';
import { megatronLaunch } from '../export/index.js';
import { withJobOverrides, overridesFrom, choiceOption, textOption } from './job-options.js';
import type { JobOverrides } from '../job/load-job.js';
import { printStructured } from './output.js';
import { planWarnings } from '../plan/plan-warnings.js';
import { calibrationLabel } from '../cost/calibration.js';
import { calibrationJson } from '../plans/result.js';

interface ScoreArgs extends JobOverrides {
  job: string;
  plan: string;
  format?: string;
}

export function registerScore(cli: Argv, setExit: (code: number) => void): void {
  cli.command<ScoreArgs>(
    'score <job>',
    'Estimate step time, throughput and memory of one plan, with the full breakdown',
    (y) => withJobOverrides(y)
      .positional('job', { type: 'string', describe: 'Job file (YAML) or a Hugging Face config.json', demandOption: true })
      .option('plan', {
        type: 'string', demandOption: true,
        describe: 'The plan: tp,cp,pp,vpp,ep,etp,mbs,recompute,dispatcher,first,last,distopt,sp,account_for_embedding,'
          + 'account_for_loss,layout,mb_group (unset fields take Megatron-LM defaults)',
      })
      .option('format', { type: 'string', describe: 'Output format: table, json or yaml (default table)' })
      .example('$0 score fixtures/models/mixtral-8x22b.yaml --plan tp=2,pp=8,vpp=7,ep=8,etp=1', 'The model-zoo plan for Mixtral 8x22B')
      .example("$0 score fixtures/models/deepseek-v3.yaml --plan 'tp=2,pp=8,ep=64,etp=1,layout=Et|(tt|)*30mL'",
        "NVIDIA's DeepSeek-V3 recipe: an explicit pipeline layout (VPP 4 from its 32 stages)")
      .example('$0 score fixtures/models/qwen3-235b-a22b.yaml --gpus 256 --plan tp=2,pp=8,vpp=4,ep=32,etp=1,account_for_embedding=true,account_for_loss=true',
        'Qwen3-235B: 94 layers + embedding + loss split over PP8 VPP4'),
    async (args) => {
      const format = choiceOption('--format', args.format, ['table', 'json', 'yaml'] as const, 'table');
      const planText = textOption('--plan', args.plan, 'key=value pairs such as tp=2,pp=8,ep=8') as string;
      const jc = loadJobContext(args.job, overridesFrom(args));
      const { job, shape } = jc;
      const plan = parsePlanSpec(planText, job, shape);
      const broken = checkPlan(job, shape, plan);
      if (broken.length > 0) {
        throw new InputError(`--plan: Megatron-Core would refuse this plan: ${broken.map((v) => `${v.rule} (${v.reason})`).join('; ')}`);
      }
      for (const w of planWarnings(job, plan)) process.stderr.write(`moefold: warning: ${w}\n`);
      const est = scorePlan(jc.scoreContext(), plan, newEstimate());
      const { args: megatronArgs, env } = megatronLaunch(job, shape, plan);
      const launch = { megatron_args: megatronArgs, env };
      if (format === 'table') {
        process.stdout.write(`${renderExplain(job, plan, est, describeJob(job, calibrationLabel(jc.calibration)), launch)}\n`);
      } else {
        printStructured({ ...planToJson(1, plan, est, launch, jc.calibration.denseBf16PeakFlops), calibration: calibrationJson(jc.calibration) }, format);
      }
      setExit(est.fits ? 0 : 1);
    },
  );
}
