import type { Argv } from 'yargs';
import type { JobOverrides } from '../spec/load-job.js';
import { listCalibrations } from '../cost/calibration.js';
import { InputError } from '../spec/errors.js';

/** Options every command that reads a job accepts; they override the job file. */
export function withJobOverrides<T>(y: Argv<T>) {
  return y
    .option('gpus', { type: 'number', describe: 'Total GPUs (overrides cluster.gpus)', group: 'Job overrides:' })
    .option('gpus-per-node', { type: 'number', describe: 'GPUs per node (default 8)', group: 'Job overrides:' })
    .option('gpu', { type: 'string', describe: `GPU calibration: a file name in cost-models/ (${listCalibrations().join(', ')})`, group: 'Job overrides:' })
    .option('seq-length', { type: 'number', describe: 'Sequence length in tokens', group: 'Job overrides:' })
    .option('global-batch-size', { type: 'number', describe: 'Global batch in sequences', group: 'Job overrides:' })
    .option('precision', { type: 'string', choices: ['bf16', 'fp8'], describe: 'Training precision', group: 'Job overrides:' });
}


/** Picks the job overrides out of a command's parsed arguments (yargs names them as JobOverrides does). */
export function overridesFrom(a: JobOverrides): JobOverrides {
  for (const [flag, v] of [['--gpus', a.gpus], ['--gpus-per-node', a.gpusPerNode], ['--seq-length', a.seqLength],
    ['--global-batch-size', a.globalBatchSize]] as const) {
    if (v !== undefined && Number.isNaN(v)) throw new InputError(`${flag}: must be a number`);
  }
  const o: JobOverrides = {};
  if (a.gpus !== undefined) o.gpus = a.gpus;
  if (a.gpusPerNode !== undefined) o.gpusPerNode = a.gpusPerNode;
  if (a.gpu !== undefined) o.gpu = a.gpu;
  if (a.seqLength !== undefined) o.seqLength = a.seqLength;
  if (a.globalBatchSize !== undefined) o.globalBatchSize = a.globalBatchSize;
  if (a.precision !== undefined) o.precision = a.precision;
  return o;
}
