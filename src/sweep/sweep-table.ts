/**
 * The sweep as a table for people: one row per point, at most 120 columns for the plans moefold finds (the
 * mapping in short form; every detail of the best plan is in the JSON), with a two-line header.
 */
import type { SweepJson, SweepPointJson } from './sweep-json.js';
import type { PlanJson } from '../render/plan-json.js';
import { formatParamCount } from '../job/describe.js';
import { scalingEfficiency } from './sweep-result.js';
// the width tune's table fits, which the sweep's fits too (a reason longer than the rest of a line is cut there; the JSON has it all)
import { TABLE_WIDTH } from '../render/plans-table.js';

export const SWEEP_COLUMNS = ['GPU', 'GPUs', 'seq', 'best mapping', 'tok/s/GPU', 'MFU', 'step s', 'peak GiB', 'scale', 'days', 'GPU-h'] as const;
const RIGHT = [false, true, true, false, true, true, true, true, true, true, true];
/** Columns a row without a plan fills before its reason (GPU, GPUs, seq). */
const KEY_COLUMNS = 3;
const SEQ_COLUMN = 2;
const GAP = '  ';

const SECONDS_PER_DAY = 86_400;

/**
 * `TP2 PP16 EP16 ETP1 mbs1 flex`: TP and PP always, CP and VPP when > 1, EP/ETP and the dispatcher for MoE
 * models, the micro-batch size, and the recompute when there is one (DP follows from the GPU count).
 */
export function shortMapping(p: PlanJson, isMoe: boolean): string {
  const m = p.mapping;
  const parts = [`TP${m.tp}`];
  if (m.cp > 1) parts.push(`CP${m.cp}`);
  parts.push(`PP${m.pp}`);
  if (m.vpp > 1) parts.push(`VPP${m.vpp}`);
  if (isMoe) parts.push(`EP${m.ep}`, `ETP${m.etp}`);
  parts.push(`mbs${p.micro_batch_size}`);
  if (isMoe) parts.push(p.dispatcher);
  if (p.recompute !== 'none') parts.push(`rc:${p.recompute === 'selective' ? 'sel' : p.recompute}`);
  return parts.join(' ');
}

/** Three significant digits with a K/M/B suffix: 1,234,567 → `1.23 M`, 456,000 → `456 K`, 87 → `87`. */
export function formatCount3(x: number): string {
  const units: [number, string][] = [[1e9, ' B'], [1e6, ' M'], [1e3, ' K']];
  for (const [size, unit] of units) {
    if (x >= size * 0.9995) return `${(x / size).toPrecision(3)}${unit}`;
  }
  return x >= 100 ? x.toFixed(0) : x.toPrecision(2);
}

/** Days with three significant digits, whole days from 100 up: 0.42 → `0.42`, 41.3, 365, 3,191. */
export function formatDays(timeS: number): string {
  const d = timeS / SECONDS_PER_DAY;
  return d >= 100 ? Math.round(d).toLocaleString('en-US') : d >= 10 ? d.toFixed(1) : d.toFixed(2);
}

function planCells(p: SweepPointJson, best: PlanJson, isMoe: boolean, eff: number | null): string[] {
  const e = best.estimate;
  return [
    shortMapping(best, isMoe),
    Math.round(e.tokens_per_s_per_gpu).toLocaleString('en-US'),
    `${(100 * e.mfu).toFixed(1)}%`,
    e.step_time_s.toFixed(2),
    e.peak_memory_gib.toFixed(1),
    eff === null ? '-' : `${Math.round(100 * eff)}%`,
    p.time_to_train_s === null ? '-' : formatDays(p.time_to_train_s),
    p.gpu_hours === null ? '-' : formatCount3(p.gpu_hours),
  ];
}

function keyCells(p: SweepPointJson): string[] {
  return [p.gpu, p.gpus.toLocaleString('en-US'), String(p.seq_length)];
}

function pad(s: string, w: number, right: boolean): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

export function renderSweepTable(sweep: SweepJson): string {
  const isMoe = sweep.model.num_experts > 0;
  const eff = scalingEfficiency(sweep.points);
  // One sequence length is in the header: its column would only repeat it.
  const showSeq = new Set(sweep.points.map((p) => p.seq_length)).size > 1;
  const shown = SWEEP_COLUMNS.map((_, c) => c !== SEQ_COLUMN || showSeq);
  const keep = <T>(xs: readonly T[]) => xs.filter((_, c) => shown[c]);
  const heads = keep(SWEEP_COLUMNS);
  const right = keep(RIGHT);
  const keyColumns = showSeq ? KEY_COLUMNS : KEY_COLUMNS - 1;
  const rows = sweep.points.map((p, i) => keep(p.best ? [...keyCells(p), ...planCells(p, p.best, isMoe, eff[i])] : keyCells(p)));
  const widths = heads.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const cellsText = (cells: readonly string[]) => cells.map((s, c) => pad(s, widths[c], right[c])).join(GAP);
  const out = [cellsText(heads).trimEnd(), widths.map((w) => '-'.repeat(w)).join(GAP)];
  sweep.points.forEach((p, i) => {
    if (p.best) {
      out.push(cellsText(rows[i]).trimEnd());
      return;
    }
    const head = cellsText(rows[i].slice(0, keyColumns)) + GAP;
    const room = Math.max(20, TABLE_WIDTH - head.length);
    const reason = p.reason ?? 'no plan';
    out.push(head + (reason.length > room ? `${reason.slice(0, room - 1)}…` : reason));
  });
  return out.join('\n');
}

/** `1T`, `15T`, `800B` tokens. */
export function formatTokens(n: number): string {
  return formatParamCount(n).replace(/\.0(?=[A-Z]$)/, '');
}

/** The header: the job, the sweep's axes, the budget and how points are ranked. */
export function sweepHeader(sweep: SweepJson, modelText: string, wallS: number | null): string {
  const pts = sweep.points;
  const kinds = [...new Set(pts.map((p) => p.gpu))];
  const counts = [...new Set(pts.map((p) => p.gpus))];
  const seqs = [...new Set(pts.map((p) => p.seq_length))];
  const found = pts.filter((p) => p.best).length;
  const t = sweep.training;
  return [
    `${modelText} · GBS ${t.global_batch_size} · ${t.precision}`,
    `sweep: ${kinds.join(', ')} × ${counts.length} GPU count${counts.length === 1 ? '' : 's'} × seq ${seqs.join(', ')}`
      + ` = ${pts.length} point${pts.length === 1 ? '' : 's'}, ${found} with a plan` + (wallS === null ? '' : ` · ${wallS.toFixed(2)} s`),
    `best plan per point as moefold tune ranks it (by ${sweep.moefold.objective}${rankingText(sweep)})`,
    `days and GPU-hours to train ${formatTokens(sweep.tokens)} tokens (--tokens) · MFU against the precision's dense peak`,
    'scale: tok/s/GPU over that of the fewest GPUs (same GPU and seq)',
  ].join('\n');
}

/** "; ties within 6.1 %, only plans leaving 4 GiB free": the ranking's two numbers, when the sweep searched any point. */
function rankingText(sweep: SweepJson): string {
  const r = sweep.ranking;
  return r ? `; ties within ${+(100 * r.tie).toFixed(1)} %, only plans leaving ${r.memory_margin_gib} GiB free` : '';
}
