import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { CALIBRATION_FIELDS, calibrationFromDoc, loadCalibration } from '../../src/cost/calibration.js';
import { InputError } from '../../src/job/errors.js';
import { COST_MODELS_DIR, calibrationNames } from '../../src/paths.js';

function h100Doc(): Record<string, Record<string, { value: number; source: string }>> {
  return yaml.load(fs.readFileSync(path.join(COST_MODELS_DIR, 'h100-sxm.yaml'), 'utf8')) as never;
}

test('ships h100-sxm, h200-sxm, b200, gb200-nvl72 and gb300-nvl72 calibrations', () => {
  assert.deepEqual(calibrationNames(), ['b200', 'gb200-nvl72', 'gb300-nvl72', 'h100-sxm', 'h200-sxm']);
});

test('h100-sxm loads with the published peaks and every field set', () => {
  const cal = loadCalibration('h100-sxm');
  assert.equal(cal.name, 'h100-sxm');
  assert.equal(cal.denseBf16PeakFlops, 989.4e12);
  assert.equal(cal.denseFp8PeakFlops, 1978.9e12);
  assert.equal(cal.file, 'cost-models/h100-sxm.yaml');
  for (const [, , field] of CALIBRATION_FIELDS) assert.equal(typeof cal[field], 'number', field);
});

test('all calibration files share the structure and differ where the hardware does', () => {
  const h100 = loadCalibration('h100-sxm');
  const h200 = loadCalibration('h200-sxm');
  const b200 = loadCalibration('b200');
  assert.equal(h200.denseBf16PeakFlops, h100.denseBf16PeakFlops);
  assert.equal(h200.hbmCapacityBytes, 141e9);
  assert.equal(b200.denseBf16PeakFlops, 2250e12);
  assert.equal(b200.hbmCapacityBytes, 180e9);
  assert.ok(b200.nvlinkAllreduceBusbw > h100.nvlinkAllreduceBusbw);
});

test('every entry of every shipped file names its source', () => {
  for (const name of calibrationNames()) {
    const doc = yaml.load(fs.readFileSync(path.join(COST_MODELS_DIR, `${name}.yaml`), 'utf8')) as never;
    for (const [sec, key] of CALIBRATION_FIELDS) {
      const e = (doc as Record<string, Record<string, { source: string }>>)[sec][key];
      assert.ok(e.source.length >= 8, `${name}: ${sec}.${key}`);
    }
  }
});

test('missing field: one-line InputError naming the file and field', () => {
  const doc = h100Doc();
  delete (doc.network as Record<string, unknown>).nic_bytes_per_s;
  assert.throws(() => calibrationFromDoc(doc, 'cost-models/x.yaml'), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.message, 'cost-models/x.yaml: network.nic_bytes_per_s: is required');
    return true;
  });
});

test('out-of-range value: names the allowed range and the value', () => {
  const doc = h100Doc();
  doc.overlap.tp_overlap_fraction.value = 1.5;
  assert.throws(() => calibrationFromDoc(doc, 'x.yaml'),
    { message: 'x.yaml: overlap.tp_overlap_fraction.value: must be in [0, 1] (got 1.5)' });
  const doc2 = h100Doc();
  doc2.compute.hbm_bytes_per_s.value = 0;
  assert.throws(() => calibrationFromDoc(doc2, 'x.yaml'),
    { message: 'x.yaml: compute.hbm_bytes_per_s.value: must be > 0 (got 0)' });
});

test('unknown field, missing source, wrong type are rejected', () => {
  const doc = h100Doc();
  (doc.compute as Record<string, unknown>).warp_speed = { value: 9, source: 'made up here' };
  assert.throws(() => calibrationFromDoc(doc, 'x.yaml'),
    { message: 'x.yaml: compute.warp_speed: is not a known calibration field' });
  const doc2 = h100Doc();
  delete (doc2.compute.hbm_bytes_per_s as Record<string, unknown>).source;
  assert.throws(() => calibrationFromDoc(doc2, 'x.yaml'), { message: 'x.yaml: compute.hbm_bytes_per_s.source: is required' });
  const doc3 = h100Doc();
  (doc3.memory.reserved_bytes as Record<string, unknown>).value = 'lots';
  assert.throws(() => calibrationFromDoc(doc3, 'x.yaml'), { message: 'x.yaml: memory.reserved_bytes.value: must be a number' });
});

test('unknown GPU and unreadable YAML give one-line InputErrors', () => {
  assert.throws(() => loadCalibration('h1000'), {
    message: 'cost-models/h1000.yaml: no such calibration file (known GPUs: b200, gb200-nvl72, gb300-nvl72, h100-sxm, h200-sxm)',
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-cal-'));
  const f = path.join(dir, 'bad.yaml');
  fs.writeFileSync(f, 'name: [unclosed\n');
  assert.throws(() => loadCalibration(f), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /bad\.yaml: not valid YAML \(/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
});
