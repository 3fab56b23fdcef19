/** The sensitivity of a plan: what one step on each axis costs (`score --sensitivity`, `tune --sensitivity`). */
import Table from 'cli-table3';
import type { Job } from '../job/types.js';
import { headroomBytes } from '../cost/estimate.js';
import type { Sensitivity, SensitivityRow } from '../search/neighbours.js';
import { GIB, sig } from './numbers.js';
import { planSpecText, signed, splitShortText } from './compare.js';

/** tok/s/GPU change of a neighbour, as a fraction of the plan's (null: refused). */
function throughputDelta(s: Sensitivity, r: SensitivityRow): number | null {
  return r.estimate ? r.estimate.tokensPerSPerGpu / s.estimate.tokensPerSPerGpu - 1 : null;
}

function peakDeltaGib(s: Sensitivity, r: SensitivityRow): number | null {
  return r.estimate ? (r.estimate.peakMemBytes - s.estimate.peakMemBytes) / GIB : null;
}

const refusedText = (r: SensitivityRow) => `refused: ${r.refused.map((v) => v.rule).join(', ')}`;

/** A small table: axis, change, tok/s/GPU Δ %, peak GiB Δ, free GiB (refused neighbours say which rule). */
export function renderSensitivity(job: Job, s: Sensitivity, title = 'Sensitivity'): string {
  const e = s.estimate;
  const lines = [`${title} of ${planSpecText(s.plan, job)} (${Math.round(e.tokensPerSPerGpu).toLocaleString('en-US')} tokens/s/GPU, `
    + `peak ${(e.peakMemBytes / GIB).toFixed(1)} GiB): one step on each axis, same GPUs (DP and EDP absorb the change)`];
  const t = new Table({
    head: ['axis', 'change', 'tok/s/GPU Δ', 'peak GiB Δ', 'free GiB'],
    style: { head: [], border: [], compact: true }, colAligns: ['left', 'left', 'right', 'right', 'right'],
  });
  const L = job.model.num_layers;
  for (const r of s.rows) {
    // a PP or VPP step may need another split: say which
    const split = splitShortText(r.plan, L);
    const change = split !== '-' && split !== splitShortText(s.plan, L) ? `${r.change} (${split})` : r.change;
    const dT = throughputDelta(s, r);
    const dM = peakDeltaGib(s, r);
    if (dT === null || dM === null || r.estimate === null) {
      t.push([r.axis, change, { colSpan: 3, content: refusedText(r) }]);
    } else {
      // free memory, as the ranking's margin reads it (tune ranks only plans leaving the margin)
      t.push([r.axis, change, `${signed(100 * dT, 1)} %`, signed(dM, 1), r.estimate.fits ? (headroomBytes(r.estimate) / GIB).toFixed(1) : 'does not fit']);
    }
  }
  lines.push(t.toString());
  return lines.join('\n');
}

export interface SensitivityRowJson {
  axis: string;
  change: string;
  plan_spec: string;
  /** Null when refused. */
  tokens_per_s_per_gpu: number | null;
  tokens_per_s_per_gpu_delta_fraction: number | null;
  peak_memory_gib: number | null;
  peak_memory_gib_delta: number | null;
  fits: boolean | null;
  /** Free memory of the most loaded GPU (usable − peak; the memory margin compares with it); null when refused. */
  headroom_gib: number | null;
  /** The rules Megatron refuses the neighbour by (empty when it runs). */
  refused: { rule: string; reason: string }[];
}

export interface SensitivityJson {
  plan_spec: string;
  tokens_per_s_per_gpu: number;
  peak_memory_gib: number;
  neighbours: SensitivityRowJson[];
}

export function sensitivityJson(job: Job, s: Sensitivity): SensitivityJson {
  const orNull = (x: number | null) => (x === null ? null : sig(x));
  return {
    plan_spec: planSpecText(s.plan, job),
    tokens_per_s_per_gpu: sig(s.estimate.tokensPerSPerGpu),
    peak_memory_gib: sig(s.estimate.peakMemBytes / GIB),
    neighbours: s.rows.map((r) => ({
      axis: r.axis,
      change: r.change,
      plan_spec: planSpecText(r.plan, job),
      tokens_per_s_per_gpu: r.estimate ? sig(r.estimate.tokensPerSPerGpu) : null,
      tokens_per_s_per_gpu_delta_fraction: orNull(throughputDelta(s, r)),
      peak_memory_gib: r.estimate ? sig(r.estimate.peakMemBytes / GIB) : null,
      peak_memory_gib_delta: orNull(peakDeltaGib(s, r)),
      fits: r.estimate ? r.estimate.fits : null,
      headroom_gib: r.estimate ? sig(headroomBytes(r.estimate) / GIB) : null,
      refused: r.refused.map((v) => ({ rule: v.rule, reason: v.reason })),
    })),
  };
}
