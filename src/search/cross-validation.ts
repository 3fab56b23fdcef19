/**
 * The model's measured cross-validated error: cost-models/fit/<gpu>.cross-validation.yaml, written by
 * `npm run accuracy -- --write-cv` (scripts/accuracy.ts). Its leave-one-group-out median |error| of tokens/s/GPU is
 * the default tie tolerance of the ranking (`tune --tie`). One home: this loader and the writer's format.
 * Calibrations without measured runs of their own (h200-sxm, b200 derive their fitted constants from h100-sxm) use
 * the h100-sxm figure and say so (`derivedFrom`).
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { COST_MODELS_DIR } from '../paths.js';

/** The calibration whose fit the others carry over (cost-models/fit/h100-sxm.free.yaml). */
export const FITTED_CALIBRATION = 'h100-sxm';

export interface CrossValidation {
  calibration: string;
  runsFile: string;
  runs: number;
  groups: number;
  /** Median over every run of |predicted / measured − 1| tokens/s/GPU, each group predicted by refitted constants. */
  logoMedianAbsError: number;
  inSampleMedianAbsError: number;
  /** YYYY-MM-DD of the accuracy run. */
  date: string;
}

export interface TieDefault {
  fraction: number;
  /** The calibration whose measured runs gave the figure. */
  measuredOn: string;
  /** Set when the figure is another calibration's (the one this calibration derives its constants from). */
  derivedFrom?: string;
  /** The file, relative to the repository (for the header line). */
  file: string;
}

export function crossValidationFile(calibrationName: string): string {
  return path.join(COST_MODELS_DIR, 'fit', `${calibrationName}.cross-validation.yaml`);
}

export function formatCrossValidation(cv: CrossValidation): string {
  const pct = (x: number): number => Math.round(x * 10000) / 10000;
  return [
    '# Written by npm run accuracy -- --write-cv (scripts/accuracy.ts); do not edit. The cost model\'s measured error of',
    '# tokens/s/GPU: leave-one-group-out (each group of runs predicted by the free constants refitted without it) and',
    '# in-sample (the calibration as it is). moefold tune uses logo_median_abs_error as the default --tie.',
    `calibration: ${cv.calibration}`,
    `runs_file: ${cv.runsFile}`,
    `runs: ${cv.runs}`,
    `groups: ${cv.groups}`,
    `logo_median_abs_error: ${pct(cv.logoMedianAbsError)}`,
    `in_sample_median_abs_error: ${pct(cv.inSampleMedianAbsError)}`,
    `date: '${cv.date}'`,
    '',
  ].join('\n');
}

function readFraction(file: string): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as { logo_median_abs_error?: unknown } | null;
  const v = doc?.logo_median_abs_error;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1 ? v : undefined;
}

const cache = new Map<string, TieDefault | null>();

/** The default tie tolerance for a calibration, or null where no cross-validation file exists (then ties are exact). */
export function defaultTie(calibrationName: string): TieDefault | null {
  const hit = cache.get(calibrationName);
  if (hit !== undefined) return hit;
  const rel = (f: string): string => path.relative(path.dirname(COST_MODELS_DIR), f);
  let out: TieDefault | null = null;
  const own = crossValidationFile(calibrationName);
  const ownFraction = readFraction(own);
  if (ownFraction !== undefined) out = { fraction: ownFraction, measuredOn: calibrationName, file: rel(own) };
  else {
    const base = crossValidationFile(FITTED_CALIBRATION);
    const f = readFraction(base);
    if (f !== undefined) out = { fraction: f, measuredOn: FITTED_CALIBRATION, derivedFrom: FITTED_CALIBRATION, file: rel(base) };
  }
  cache.set(calibrationName, out);
  return out;
}
