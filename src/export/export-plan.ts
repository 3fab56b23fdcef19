/** The launch-config formats of a plan, their file names, and the dispatcher. */
import type { Plan } from '../enumerate/plan.js';
import type { Job, ModelShape } from '../job/types.js';
import { inputError } from '../job/errors.js';
import { bridgeOverrides } from './bridge-overrides.js';
import { finetuneRefusal } from './finetune-refusals.js';
import { megatronFragment, slurmScript, torchrunScript } from './launch-scripts.js';
import { torchtitanToml } from './torchtitan-toml.js';

export const EXPORT_FORMATS = ['megatron', 'torchrun', 'slurm', 'megatron-bridge', 'torchtitan'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const FILE_SUFFIX: Readonly<Record<ExportFormat, string>> = {
  megatron: 'megatron.sh',
  torchrun: 'torchrun.sh',
  slurm: 'sbatch',
  'megatron-bridge': 'bridge-overrides.txt',
  torchtitan: 'torchtitan.toml',
};

/** e.g. plan-1.megatron.sh, plan-1.torchrun.sh, plan-1.sbatch, plan-1.bridge-overrides.txt, plan-1.torchtitan.toml */
export function exportFileName(format: ExportFormat, rank: number): string {
  return `plan-${rank}.${FILE_SUFFIX[format]}`;
}

/** True for a name exportFileName gives (any rank), or its `.refused.txt` companion. */
export function isExportFileName(name: string): boolean {
  const m = /^plan-[1-9][0-9]{0,5}\.(.+?)(\.refused\.txt)?$/.exec(name);
  return m !== null && (Object.values(FILE_SUFFIX) as string[]).includes(m[1]);
}

export interface ExportOptions {
  /** The plan's rank, used in names and headers (default 1). */
  rank?: number;
}

/** The text of one export. Throws InputError when the format cannot express the plan (the message says why). */
export function exportPlan(format: ExportFormat, job: Job, shape: ModelShape, plan: Plan, opts: ExportOptions = {}): string {
  const rank = opts.rank ?? 1;
  // a fine-tuning job (frozen base, LoRA, compressed weights) that the format cannot launch: refused before anything
  const refused = finetuneRefusal(job, format);
  if (refused !== null) throw inputError(job.source, 'export', refused);
  switch (format) {
    case 'megatron': return megatronFragment(job, shape, plan, rank);
    case 'torchrun': return torchrunScript(job, shape, plan, rank);
    case 'slurm': return slurmScript(job, shape, plan, rank);
    case 'megatron-bridge': return bridgeOverrides(job, shape, plan, rank);
    case 'torchtitan': return torchtitanToml(job, shape, plan, rank);
    default: {
      const never: never = format;
      throw new Error(`unknown export format ${String(never)}`);
    }
  }
}
