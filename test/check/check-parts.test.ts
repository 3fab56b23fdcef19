import { test } from 'node:test';
import assert from 'node:assert/strict';
import { movedTerms } from '../../src/check/run-check.js';
import { renderJunit } from '../../src/check/junit.js';
import { baselineFor } from '../../src/check/find-pairs.js';
import type { JobCheckReport } from '../../src/check/check-types.js';

test('movedTerms lists the step-time terms that changed, largest first', () => {
  const lines = movedTerms({ experts: 1, ep_comm: 0.5, bubble: 0.2 }, { experts: 1.3, ep_comm: 0.4, bubble: 0.2 });
  assert.deepEqual(lines, ['experts: 1.0000 s → 1.3000 s (+0.3000 s)', 'ep_comm: 0.5000 s → 0.4000 s (-0.1000 s)']);
  assert.deepEqual(movedTerms(undefined, { experts: 1 }), ['the baseline records no time breakdown']);
});

test('baseline file name beside a job file', () => {
  assert.equal(baselineFor('plans/mixtral.yaml'), 'plans/mixtral.baseline.json');
  assert.equal(baselineFor('plans/qwen.json'), 'plans/qwen.baseline.json');
});

test('JUnit report: one suite per job, failures with their details, XML escaped', () => {
  const report: JobCheckReport = {
    job_file: 'a&b.yaml', baseline_file: 'a.baseline.json', rank: 1, tolerance: 0.03, passed: false,
    baseline_tokens_per_s_per_gpu_recorded: 100, baseline_tokens_per_s_per_gpu_now: 90, best_tokens_per_s_per_gpu_now: 120,
    updated: false,
    checks: [
      { name: 'valid', status: 'pass', message: 'ok', details: [] },
      { name: 'fits', status: 'pass', message: 'ok', details: [] },
      { name: 'best', status: 'fail', message: 'a better plan exists: 120 vs 90 <tokens>', details: ['side'] },
      { name: 'regression', status: 'skip', message: 'n/a', details: [] },
    ],
  };
  const xml = renderJunit([report]);
  assert.match(xml, /<testsuites name="moefold check" tests="4" failures="1" skipped="1">/);
  assert.match(xml, /<testsuite name="a&amp;b.yaml" tests="4" failures="1" skipped="1">/);
  assert.match(xml, /<failure message="a better plan exists: 120 vs 90 &lt;tokens&gt;">/);
  assert.match(xml, /<skipped message="n\/a"\/>/);
});
