import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../job/errors.js';

export interface JobBaselinePair {
  job: string;
  baseline: string;
}

/** Baseline file name for a job file in folder mode: `NAME.yaml` → `NAME.baseline.json`. */
export function baselineFor(jobFile: string): string {
  const dir = path.dirname(jobFile);
  const base = path.basename(jobFile).replace(/\.(ya?ml|json)$/i, '');
  return path.join(dir, `${base}.baseline.json`);
}

/**
 * Folder mode: every job file that has its `NAME.baseline.json` beside it, in name order; other files (a
 * workflow YAML, notes) are left alone. With --update, every `*.yaml` / `*.yml` file is taken as a job, and
 * a missing baseline is created.
 */
export function findJobBaselinePairs(dir: string, update: boolean): JobBaselinePair[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    throw new InputError(`${dir}: cannot read the folder`);
  }
  const candidates = names.filter((n) => /\.(ya?ml)$/i.test(n) || (/\.json$/i.test(n) && !n.endsWith('.baseline.json')));
  const pairs: JobBaselinePair[] = [];
  for (const n of candidates) {
    const job = path.join(dir, n);
    const baseline = baselineFor(job);
    const hasBaseline = fs.existsSync(baseline);
    if (hasBaseline || (update && /\.(ya?ml)$/i.test(n))) pairs.push({ job, baseline });
  }
  if (pairs.length === 0) {
    throw new InputError(update
      ? `${dir}: no job files (*.yaml) in the folder`
      : `${dir}: no job file with a NAME.baseline.json beside it (create baselines with \`moefold check ${dir} --update\`)`);
  }
  return pairs;
}
