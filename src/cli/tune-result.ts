import fs from 'node:fs';
import { calibrationLabel, type Calibration } from '../cost/calibration.js';
import path from 'node:path';
import type { Job, ModelShape } from '../job/types.js';
import { InputError } from '../job/errors.js';
import { calibrationNames } from '../paths.js';
import type { RankedPlan } from '../search/ranked.js';
import type { SearchResult } from '../search/pool.js';
import type { RankOptions } from '../search/objective.js';
import { exportPlan, exportFileName, isExportFileName, type ExportFormat } from '../export/index.js';
import type { ResultJson } from '../plans/result.js';
import { plansFileText, withCalibrationCopies } from '../plans/plans-file.js';
import { describeMapping } from '../render/explain.js';
import { GIB } from '../render/numbers.js';
import { writeFilesAtomic } from '../io/write-files.js';

/** Why valid plans exist but none can be recommended. */
export function explainNoFit(job: Job, search: SearchResult, rank: RankOptions, calibration: Calibration): string {
  const lines: string[] = [];
  if (search.fitting > 0 && rank.objective === 'memory') {
    lines.push(`moefold: ${search.fitting} plans fit in memory, but none reaches --min-throughput ${rank.minTokensPerSPerGpu} tokens/s/GPU: lower the floor`);
    return lines.join('\n');
  }
  lines.push(`moefold: none of the ${search.stats.valid.toLocaleString('en-US')} valid plans fits in GPU memory on ${job.cluster.gpus} × ${calibrationLabel(calibration)}`);
  const s = search.smallestNotFitting;
  if (s) {
    const isMoe = job.model.num_experts > 0;
    lines.push(`  smallest footprint: ${(s.estimate.peakMemBytes / GIB).toFixed(1)} GiB of ${(s.estimate.usableMemBytes / GIB).toFixed(1)} GiB usable`
      + ` (allocated ${(s.estimate.allocatedPeakBytes / GIB).toFixed(1)} GiB),`
      + ` with ${describeMapping(s.plan, isMoe, job.model.num_layers)}`);
  }
  const others = calibrationNames().filter((g) => g !== calibration.name);
  lines.push(`  try: more GPUs (--gpus), another GPU (--gpu ${others.join(' | ')}), a smaller --global-batch-size or --seq-length,`
    + ' or a search space that allows full recompute and higher PP/EP');
  return lines.join('\n');
}

/**
 * Writes plans.json and the launch configs of every top plan into `dir` (made ready by prepareOutDir). Every file
 * is produced before anything is written, then all are written atomically (io/write-files.ts). A format that cannot express a plan gets
 * `<file>.refused.txt` with the reason instead. Returns how many exports were refused.
 */
export function writeOutDir(dir: string, job: Job, shape: ModelShape, result: ResultJson, top: RankedPlan[], formats: ExportFormat[]): number {
  const copied = withCalibrationCopies(result);
  const files: [string, string][] = [['plans.json', plansFileText(copied.result)], ...copied.copies];
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
  const written = new Set(files.map(([name]) => name));
  writeFilesAtomic(
    files.map(([name, text]) => ({ file: path.join(dir, name), text, mode: name.endsWith('.sh') || name.endsWith('.sbatch') ? 0o755 : 0o644 })),
    '--out',
  );
  // Launch configs of an earlier run into the same folder would no longer match plans.json: remove them, once the
  // new files are in place, and only files moefold names so (plan-N.<format suffix>, and its .refused.txt).
  for (const name of fs.readdirSync(dir)) {
    if (isExportFileName(name) && !written.has(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
  return refused;
}
