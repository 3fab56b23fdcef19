/**
 * The points of a sweep: the job file with the command line's overrides, once per (GPU kind, sequence length,
 * GPU count), each read by the same loader as `moefold tune` reads it (so a point's job is exactly the job
 * `tune --gpu G --seq-length S --gpus N` plans). A point whose job the loader refuses is kept, with the reason.
 */
import type { Job } from '../job/types.js';
import { loadJob, type JobOverrides } from '../job/load-job.js';
import { InputError } from '../job/errors.js';
import { jobWarnings } from '../job/warnings.js';
import { loadCalibration, loadCalibrationStack, type Calibration } from '../cost/calibration.js';
import { oneLine } from '../text/one-line.js';

export interface SweepAxes {
  /** --gpu entries; undefined: the job's own GPU. */
  gpuKinds?: string[];
  /** --seq-length entries; undefined: the job's own. */
  seqLengths?: number[];
  /** --gpus entries; undefined: the job's own count. */
  gpuCounts?: number[];
}

export interface SweepPoint {
  /** The --gpu entry this point was made for (undefined: the job's own GPU). */
  gpuEntry: string | undefined;
  gpuCount: number | undefined;
  seqLength: number | undefined;
  /** The job and its calibration, or null with `error` when the loader refused them. */
  job: Job | null;
  calibration: Calibration | null;
  error: InputError | null;
  /** The error as a row shows it: `invalid job: …`, without the job file's name (every row has the same file). */
  reason: string | null;
}

/** Points in the order they are shown: by GPU kind, then sequence length, then GPU count (each as given). */
export function sweepPoints(file: string, overrides: JobOverrides, axes: SweepAxes): SweepPoint[] {
  const kinds: (string | undefined)[] = axes.gpuKinds ?? [undefined];
  const seqs: (number | undefined)[] = axes.seqLengths ?? [undefined];
  const counts: (number | undefined)[] = axes.gpuCounts ?? [undefined];
  const calibrations = new Map<string, Calibration | InputError>();
  const points: SweepPoint[] = [];
  for (const gpuEntry of kinds) {
    for (const seqLength of seqs) {
      for (const gpuCount of counts) {
        const o: JobOverrides = { ...overrides };
        if (gpuEntry !== undefined) o.gpu = gpuEntry;
        if (seqLength !== undefined) o.seqLength = seqLength;
        if (gpuCount !== undefined) o.gpus = gpuCount;
        const point: SweepPoint = { gpuEntry, gpuCount, seqLength, job: null, calibration: null, error: null, reason: null };
        try {
          point.job = loadJob(file, o);
          point.calibration = cachedCalibration(calibrations, point.job);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          point.job = null;
          point.error = e;
          point.reason = invalidJobReason(file, e);
          // The row still names its GPU: the --gpu entry's own calibration (checked when the list was read).
          point.calibration = gpuEntry !== undefined ? baseCalibration(calibrations, gpuEntry) : null;
        }
        points.push(point);
      }
    }
  }
  return points;
}

function invalidJobReason(file: string, e: InputError): string {
  const msg = oneLine(e.message);
  return `invalid job: ${msg.startsWith(`${file}: `) ? msg.slice(file.length + 2) : msg}`;
}

/** Each (GPU, overlays) calibration is read once for the whole sweep. */
function cachedCalibration(cache: Map<string, Calibration | InputError>, job: Job): Calibration {
  const overlays = job.cluster.calibrations ?? [];
  const key = [job.cluster.gpu, ...overlays].join('\0');
  let cal = cache.get(key);
  if (cal === undefined) {
    try {
      cal = loadCalibrationStack(job.cluster.gpu, overlays);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      cal = e;
    }
    cache.set(key, cal);
  }
  if (cal instanceof InputError) throw cal;
  return cal;
}

function baseCalibration(cache: Map<string, Calibration | InputError>, gpu: string): Calibration | null {
  let cal = cache.get(gpu);
  if (cal === undefined) {
    try {
      cal = loadCalibration(gpu);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      cal = e;
    }
    cache.set(gpu, cal);
  }
  return cal instanceof InputError ? null : cal;
}

/**
 * When no point could be read, the sweep is bad input: the first point's error, as `tune` would give it. A
 * sweep with at least one readable point shows the others as rows with their reasons.
 */
export function refuseWhenNoneLoads(points: SweepPoint[]): void {
  if (points.length > 0 && points.every((p) => p.error !== null)) throw points[0].error as InputError;
}

/** The job's warnings over all points, each distinct line once (most hold for every point). */
export function sweepWarnings(points: SweepPoint[]): string[] {
  const seen = new Set<string>();
  for (const p of points) if (p.job) for (const w of jobWarnings(p.job)) seen.add(oneLine(w));
  return [...seen];
}
