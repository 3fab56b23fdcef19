import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root, found from this file's place (src/paths.ts compiles to dist/src/paths.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const COST_MODELS_DIR = path.join(REPO_ROOT, 'cost-models');
export const SEARCH_SPACES_DIR = path.join(REPO_ROOT, 'search-spaces');
