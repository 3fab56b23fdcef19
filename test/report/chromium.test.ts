/**
 * The report as a person sees it: headless Chromium (Debian's `chromium` package; `.ci/run` installs it) renders
 * report.html to a PNG, which is decoded here and checked not to be blank, and to show the charts' colours.
 * Skipped with a message where Chromium is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { moefold } from '../cli/run-cli.js';
import { MARK_COLOURS, CATEGORY_COLOURS } from '../../src/report/palette.js';
import { countColour, countNonWhite, decodePng } from './png.js';
import { MIXTRAL, SLICE, SWEEP_FIXTURE } from './results.js';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const SCREENSHOT_TIMEOUT_MS = 60_000;

/** The first Chromium on PATH (or /usr/bin/chromium), or null. */
function findChromium(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin'];
  for (const name of CANDIDATES) {
    for (const d of dirs) {
      const p = path.join(d, name);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** Runs Chromium headless to a screenshot of `url`; kills its whole process group after 60 s. */
function screenshot(chromium: string, url: string, png: string): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--window-size=1280,2000', `--screenshot=${png}`, url];
  return new Promise((resolve) => {
    const child = spawn(chromium, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (d) => { stderr += String(d); });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, SCREENSHOT_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      fs.rmSync(profile, { recursive: true, force: true });
      resolve({ code, stderr, timedOut });
    });
  });
}

const chromium = findChromium();

test('report in headless Chromium: the screenshot is not blank and shows the plot marks', { timeout: 180_000 }, async (t) => {
  if (chromium === null) {
    t.skip(`chromium not installed: the report screenshot test is skipped (apt-get install chromium; looked for ${CANDIDATES.join(', ')} on PATH)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-shot-'));
  const html = path.join(dir, 'report.html');
  const r = moefold('report', MIXTRAL, '--gpus', '128', '--fix', SLICE, '--workers', '0', '--quiet', '-o', html, '--sweep', SWEEP_FIXTURE);
  assert.equal(r.status, 0, r.stderr);

  // The checker first sees a blank page as blank (so a non-blank result below means something).
  const blankHtml = path.join(dir, 'blank.html');
  fs.writeFileSync(blankHtml, '<!DOCTYPE html><html><body></body></html>\n');
  const blankPng = path.join(dir, 'blank.png');
  const b = await screenshot(chromium, pathToFileURL(blankHtml).href, blankPng);
  assert.ok(!b.timedOut, 'chromium timed out on a blank page');
  assert.ok(fs.existsSync(blankPng), `no screenshot of the blank page (exit ${b.code}): ${b.stderr.slice(-400)}`);
  assert.equal(countNonWhite(decodePng(fs.readFileSync(blankPng))), 0, 'a blank page reads as blank');

  const png = path.join(dir, 'report.png');
  const s = await screenshot(chromium, pathToFileURL(html).href, png);
  assert.ok(!s.timedOut, 'chromium timed out');
  assert.ok(fs.existsSync(png), `no screenshot (exit ${s.code}): ${s.stderr.slice(-400)}`);
  const img = decodePng(fs.readFileSync(png));
  assert.deepEqual([img.width, img.height], [1280, 2000]);
  const share = countNonWhite(img) / (img.width * img.height);
  assert.ok(share > 0.03, `only ${(100 * share).toFixed(2)}% of the pixels are not white`);
  assert.ok(countColour(img, MARK_COLOURS.pareto) > 100, 'the Pareto front (red) is drawn');
  assert.ok(countColour(img, MARK_COLOURS.top) > 50, 'the top plans (blue) are drawn');
  assert.ok(countColour(img, CATEGORY_COLOURS[1]) > 100, 'the second series / term colour (orange) is drawn');
});
