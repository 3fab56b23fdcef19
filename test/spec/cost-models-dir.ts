/** Test helper: a throw-away cost-models directory, so tests do not depend on which calibrations exist. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** Also a scratch directory: tests may add files to it; it is removed when the test process exits. */
export function makeCostModelsDir(gpus: readonly string[] = ['b200', 'h100-sxm', 'h200']): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-cost-models-'));
  made.push(dir);
  for (const g of gpus) fs.writeFileSync(path.join(dir, `${g}.yaml`), `# stub calibration for tests: ${g}\n`);
  return dir;
}
