import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

/** moefold's version, from package.json (recorded in every result so a baseline says what wrote it). */
export const VERSION: string = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
