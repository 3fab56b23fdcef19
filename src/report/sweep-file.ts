/**
 * Reads a sweep JSON (`moefold sweep --format json`) for the report's scaling curve. The file is checked for
 * every field the report reads, as SweepJson names them; a bad one is a one-line InputError naming the file and
 * the field (exit 2). Fields the report does not read are left as they are (a newer sweep may add some).
 */
import { inputError } from '../job/errors.js';
import { gotText, LIMITS } from '../job/fields.js';
import { isMapping, parseJson, readInputText } from '../job/read-file.js';
import type { SweepJson } from '../sweep/sweep-json.js';

type Obj = Record<string, unknown>;

class SweepChecker {
  constructor(readonly file: string) {}

  fail(field: string, problem: string, v: unknown): never {
    throw inputError(this.file, field, `${problem} (got ${gotText(v)})`);
  }

  obj(o: Obj, key: string, at: string): Obj {
    const v = o[key];
    if (!isMapping(v)) this.fail(at, 'must be an object', v);
    return v;
  }

  str(o: Obj, key: string, at: string): string {
    const v = o[key];
    if (typeof v !== 'string' || v.length === 0) this.fail(at, 'must be a non-empty text', v);
    return v;
  }

  int(o: Obj, key: string, at: string, min: number, max: number): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(at, `must be an integer from ${min} to ${max}`, v);
    return v;
  }

  /** A finite number >= 0, or null when `nullable`. */
  num(o: Obj, key: string, at: string, nullable: boolean): number | null {
    const v = o[key];
    if (v === null && nullable) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(at, `must be a number >= 0${nullable ? ' or null' : ''}`, v);
    return v;
  }

  textOrNull(o: Obj, key: string, at: string): string | null {
    const v = o[key];
    if (v !== null && typeof v !== 'string') this.fail(at, 'must be a text or null', v);
    return v;
  }
}

/** The plan fields the report reads from a sweep point's `best`. */
const BEST_ESTIMATE_FIELDS = ['tokens_per_s_per_gpu', 'mfu', 'step_time_s', 'peak_memory_gib'] as const;

function checkPoint(c: SweepChecker, v: unknown, at: string): void {
  if (!isMapping(v)) c.fail(at, 'must be an object (one sweep point)', v);
  c.str(v, 'gpu', `${at}.gpu`);
  const cal = c.obj(v, 'calibration', `${at}.calibration`);
  for (const k of ['label', 'name', 'file']) c.str(cal, k, `${at}.calibration.${k}`);
  c.int(v, 'gpus', `${at}.gpus`, 1, LIMITS.gpus);
  c.int(v, 'seq_length', `${at}.seq_length`, 1, LIMITS.seqLength);
  c.int(v, 'global_batch_size', `${at}.global_batch_size`, 1, LIMITS.globalBatch);
  c.int(v, 'valid', `${at}.valid`, 0, Number.MAX_SAFE_INTEGER);
  c.int(v, 'fitting', `${at}.fitting`, 0, Number.MAX_SAFE_INTEGER);
  const best = v.best;
  if (best !== null) {
    if (!isMapping(best)) c.fail(`${at}.best`, 'must be a plan object or null', best);
    const e = c.obj(best, 'estimate', `${at}.best.estimate`);
    for (const k of BEST_ESTIMATE_FIELDS) c.num(e, k, `${at}.best.estimate.${k}`, false);
  }
  c.textOrNull(v, 'reason', `${at}.reason`);
  c.num(v, 'time_to_train_s', `${at}.time_to_train_s`, true);
  c.num(v, 'gpu_hours', `${at}.gpu_hours`, true);
}

/** Checks a parsed document against SweepJson (the fields the report reads) and returns it as one. */
export function checkSweepJson(doc: unknown, file: string): SweepJson {
  const c: SweepChecker = new SweepChecker(file); // typed, so its never-returning fail() narrows
  if (!isMapping(doc)) c.fail('', 'must be a JSON object as written by `moefold sweep --format json`', doc);
  const mf = c.obj(doc, 'moefold', 'moefold');
  for (const k of ['version', 'objective', 'space']) c.str(mf, k, `moefold.${k}`);
  c.str(doc, 'job_file', 'job_file');
  c.str(c.obj(doc, 'model', 'model'), 'name', 'model.name');
  c.obj(doc, 'training', 'training');
  const tokens = doc.tokens;
  if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens <= 0) c.fail('tokens', 'must be a number > 0', tokens);
  const points = doc.points;
  if (!Array.isArray(points) || points.length === 0) c.fail('points', 'must be a non-empty list of sweep points', points);
  points.forEach((p, i) => checkPoint(c, p, `points[${i}]`));
  c.num(doc, 'wall_s', 'wall_s', true);
  return doc as unknown as SweepJson;
}

/** Reads and checks a sweep JSON file (the bounded reader of every input file: regular file, 16 MiB, UTF-8). */
export function readSweepFile(file: string): SweepJson {
  return checkSweepJson(parseJson(readInputText(file, 'sweep JSON file'), file), file);
}
