import { test } from 'node:test';
import assert from 'node:assert/strict';
import { movedMemory, movedTerms } from '../../src/check/run-check.js';
import { renderJunit } from '../../src/check/junit.js';
import { baselineFor } from '../../src/check/find-pairs.js';
import type { JobCheckReport } from '../../src/check/check-types.js';
import { SaxesParser } from 'saxes';
import { jobChanges, describeChange } from '../../src/check/job-diff.js';
import path from 'node:path';
import { loadJob } from '../../src/job/load-job.js';
import { REPO_ROOT } from '../../src/paths.js';

const QWEN_JOB = path.join(REPO_ROOT, 'fixtures/ci/qwen3-30b-a3b-16.yaml');

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
    baseline_fits_now: true, job_changes: [], updated: false,
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

/** Attributes and text of every element, in document order, from a strict XML 1.0 parser (throws on any error). */
function parseStrict(xml: string): { name: string; attributes: Record<string, string>; text: string }[] {
  const els: { name: string; attributes: Record<string, string>; text: string }[] = [];
  const open: number[] = [];
  const p = new SaxesParser();
  p.on('error', (e) => { throw e; });
  p.on('opentag', (t) => { open.push(els.length); els.push({ name: t.name, attributes: t.attributes as Record<string, string>, text: '' }); });
  p.on('text', (t) => { if (open.length > 0) els[open[open.length - 1]].text += t; });
  p.on('closetag', () => { open.pop(); });
  p.write(xml).close();
  return els;
}

test('JUnit report: names and messages with markup, "]]>", controls, NUL, lone surrogates and line breaks stay well-formed XML', () => {
  const hostile = 'a<b>&c"d\'e ]]> f\u0000g\u0007h\u001bi\uD800j\uFFFEk';
  const shown = 'a<b>&c"d\'e ]]> f\\u0000g\\u0007h\\u001bi\\ud800j\\ufffek';
  const report: JobCheckReport = {
    job_file: `jobs/${hostile}.yaml`, baseline_file: `jobs/${hostile}.baseline.json`, rank: 1, tolerance: 0.03, passed: false,
    baseline_tokens_per_s_per_gpu_recorded: null, baseline_tokens_per_s_per_gpu_now: null, best_tokens_per_s_per_gpu_now: null,
    baseline_fits_now: null, job_changes: [], updated: false,
    checks: [
      { name: 'job', status: 'fail', message: `model.name ${hostile} → x\tline\nnext\r`, details: [`]]> ${hostile}`, 'crlf\r\nend'] },
      { name: 'valid', status: 'skip', message: hostile, details: [] },
      { name: 'fits', status: 'pass', message: hostile, details: [] },
    ],
  };
  const els = parseStrict(renderJunit([report]));
  const suite = els.find((e) => e.name === 'testsuite');
  assert.equal(suite?.attributes.name, `jobs/${shown}.yaml`);
  const failure = els.find((e) => e.name === 'failure');
  assert.equal(failure?.attributes.message, `model.name ${shown} → x\tline\nnext\r`);
  assert.equal(failure?.text, `model.name ${shown} → x\tline\nnext\r\n]]> ${shown}\ncrlf\r\nend`);
  assert.equal(els.find((e) => e.name === 'skipped')?.attributes.message, shown);
  assert.equal(els.find((e) => e.name === 'system-out')?.text, shown);
  assert.equal(els.filter((e) => e.name === 'testcase')[0].attributes.name, `job: jobs/${shown}.baseline.json rank 1`);
});

test('jobChanges names every field that moved, in job order; the same job has none; moe_layer_freq compares as layers', () => {
  const a = loadJob(QWEN_JOB, {});
  assert.deepEqual(jobChanges(a, loadJob(QWEN_JOB, {})), []);
  const b = loadJob(QWEN_JOB, { gpus: 32, seqLength: 8192, gpu: 'h200-sxm' });
  const changes = jobChanges(a, b);
  assert.deepEqual(changes.map(describeChange), ['training.seq_length 4096 → 8192', 'cluster.gpu h100-sxm → h200-sxm', 'cluster.gpus 16 → 32']);
  const list = { ...a, model: { ...a.model, moe_layer_freq: new Array(a.model.num_layers).fill(1) } };
  assert.deepEqual(jobChanges(a, list), []);
  const fewer = { ...a, model: { ...a.model, moe_layer_freq: [0, ...new Array(a.model.num_layers - 1).fill(1)] } };
  assert.deepEqual(jobChanges(a, fewer).map((c) => c.field), ['model.moe_layer_freq']);
  assert.match(describeChange(jobChanges(a, fewer)[0]), /^model\.moe_layer_freq 1 → \[0,1,1,1,1,1,1,1,… \(48 values\)\]$/);
});

test('movedMemory reads an old baseline: a term it records that is no longer computed moved to 0', () => {
  const lines = movedMemory({ weights: 5, comm_buffers: 0.5, overhead: 3.8 }, { weights: 5, cuda_context: 0.5, nccl_buffers: 0.6 });
  assert.deepEqual(lines, ['overhead: 3.80 GiB → 0.00 GiB (-3.80 GiB)', 'nccl_buffers: 0.00 GiB → 0.60 GiB (+0.60 GiB)',
    'comm_buffers: 0.50 GiB → 0.00 GiB (-0.50 GiB)', 'cuda_context: 0.00 GiB → 0.50 GiB (+0.50 GiB)']);
});
