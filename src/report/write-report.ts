/** Writing the report: the target is checked before the search, and the page is written atomically after it. */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../job/errors.js';
import { ioReason, writeFileAtomic } from '../io/write-files.js';
import { oneLine } from '../text/one-line.js';
import { renderReportHtml } from './html.js';
import type { ReportInput } from './report-input.js';

/**
 * Refuses, before any search runs, a report path that cannot be written: an existing folder, a folder that does
 * not exist, a part of the path that is a file, a folder that cannot be written. `label` names the flag (`-o`,
 * `--report`). The write itself still reports any later failure (a full disk) the same way.
 */
export function checkReportTarget(file: string, label: string): void {
  const shown = `${label}: ${oneLine(file)}`;
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(file);
  } catch {
    st = null; // nothing there yet (or a dangling link): the folder decides
  }
  if (st?.isDirectory()) throw new InputError(`${shown}: is a folder; give the path of the HTML file to write (e.g. ${path.join(file, 'report.html')})`);
  const dir = path.dirname(path.resolve(file));
  try {
    const d = fs.statSync(dir);
    if (!d.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new InputError(`${shown}: cannot write (${ioReason(e)})`);
  }
}

/** Renders the page and writes it to `file` atomically (never a partial file). Returns the bytes written. */
export function writeReport(file: string, input: ReportInput, label = '--report'): number {
  const html = renderReportHtml(input);
  writeFileAtomic(file, html, label);
  return Buffer.byteLength(html);
}
