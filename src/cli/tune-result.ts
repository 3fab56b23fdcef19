import fs from 'node:fs';
import path from 'node:path';
import type { Job, ModelShape } from '../spec/types.js';
import { InputError } from '../spec/errors.js';
import type { RankedPlan } from '../search/ranked.js';
import type { SearchResult } from '../search/pool.js';
import type { RankOptions } from '../search/objective.js';
import { megatronLaunch, exportPlan, exportFileName, type ExportFormat } from '../export/index.js';
import { planToJson, type PlanJson } from '../render/plan-json.js';
import { searchJson, type ResultJson } from '../render/result-json.js';
import { describeMapping } from '../render/explain.js';
import { GIB } from '../render/numbers.js';
import { VERSION } from './version.js';

export function launchJson(job: Job, shape: ModelShape, r: RankedPlan): PlanJson['launch'] {
  const { args, env } = megatronLaunch(job, shape, r.plan);
  return { megatron_args: args, env };
}

export function rankedToJson(job: Job, shape: ModelShape, plans: RankedPlan[]): PlanJson[] {
  return plans.map((r, i) => planToJson(i + 1, r.plan, r.estimate, launchJson(job, shape, r)));
}

export function buildResult(job: Job, shape: ModelShape, args: { objective: string; space?: string; timing: boolean; pareto: boolean },
  search: SearchResult): ResultJson {
  const result: ResultJson = {
    moefold: { version: VERSION, objective: args.objective, space: args.space ?? 'search-spaces/default.yaml' },
    job_file: job.source,
    model: job.model,
    training: job.training,
    cluster: job.cluster,
    search: searchJson(search.stats, search.fitting, search.prunedByStaticMemory, args.timing ? search.wallS : null, search.interrupted),
    plans: rankedToJson(job, shape, search.top),
  };
  if (args.pareto) result.pareto = rankedToJson(job, shape, search.pareto);
  return result;
}

/** Why valid plans exist but none can be recommended. */
export function explainNoFit(job: Job, search: SearchResult, rank: RankOptions): string {
  const lines: string[] = [];
  if (search.fitting > 0 && rank.objective === 'memory') {
    lines.push(`moefold: ${search.fitting} plans fit in memory, but none reaches --min-throughput ${rank.minTokensPerSPerGpu} tokens/s/GPU: lower the floor`);
    return lines.join('\n');
  }
  lines.push(`moefold: none of the ${search.stats.valid.toLocaleString('en-US')} valid plans fits in GPU memory on ${job.cluster.gpus} × ${job.cluster.gpu}`);
  const s = search.smallestNotFitting;
  if (s) {
    const isMoe = job.model.num_experts > 0;
    lines.push(`  smallest footprint: ${(s.estimate.peakMemBytes / GIB).toFixed(1)} GiB of ${(s.estimate.usableMemBytes / GIB).toFixed(1)} GiB usable,`
      + ` with ${describeMapping(s.plan, isMoe)}`);
  }
  lines.push('  try: more GPUs (--gpus), a larger-memory GPU (--gpu h200), a smaller --global-batch-size or --seq-length,'
    + ' or a search space that allows full recompute and higher PP/EP');
  return lines.join('\n');
}

/**
 * Writes plans.json and the launch configs of every top plan into `dir`. Every file is produced before anything
 * is written, then written to a temporary name and renamed. A format that cannot express a plan gets
 * `<file>.refused.txt` with the reason instead. Returns how many exports were refused.
 */
export function writeOutDir(dir: string, job: Job, shape: ModelShape, result: ResultJson, top: RankedPlan[], formats: ExportFormat[]): number {
  const files: [string, string][] = [['plans.json', `${JSON.stringify(result, null, 2)}\n`]];
  let refused = 0;
  top.forEach((r, i) => {
    for (const f of formats) {
      const name = exportFileName(f, i + 1);
      try {
        files.push([name, exportPlan(f, job, shape, r.plan, { rank: i + 1 })]);
      } catch (e) {
        // A format that cannot express this plan (e.g. torchtitan and fp8): say why, keep the other files.
        if (!(e instanceof InputError)) throw e;
        files.push([`${name}.refused.txt`, `${e.message}\n`]);
        refused++;
      }
    }
  });
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`--out: cannot create folder ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const temps: [string, string][] = [];
  try {
    for (const [name, text] of files) {
      const final = path.join(dir, name);
      const tmp = `${final}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, text, { mode: name.endsWith('.sh') || name.endsWith('.sbatch') ? 0o755 : 0o644 });
      temps.push([tmp, final]);
    }
    for (const [tmp, final] of temps) fs.renameSync(tmp, final);
  } catch (e) {
    for (const [tmp] of temps) fs.rmSync(tmp, { force: true });
    throw new InputError(`--out: cannot write into ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return refused;
}
