import type { Job, ModelShape } from '../job/types.js';
import { describeJob } from '../job/describe.js';
import type { SearchSpace } from '../enumerate/index.js';
import { enumeratePlans, newEnumStats, explainEmpty } from '../enumerate/index.js';
import { orderedPruned } from '../plans/result.js';

/** Enumerates without scoring: how many candidates, how many Megatron accepts, and what each rule pruned. */
export function dryRun(job: Job, shape: ModelShape, space: SearchSpace, calibration?: string): { text: string; valid: number } {
  const stats = newEnumStats();
  const started = process.hrtime.bigint();
  for (const _plan of enumeratePlans(job, shape, space, {}, stats)) { /* counting only */ }
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const lines = [describeJob(job, calibration)];
  lines.push(`enumerated ${stats.enumerated.toLocaleString('en-US')} candidates in ${wallS.toFixed(2)} s · `
    + `valid (Megatron accepts) ${stats.valid.toLocaleString('en-US')} · pruned ${(stats.enumerated - stats.valid).toLocaleString('en-US')}`);
  const pruned = orderedPruned(stats);
  const width = Math.max(0, ...Object.keys(pruned).map((k) => k.length));
  for (const [rule, n] of Object.entries(pruned)) lines.push(`  ${rule.padEnd(width)}  ${n.toLocaleString('en-US')}`);
  if (stats.valid === 0) lines.push(explainEmpty(stats, job, space));
  return { text: lines.join('\n'), valid: stats.valid };
}
