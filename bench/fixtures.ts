/**
 * The benchmarks' jobs: fixture files read through the real loader (loadJob), as `moefold` reads them, so the
 * benchmarked models are the fixtures' (fixtures/models/, each naming its published source). Paths are relative to
 * the repository root; `overrides` are the command-line overrides (--gpus, --precision, ...).
 */
import path from 'node:path';
import { REPO_ROOT } from '../src/paths.js';
import { loadJob, type JobOverrides } from '../src/job/load-job.js';
import type { Job } from '../src/job/types.js';

export function benchJob(file: string, overrides: JobOverrides = {}): Job {
  return { ...loadJob(path.join(REPO_ROOT, file), overrides), source: file };
}

export const MIXTRAL_8X22B_FILE = 'fixtures/models/mixtral-8x22b.yaml';
export const DEEPSEEK_V3_FILE = 'fixtures/models/deepseek-v3.yaml';
export const LLAMA3_70B_FILE = 'fixtures/models/llama3-70b.yaml';
