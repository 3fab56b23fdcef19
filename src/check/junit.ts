import type { JobCheckReport } from './check-types.js';

/**
 * Characters XML 1.0 forbids anywhere, even as references: C0 controls other than tab, newline and carriage
 * return, lone surrogates, U+FFFE and U+FFFF. They are shown as `\uXXXX` text, so a file name keeps its shape.
 */
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function visible(s: string): string {
  return s.replace(FORBIDDEN, (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** Text content: `&`, `<`, `>` as entities (so `]]>` cannot appear), carriage returns as references (parsers fold them). */
function escText(s: string): string {
  return visible(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** An attribute value in double quotes: also `"`, and tab and newline as references (parsers turn them into spaces). */
function escAttr(s: string): string {
  return escText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** JUnit XML: one test suite per job, one test case per check (what CI systems display). */
export function renderJunit(reports: JobCheckReport[]): string {
  const total = reports.reduce((n, r) => n + r.checks.length, 0);
  const failures = reports.reduce((n, r) => n + r.checks.filter((c) => c.status === 'fail').length, 0);
  const skipped = reports.reduce((n, r) => n + r.checks.filter((c) => c.status === 'skip').length, 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="moefold check" tests="${total}" failures="${failures}" skipped="${skipped}">`);
  for (const r of reports) {
    const f = r.checks.filter((c) => c.status === 'fail').length;
    const s = r.checks.filter((c) => c.status === 'skip').length;
    out.push(`  <testsuite name="${escAttr(r.job_file)}" tests="${r.checks.length}" failures="${f}" skipped="${s}">`);
    for (const c of r.checks) {
      out.push(`    <testcase classname="${escAttr(r.job_file)}" name="${escAttr(`${c.name}: ${r.baseline_file} rank ${r.rank}`)}">`);
      if (c.status === 'fail') {
        out.push(`      <failure message="${escAttr(c.message)}">${escText([c.message, ...c.details].join('\n'))}</failure>`);
      } else if (c.status === 'skip') {
        out.push(`      <skipped message="${escAttr(c.message)}"/>`);
      } else {
        out.push(`      <system-out>${escText(c.message)}</system-out>`);
      }
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
