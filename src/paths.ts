import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root, found from this file's place (src/paths.ts compiles to dist/src/paths.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const COST_MODELS_DIR = path.join(REPO_ROOT, 'cost-models');
export const SEARCH_SPACES_DIR = path.join(REPO_ROOT, 'search-spaces');

/** The GPU calibrations present now in `dir` (file names without .yaml), sorted; read at every call. */
export function calibrationNames(dir: string = COST_MODELS_DIR): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.yaml') && !n.startsWith('.'))
    .map((n) => n.slice(0, -'.yaml'.length))
    .sort();
}
