import fs from 'node:fs';
import { calibrationLabel, type Calibration } from '../cost/calibration.js';
import path from 'node:path';
import type { Job, ModelShape } from '../job/types.js';
import { InputError } from '../job/errors.js';
import { calibrationNames } from '../paths.js';
import type { RankedPlan } from '../search/ranked.js';
import type { SearchResult } from '../search/pool.js';
import { headroomBytes, leavesMargin, type RankOptions } from '../search/objective.js';
import { exportPlan, exportFileName, isExportFileName, type ExportFormat } from '../export/index.js';
import type { ResultJson } from '../plans/result.js';
import { plansFileText, withCalibrationCopies } from '../plans/plans-file.js';
import { describeMapping } from '../render/explain.js';
import { GIB } from '../render/numbers.js';
import { TABLE_WIDTH } from '../render/plans-table.js';
import { writeFilesAtomic } from '../io/write-files.js';
import { explainEmpty, type SearchSpace } from '../enumerate/index.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** The lines under the counts: the objective, the tie tolerance and where it comes from, the memory margin (≤ 120 columns). */
export function rankingHeader(search: SearchResult, calibration: Calibration): string {
  const { tie, rank, tieSource } = search;
  const of = rank.objective === 'memory' ? 'the smallest peak' : 'the best';
  let source = '--tie';
  if (tieSource && tieSource.file === '') source = 'no cross-validation file: exact ties only';
  else if (tieSource?.derivedFrom) source = `${tieSource.measuredOn}'s cross-validated error: ${calibration.name} derives from it`;
  else if (tieSource) source = 'the model\'s cross-validated error';
  const floor = rank.objective === 'memory' && rank.minTokensPerSPerGpu ? ` (≥ ${rank.minTokensPerSPerGpu} tokens/s/GPU)` : '';
  const then = rank.objective === 'memory' ? 'by throughput, then simplicity' : 'by headroom, then simplicity, then throughput';
  const head = `ranking by ${rank.objective}${floor}: plans within ${pct(rank.tie)} of ${of} are a tie`;
  return [
    head.length + source.length + 3 <= TABLE_WIDTH ? `${head} (${source})` : `${head}\n  (${source})`,
    `  tie: ${tie.plans.toLocaleString('en-US')} plans → ${tie.rows.toLocaleString('en-US')} rows (equal plans collapsed), ordered ${then}`
      + (tie.overflowed ? '\n  the tie set overflowed: only its faster plans were ordered by these rules' : ''),
    `  memory margin ${(rank.memoryMarginBytes / GIB).toFixed(1)} GiB: ${search.ranked.toLocaleString('en-US')} of `
      + `${search.fitting.toLocaleString('en-US')} fitting plans leave it free and are ranked`,
  ].join('\n');
}

/** A line of parts joined by ' · ', broken before a part where it would pass `width` (continuation indented). */
export function wrapAtSeparator(line: string, width: number, sep = ' · '): string {
  if (line.length <= width) return line;
  const out: string[] = [];
  let cur = '';
  for (const part of line.split(sep)) {
    if (cur !== '' && cur.length + sep.length + part.length > width) {
      out.push(cur);
      cur = `  ${part}`;
    } else cur = cur === '' ? part : `${cur}${sep}${part}`;
  }
  out.push(cur);
  return out.join('\n');
}

/** The line after the last row in the tie, when rows outside it follow. */
export function tieRule(search: SearchResult): string {
  const slower = search.rank.objective === 'memory' ? 'more memory than' : 'slower than';
  return `── below: outside the tie (more than ${pct(search.rank.tie)} ${slower} the best) ──`;
}

/** Why valid plans exist but none can be recommended. */
export function explainNoFit(job: Job, search: SearchResult, rank: RankOptions, calibration: Calibration): string {
  const lines: string[] = [];
  const margin = rank.memoryMarginBytes ?? 0;
  const m = search.mostHeadroom;
  if (search.fitting > 0 && m && !leavesMargin(m.estimate, margin)) {
    const isMoe = job.model.num_experts > 0;
    const free = headroomBytes(m.estimate);
    lines.push(`moefold: ${search.fitting.toLocaleString('en-US')} plans fit in memory, but none leaves the --memory-margin `
      + `${(margin / GIB).toFixed(1)} GiB free: the most is ${(free / GIB).toFixed(1)} GiB `
      + `(peak ${(m.estimate.peakMemBytes / GIB).toFixed(1)} of ${(m.estimate.usableMemBytes / GIB).toFixed(1)} GiB usable), `
      + `with ${describeMapping(m.plan, isMoe, job.model.num_layers)}`);
    lines.push(`  try: --memory-margin ${(Math.floor((10 * free) / GIB) / 10).toFixed(1)} (at your own risk), more GPUs (--gpus),`
      + ' a smaller --global-batch-size, or a search space that allows full recompute');
    return lines.join('\n');
  }
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
export function writeOutDir(dir: string, job: Job, shape: ModelShape, result: ResultJson, top: RankedPlan[], pareto: RankedPlan[],
  formats: ExportFormat[]): { plans: number; pareto: number; refused: number } {
  const copied = withCalibrationCopies(result);
  const files: [string, string][] = [['plans.json', plansFileText(copied.result)], ...copied.copies];
  let refused = 0;
  const each: [RankedPlan, number, boolean][] = [...top.map((r, i): [RankedPlan, number, boolean] => [r, i + 1, false]),
    ...pareto.map((r, i): [RankedPlan, number, boolean] => [r, i + 1, true])];
  each.forEach(([r, rank, isPareto]) => {
    for (const f of formats) {
      const name = isPareto ? paretoFileName(exportFileName(f, rank)) : exportFileName(f, rank);
      try {
        files.push([name, exportPlan(f, job, shape, r.plan, { rank })]);
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
    if ((isExportFileName(name) || isExportFileName(name.replace(/^pareto-/, 'plan-'))) && !written.has(name)) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
  return { plans: top.length, pareto: pareto.length, refused };
}

/** `plan-3.sh` → `pareto-3.sh`: the launch config of the third plan of the Pareto front (lowest memory first). */
export function paretoFileName(planFileName: string): string {
  return planFileName.replace(/^plan-/, 'pareto-');
}

/**
 * When a finished search has nothing to show (interrupted before any plan, no valid plan, none ranked), writes why
 * on stderr and returns the exit code (130 interrupted, 2 otherwise); null when there are plans. `nothing` ends the
 * interrupted message ("nothing to show", "no report written").
 */
export function noPlanExit(job: Job, space: SearchSpace, calibration: Calibration, search: SearchResult, nothing: string): number | null {
  if (search.interrupted && search.top.length === 0) {
    process.stderr.write(`moefold: interrupted before any plan that fits was scored: ${nothing}\n`);
    return 130;
  }
  if (search.stats.valid === 0) {
    process.stderr.write(`${explainEmpty(search.stats, job, space)}\n`);
    return search.interrupted ? 130 : 2;
  }
  if (search.top.length === 0) {
    process.stderr.write(`${explainNoFit(job, search, search.rank, calibration)}\n`);
    return search.interrupted ? 130 : 2;
  }
  return null;
}
