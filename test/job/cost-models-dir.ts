/**
 * Test helper: a throw-away cost-models directory, so tests do not depend on which calibrations exist. Each file
 * is a copy of the shipped H100 calibration under another name (the loader reads a GPU's NVLink domain from it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COST_MODELS_DIR } from '../../src/paths.js';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** Also a scratch directory: tests may add files to it; it is removed when the test process exits. */
export function makeCostModelsDir(gpus: readonly string[] = ['b200', 'h100-sxm', 'h200']): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-cost-models-'));
  made.push(dir);
  const h100 = fs.readFileSync(path.join(COST_MODELS_DIR, 'h100-sxm.yaml'), 'utf8');
  for (const g of gpus) fs.writeFileSync(path.join(dir, `${g}.yaml`), `# copy of h100-sxm.yaml for tests, as ${g}\n${h100}`);
  return dir;
}
