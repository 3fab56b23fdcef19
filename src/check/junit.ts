import type { JobCheckReport } from './check-types.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
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
    out.push(`  <testsuite name="${esc(r.job_file)}" tests="${r.checks.length}" failures="${f}" skipped="${s}">`);
    for (const c of r.checks) {
      out.push(`    <testcase classname="${esc(r.job_file)}" name="${esc(`${c.name}: ${r.baseline_file} rank ${r.rank}`)}">`);
      if (c.status === 'fail') {
        out.push(`      <failure message="${esc(c.message)}">${esc([c.message, ...c.details].join('\n'))}</failure>`);
      } else if (c.status === 'skip') {
        out.push(`      <skipped message="${esc(c.message)}"/>`);
      } else {
        out.push(`      <system-out>${esc(c.message)}</system-out>`);
      }
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
