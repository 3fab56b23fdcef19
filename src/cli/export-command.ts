import yaml from 'js-yaml';
import { writeFileAtomic } from '../io/write-files.js';
import type { Argv } from 'yargs';
import { COMMANDS } from './commands.js';
import { InputError } from '../job/errors.js';
import { modelShape } from '../job/shape.js';
import { EXPORT_FORMATS, exportPlan, type ExportFormat } from '../export/index.js';
import { planAtRank, readPlansFile } from '../plans/plans-file.js';
import { numberOption, textOption } from './job-options.js';
import { MAX_TOP } from './tune-command.js';

const STRUCTURED = ['json', 'yaml'] as const;
export const ALL_EXPORT_FORMATS: readonly string[] = [...EXPORT_FORMATS, ...STRUCTURED];

/** `a,b,c` → validated list of launch formats (json/yaml are not launch configs). */
export function parseExportFormats(list: string, flag: string): ExportFormat[] {
  const out: ExportFormat[] = [];
  for (const raw of list.split(',')) {
    const f = raw.trim();
    if (!(EXPORT_FORMATS as readonly string[]).includes(f)) {
      throw new InputError(`${flag}: unknown format "${f}" (allowed: ${EXPORT_FORMATS.join(', ')})`);
    }
    if (!out.includes(f as ExportFormat)) out.push(f as ExportFormat);
  }
  return out;
}

interface ExportArgs {
  plans: string;
  rank?: string;
  format: string;
  output?: string;
}

export function registerExport(cli: Argv, setExit: (code: number) => void): void {
  cli.command<ExportArgs>(
    COMMANDS.export.usage,
    COMMANDS.export.describe,
    (y) => y
      .positional('plans', { type: 'string', describe: 'plans.json written by `moefold tune --out` or `--format json`', demandOption: true })
      .option('rank', { type: 'string', describe: 'Which plan (1 = best; default 1)' })
      .option('format', { type: 'string', choices: ALL_EXPORT_FORMATS as string[], demandOption: true, describe: 'Output format' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write to this file instead of stdout' })
      .example('$0 export out/plans.json --format slurm -o train.sbatch', 'SLURM script for the best plan')
      .example('$0 export out/plans.json --rank 2 --format megatron', 'Megatron-LM flags and environment of plan 2'),
    (args) => {
      const output = textOption('-o/--output', args.output, 'a file to write to; without -o the config goes to stdout');
      const rank = numberOption('--rank', args.rank, { min: 1, max: MAX_TOP, dflt: 1 }) as number;
      const pf = readPlansFile(args.plans);
      const { plan, json } = planAtRank(pf, rank);
      let text: string;
      if (args.format === 'json') text = `${JSON.stringify(json, null, 2)}\n`;
      else if (args.format === 'yaml') text = yaml.dump(json, { lineWidth: -1, noRefs: true });
      else text = exportPlan(args.format as ExportFormat, pf.job, modelShape(pf.job.model), plan, { rank });
      if (output !== undefined) {
        writeFileAtomic(output, text, '--output', /\.(sh|sbatch)$/.test(output) ? 0o755 : 0o644);
      } else {
        process.stdout.write(text);
      }
      setExit(0);
    },
  );
}
