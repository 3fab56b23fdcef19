import { readInputText } from '../job/read-file.js';
import { createHash } from 'node:crypto';
import type { Job } from '../job/types.js';
import { isCalibrationPath } from '../cost/calibration.js';
import { layerMaskFromFreq } from '../job/layer-freq.js';
import type { JobChange } from './check-types.js';

const SECTIONS = ['model', 'training', 'cluster'] as const;

/**
 * The job fields that differ between the job a baseline was made for and the current one: every model field,
 * the training run (sequence length, global batch, precision) and the cluster (GPU kind, GPU count, GPUs per
 * node, and the calibration overlays applied, cluster.calibrations), in the order the job lists them. The
 * calibration's values are not compared, only the GPU's calibration and the overlay files named: a changed cost
 * model is what the other checks are there to catch.
 */
export function jobChanges(baseline: Job, current: Job): JobChange[] {
  const out: JobChange[] = [];
  for (const section of SECTIONS) {
    const b = baseline[section] as unknown as Record<string, unknown>;
    const c = current[section] as unknown as Record<string, unknown>;
    const keys = [...Object.keys(c), ...Object.keys(b).filter((k) => !(k in c))];
    for (const key of keys) {
      if (sameValue(b[key], c[key])) continue;
      // calibration files are the same when their contents are (a baseline names its folder's copies)
      if (section === 'cluster' && (key === 'gpu' || key === 'calibrations') && sameValue(fileIdentity(b[key]), fileIdentity(c[key]))) continue;
      if (section === 'model' && key === 'moe_layer_freq' && sameLayerMask(b[key], c[key], current.model.num_layers)) continue;
      out.push({ field: `${section}.${key}`, baseline: b[key] ?? null, current: c[key] ?? null });
    }
  }
  return out;
}

/** `cluster.gpus 16 → 32` */
export function describeChange(c: JobChange): string {
  return `${c.field} ${formatValue(c.baseline)} → ${formatValue(c.current)}`;
}

/** A calibration path as its file's content hash (the path itself when unreadable); names and lists element-wise. */
function fileIdentity(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fileIdentity);
  if (typeof v !== 'string' || !isCalibrationPath(v)) return v;
  try {
    return `sha256:${createHash('sha256').update(readInputText(v, 'calibration file')).digest('hex')}`;
  } catch {
    return v;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `moe_layer_freq: 1` and the list of all ones are the same model. */
function sameLayerMask(a: unknown, b: unknown, numLayers: number): boolean {
  if ([a, b].some((v) => Array.isArray(v) && v.length !== numLayers)) return false;
  try {
    const ma = layerMaskFromFreq(a as number | number[], numLayers);
    const mb = layerMaskFromFreq(b as number | number[], numLayers);
    return ma.length === mb.length && ma.every((x, i) => x === mb[i]);
  } catch {
    return false;
  }
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const text = JSON.stringify(v);
    return text.length <= 48 ? text : `[${v.slice(0, 8).join(',')},… (${v.length} values)]`;
  }
  return JSON.stringify(v) ?? String(v);
}
