import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real executable (bin/moefold.js) as a user would, from the repository root. */
export function moefold(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/moefold.js'), ...args], {
    cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
