import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../spec/errors.js';

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
 * Folder mode: every job file (`*.yaml`, `*.yml`, or a Hugging Face `*.json` that is not a baseline) with its
 * `NAME.baseline.json` beside it, in name order. Without --update a job lacking its baseline is bad input.
 */
export function findJobBaselinePairs(dir: string, allowMissingBaseline: boolean): JobBaselinePair[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    throw new InputError(`${dir}: cannot read the folder`);
  }
  const jobs = names.filter((n) => /\.(ya?ml)$/i.test(n) || (/\.json$/i.test(n) && !n.endsWith('.baseline.json')));
  if (jobs.length === 0) throw new InputError(`${dir}: no job files (*.yaml, *.yml, config *.json) in the folder`);
  const pairs: JobBaselinePair[] = [];
  for (const n of jobs) {
    const job = path.join(dir, n);
    const baseline = baselineFor(job);
    if (!allowMissingBaseline && !fs.existsSync(baseline)) {
      throw new InputError(`${job}: no baseline ${path.basename(baseline)} beside it (create one with \`moefold check ${dir} --update\`)`);
    }
    pairs.push({ job, baseline });
  }
  return pairs;
}
