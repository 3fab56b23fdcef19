/**
 * Reads the input files (job, model, cluster, search-space and plans files) into parsed documents; every failure
 * is a one-line InputError naming the file.
 *
 * Bounds, so a hostile file costs little: only regular files are read (a device such as /dev/zero, a FIFO or a
 * socket is refused before it is opened, and again after, by fstat), at most MAX_INPUT_BYTES, read in fixed-size
 * chunks that stop one byte past the limit (so a file whose stat size lies, as /proc files report 0, is bounded
 * too). The text must be UTF-8 (a leading BOM is dropped). Every mapping of the parsed document is walked once
 * (alias-shared parts are visited once, without recursion) and a `__proto__`, `constructor` or `prototype` key
 * is refused: copied into a plain object such a key replaces its prototype, so a dense model could inherit
 * `num_experts` past validation.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { inputError } from './errors.js';
import { excerpt, gotText, keyText } from './fields.js';

/** The largest input file read: 16 MiB, about 500x the largest plans file moefold writes with --top 1000. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

/** Keys that change an object's prototype chain when copied into a plain object. */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What kind of thing a value is, in words, for "must be a mapping (got …)" (a field's value: quoted, bounded). */
export function kindText(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v === 'string' ? 'the text' : `the ${typeof v}`} ${gotText(v)}`;
}

/** The kind of a whole document, without any of its content (the file may be anything: /etc/passwd, a token). */
export function documentKindText(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `a text of ${v.length} characters`;
  return `a ${typeof v}`;
}

function nodeKind(st: fs.Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function readFailure(file: string, e: unknown, what: string): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') throw inputError(file, '', 'file not found');
  if (code === 'EISDIR') throw inputError(file, '', `is a directory, not a ${what}`);
  if (code === 'EACCES' || code === 'EPERM') throw inputError(file, '', 'cannot read the file (permission denied)');
  if (code === 'ENAMETOOLONG') throw inputError(file, '', 'cannot read the file (the name is too long)');
  if (code === 'ENOTDIR') throw inputError(file, '', 'file not found (a part of the path is not a directory)');
  if (code === 'ELOOP') throw inputError(file, '', 'cannot read the file (too many symbolic links)');
  throw inputError(file, '', `cannot read the file (${code ?? 'error'})`);
}

function tooLarge(file: string): never {
  throw inputError(file, '', `is larger than ${MAX_INPUT_BYTES / (1024 * 1024)} MiB, the most moefold reads from one input file`);
}

/**
 * The text of an input file: a regular file of at most MAX_INPUT_BYTES, UTF-8, without a leading BOM.
 * `what` names the kind of file in messages ("job file", "plans file", "search-space file").
 */
export function readInputText(file: string, what = 'job file'): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    readFailure(file, e, what);
  }
  if (st.isDirectory()) throw inputError(file, '', `is a directory, not a ${what}`);
  if (!st.isFile()) throw inputError(file, '', `is ${nodeKind(st)}, not a ${what} (only regular files are read)`);
  if (st.size > MAX_INPUT_BYTES) tooLarge(file);
  let fd: number;
  try {
    // O_NONBLOCK: should the path have turned into a FIFO since stat, opening it does not wait for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    readFailure(file, e, what);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    const st2 = fs.fstatSync(fd);
    if (!st2.isFile()) throw inputError(file, '', `is ${nodeKind(st2)}, not a ${what} (only regular files are read)`);
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, MAX_INPUT_BYTES + 1 - total));
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        readFailure(file, e, what);
      }
      if (n === 0) break;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      if (total > MAX_INPUT_BYTES) tooLarge(file);
    }
  } finally {
    fs.closeSync(fd);
  }
  try {
    // fatal: bytes that are not UTF-8 are an error, not U+FFFD; the BOM (if any) is dropped.
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, total));
  } catch {
    throw inputError(file, '', 'is not UTF-8 text (save it as UTF-8)');
  }
}

/**
 * Refuses a `__proto__`, `constructor` or `prototype` key in any mapping of `doc`. Each object is visited once
 * (a YAML alias bomb has few distinct nodes) with an explicit stack, so depth and sharing cost nothing extra.
 */
export function checkKeys(doc: unknown, file: string): void {
  if (typeof doc !== 'object' || doc === null) return;
  const seen = new Set<object>();
  const stack: { node: object; path: string }[] = [{ node: doc, path: '' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: object; path: string };
    if (seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) {
        const v: unknown = node[i];
        if (typeof v === 'object' && v !== null && !seen.has(v)) stack.push({ node: v, path: `${path}[${i}]` });
      }
      continue;
    }
    for (const key of Object.keys(node)) {
      const where = path === '' ? keyText(key) : `${path}.${keyText(key)}`;
      if (FORBIDDEN_KEYS.includes(key)) {
        throw inputError(file, where, `key not allowed (${FORBIDDEN_KEYS.join(', ')} are refused in every input file)`);
      }
      const v: unknown = (node as Record<string, unknown>)[key];
      if (typeof v === 'object' && v !== null && !seen.has(v)) stack.push({ node: v, path: where.length > 120 ? `${where.slice(0, 120)}…` : where });
    }
  }
}

/** Parses YAML text read from `file`; a syntax error is one line with its position (no excerpt of the file). */
export function parseYaml(text: string, file: string): unknown {
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (e) {
    if (e instanceof yaml.YAMLException) {
      const line = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
      throw inputError(file, '', `YAML syntax error${line}: ${reasonText(e.reason)}`);
    }
    if (e instanceof RangeError) throw inputError(file, '', 'cannot parse the file (nested too deeply)');
    throw inputError(file, '', 'cannot parse the file');
  }
  checkKeys(doc, file);
  return doc;
}

/** js-yaml's reason, which may name a tag or an alias from the file: kept short and escaped. */
function reasonText(reason: string): string {
  const r = reason.split('\n')[0];
  return /^[\x20-\x7e]{0,100}$/.test(r) ? r : excerpt(r, 80).slice(1).replace(/"(…|$)/, '$1');
}

/** Parses JSON text read from `file`; an error says where (line, column), never quoting the file. */
export function parseJson(text: string, file: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : '';
    if (/Unexpected end of JSON input/.test(msg)) throw inputError(file, '', 'not valid JSON (it ends too early: truncated?)');
    const at = /at position (\d+)/.exec(msg);
    if (at !== null) {
      const pos = Number(at[1]);
      if (pos >= text.trimEnd().length) throw inputError(file, '', 'not valid JSON (it ends too early: truncated?)');
      const before = text.slice(0, pos);
      const line = (before.match(/\n/g)?.length ?? 0) + 1;
      const column = pos - before.lastIndexOf('\n');
      throw inputError(file, '', `not valid JSON at line ${line}, column ${column}`);
    }
    if (e instanceof RangeError) throw inputError(file, '', 'not valid JSON (nested too deeply)');
    throw inputError(file, '', 'not valid JSON (an unexpected character)');
  }
  checkDuplicateJsonKeys(text, file);
  checkKeys(doc, file);
  return doc;
}

/**
 * Refuses a key given twice in one JSON object (JSON.parse keeps the last one silently; YAML refuses it).
 * `text` is already known to be valid JSON: one linear scan, an explicit stack, no recursion.
 */
function checkDuplicateJsonKeys(text: string, file: string): void {
  const stack: (Set<string> | null)[] = []; // a Set of keys per open object, null per open array
  let expectKey = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys !== undefined && keys !== null) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) throw inputError(file, keyText(key), `given more than once (again at line ${line}; JSON keys must be unique)`);
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
}

/** Parses `file` (YAML, which reads JSON too) and requires a mapping at top level. */
export function readMappingFile(file: string, what = 'job file'): Record<string, unknown> {
  const doc = parseYaml(readInputText(file, what), file);
  if (doc === undefined || doc === null) throw inputError(file, '', 'is empty (expected a mapping of fields)');
  if (!isMapping(doc)) throw inputError(file, '', `must be a mapping of fields (got ${documentKindText(doc)})`);
  return doc;
}

/**
 * The file a job names in `field` (`model:` or `cluster:`): `value` relative to the folder of `file` unless
 * absolute. With `inside` (a plans file's folder: plans files come from pull requests), the path must be
 * relative and stay inside that folder after symbolic links are followed, so a baseline cannot make moefold
 * read /etc/passwd or ../../secrets.
 */
export function resolveInputPath(value: string, file: string, field: string, what: string, inside?: string): string {
  if (value.length > 4096 || value.includes('\0')) throw inputError(file, field, `must be the path of a ${what} (got ${excerpt(value)})`);
  if (inside === undefined) return path.isAbsolute(value) ? value : path.normalize(path.join(path.dirname(file), value));
  const outside = (): never => {
    throw inputError(file, field, `a path in a plans file must be relative and stay inside its folder (got ${excerpt(value)})`);
  };
  if (path.isAbsolute(value)) outside();
  const root = path.resolve(inside);
  const full = path.resolve(root, value);
  const within = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
  if (!within(full, root)) outside();
  let real: string;
  try {
    real = fs.realpathSync(full);
  } catch {
    return full; // absent: "not found" follows
  }
  let realRoot = root;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    // keep root
  }
  if (!within(real, realRoot)) outside();
  return full;
}

/** A path as shown in a message: as is when short and printable, else a bounded, escaped excerpt. */
export function pathText(p: string): string {
  return /^[\x20-\x7e]{1,200}$/.test(p) ? p : excerpt(p, 120);
}
