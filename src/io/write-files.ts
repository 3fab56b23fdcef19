/**
 * Every file moefold writes goes through here: each file is written to a temporary name beside it and renamed
 * into place only when all writes succeeded, so a full disk, a read-only folder or an interrupt never leaves a
 * partial or empty file behind, nor a stray temporary one. Failures are InputErrors (exit 2) naming the file
 * or folder and the reason in words.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../job/errors.js';

/** Words for the errno codes a user can act on; others are shown by code. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error',
  EINVAL: 'not a place files can be written',
  ENXIO: 'a pipe that no process reads',
  EFBIG: 'file too large for this file system or limit',
};

/** The reason of a failed file operation in words, e.g. "no space left on the device (ENOSPC)". */
export function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return e instanceof Error ? e.message.split('\n')[0] : String(e);
  const words = ERRNO_WORDS[code];
  return words === undefined ? code : `${words} (${code})`;
}

export interface FileToWrite {
  /** Path of the final file. */
  file: string;
  text: string;
  /** Unix mode of the new file; default 0o644. */
  mode?: number;
}

let tempCounter = 0;

function tempName(file: string): string {
  tempCounter += 1;
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${tempCounter}`);
}

/**
 * Writes all files or none: each goes to a temporary file first (the temporary name is recorded before the
 * write, so a failed write is cleaned up too); once every temporary file is complete, each is renamed into
 * place. `label` starts the error message (e.g. "--out").
 */
export function writeFilesAtomic(files: readonly FileToWrite[], label: string): void {
  const temps: { tmp: string; file: string; shown: string }[] = [];
  const inPlace: FileToWrite[] = [];
  let current = '';
  try {
    for (const f of files) {
      current = f.file;
      const target = placeOf(f.file);
      if (target === null) {
        inPlace.push(f);
        continue;
      }
      const tmp = tempName(target);
      temps.push({ tmp, file: target, shown: f.file });
      const fd = fs.openSync(tmp, 'wx', f.mode ?? 0o644);
      try {
        fs.writeFileSync(fd, f.text);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    // A device or pipe (/dev/stdout, /dev/full, a FIFO) cannot be replaced, and must not be: it is written as it is.
    for (const f of inPlace) {
      current = f.file;
      writeInPlace(f.file, f.text);
    }
    for (const t of temps) {
      current = t.shown;
      fs.renameSync(t.tmp, t.file);
    }
  } catch (e) {
    for (const t of temps) {
      try {
        fs.rmSync(t.tmp, { force: true });
      } catch {
        // the folder itself may be gone or read-only; nothing more can be done
      }
    }
    if (e instanceof InputError) throw e;
    const where = current === '' ? label : `${label}: ${current}`;
    throw new InputError(`${where}: cannot write (${ioReason(e)})`);
  }
}

/**
 * Where the new file goes: the path itself, renamed over whatever is there, so a symbolic link is replaced by the
 * file and never followed (a link committed in place of a baseline cannot make moefold overwrite its target);
 * null for a target that is not a regular file, such as a device or a pipe (also through a link: /dev/stdout),
 * which is written in place. An existing folder is an error (EISDIR), found before any file is renamed.
 */
function placeOf(file: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return file; // nothing there yet, or a dangling link: the temporary file and the rename create it
  }
  if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
  return st.isFile() ? file : null;
}

/**
 * Writes a device or a pipe as it is. A FIFO is opened without blocking first, so one that no process reads is an
 * error (ENXIO) instead of a hang; then it is written normally.
 */
function writeInPlace(file: string, text: string): void {
  if (fs.statSync(file).isFIFO()) fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
  fs.writeFileSync(file, text);
}

/** One file, written atomically. */
export function writeFileAtomic(file: string, text: string, label: string, mode?: number): void {
  writeFilesAtomic([{ file, text, mode }], label);
}
