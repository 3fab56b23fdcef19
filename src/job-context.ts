/**
 * The inputs of one run, loaded and checked once and shared by every command (tune, score, check, export):
 * the job (file + command-line overrides), the model's shape, the search space (with --fix), and the GPU
 * calibration (the GPU's, with the job's overlays applied in order); the scorer's per-job context is built on first use. Warnings about the job go to stderr here,
 * once, whichever command loaded it.
 */
import type { Job, ModelShape } from './job/types.js';
import { loadJob, type JobOverrides } from './job/load-job.js';
import { modelShape } from './job/shape.js';
import { InputError } from './job/errors.js';
import { printJobWarnings } from './job/warnings.js';
import { loadCalibrationStack, type Calibration } from './cost/calibration.js';
import { makeScoreContext, type ScoreContext } from './cost/score.js';
import { applyFixes, loadSearchSpace, type SearchSpace } from './enumerate/index.js';

export interface JobContext {
  job: Job;
  shape: ModelShape;
  space: SearchSpace;
  calibration: Calibration;
  /** The scorer's per-job context (memos and constants), made on first call. */
  scoreContext(): ScoreContext;
}

export interface ContextOptions {
  /** Search-space file (default search-spaces/default.yaml). */
  space?: string;
  /** `--fix` pins, e.g. "tp=2,ep=8". */
  fix?: string;
  /** Print the job's warnings on stderr (default true). */
  warn?: boolean;
}

/** A context for a job already loaded (e.g. the job recorded in a plans.json). */
export function contextOf(job: Job, opts: ContextOptions = {}): JobContext {
  if (opts.warn ?? true) printJobWarnings(job);
  const shape = modelShape(job.model);
  // An empty --space or --fix is refused, never read as "the default space" or "nothing pinned".
  if (opts.space !== undefined && opts.space.trim() === '') throw new InputError('--space: needs a value (a search-space file)');
  let space = loadSearchSpace(opts.space);
  if (opts.fix !== undefined) space = applyFixes(space, opts.fix);
  const calibration = loadCalibrationStack(job.cluster.gpu, job.cluster.calibrations ?? []);
  let score: ScoreContext | null = null;
  return {
    job, shape, space, calibration,
    scoreContext: () => (score ??= makeScoreContext(job, shape, calibration)),
  };
}

/** Reads a job file with the command-line overrides and loads everything a command needs for it. */
export function loadJobContext(file: string, overrides: JobOverrides, opts: ContextOptions = {}): JobContext {
  return contextOf(loadJob(file, overrides), opts);
}
