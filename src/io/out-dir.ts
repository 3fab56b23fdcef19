/**
 * An output folder (`tune --out DIR`), made ready before the search starts: created one level at a time (at most
 * MAX_NEW_LEVELS new levels; Node's recursive mkdir spins forever under /proc), proven writable with a probe
 * file, and locked for this run, so that a bad `--out` is reported at once and two runs into one folder cannot
 * mix their files. Every failure is one InputError line naming the folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../job/errors.js';
import { ioReason } from './write-files.js';

/** How many missing folder levels `--out` may create: a typo, not a plan, goes deeper. */
export const MAX_NEW_LEVELS = 16;

export const LOCK_FILE = '.moefold.lock';

export interface OutDir {
  dir: string;
  /** Removes the lock; safe to call twice. */
  release(): void;
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Creates `dir` (and its missing parents) one level at a time. */
function makeFolder(dir: string, label: string): void {
  const missing: string[] = [];
  let p = path.resolve(dir);
  for (;;) {
    const st = statOrNull(p);
    if (st !== null) {
      if (!st.isDirectory()) throw new InputError(`${label}: ${p} is not a folder`);
      break;
    }
    missing.push(p);
    if (missing.length > MAX_NEW_LEVELS) {
      throw new InputError(`${label}: ${dir}: would create more than ${MAX_NEW_LEVELS} new folder levels; create the parent folder first`);
    }
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const m of missing.reverse()) fs.mkdirSync(m);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's lock: a lock of a live process is refused; a stale one (its process gone) is replaced. */
function takeLock(lock: string, dir: string, label: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o644);
      try {
        fs.writeFileSync(fd, `${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number.parseInt(fs.readFileSync(lock, 'utf8').slice(0, 32), 10);
      } catch {
        // unreadable lock: treat as stale
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
        throw new InputError(`${label}: ${dir} is being written by another moefold run (pid ${owner}); `
          + `wait for it, use another folder, or remove ${lock} if that process is not moefold`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new InputError(`${label}: ${dir}: cannot take the folder lock ${lock}`);
}

/** Creates, checks and locks `dir` for writing; call before the search so a bad folder is reported at once. */
export function prepareOutDir(dir: string, label: string): OutDir {
  const lock = path.join(dir, LOCK_FILE);
  try {
    makeFolder(dir, label);
    takeLock(lock, dir, label);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${label}: cannot use folder ${dir} (${ioReason(e)})`);
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    try {
      fs.rmSync(lock, { force: true });
    } catch {
      // the folder went away: nothing is left to unlock
    }
  };
  process.once('exit', release);
  return { dir, release };
}
