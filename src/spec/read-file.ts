/** Reads a YAML (or JSON, which YAML reads too) file into a mapping; every failure is a one-line InputError. */
import fs from 'node:fs';
import yaml from 'js-yaml';
import { inputError } from './errors.js';
import { gotText } from './fields.js';

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What kind of thing a value is, in words, for "must be a mapping (got …)". */
export function kindText(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v === 'string' ? 'the text' : `the ${typeof v}`} ${gotText(v)}`;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw inputError(file, '', 'file not found');
    if (code === 'EISDIR') throw inputError(file, '', 'is a directory, not a job file');
    if (code === 'EACCES') throw inputError(file, '', 'cannot read the file (permission denied)');
    throw inputError(file, '', `cannot read the file (${code ?? (e as Error).message})`);
  }
}

/** Parses `file` and requires a mapping at top level. */
export function readMappingFile(file: string): Record<string, unknown> {
  const text = readText(file);
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      const line = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
      throw inputError(file, '', `YAML syntax error${line}: ${e.reason}`);
    }
    throw inputError(file, '', `cannot parse the file (${(e as Error).message.split('\n')[0]})`);
  }
  if (doc === undefined || doc === null) throw inputError(file, '', 'is empty (expected a mapping of fields)');
  if (!isMapping(doc)) throw inputError(file, '', `must be a mapping of fields (got ${kindText(doc)})`);
  return doc;
}
