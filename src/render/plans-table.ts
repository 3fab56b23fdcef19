import type { Job } from '../job/types.js';
import type { Plan } from '../enumerate/plan.js';
import type { RankedPlan } from '../search/ranked.js';
import { headroomBytes } from '../search/objective.js';
import { mappingDelta } from '../search/final-order.js';
import { GIB } from './numbers.js';
import { ppCellText, tpCellText } from './split-text.js';
import { mainCostShares } from './cost-shares.js';

/** The default table fits a terminal of this many columns (`--wide` shows every column, however wide). */
export const TABLE_WIDTH = 120;
const GAP = '  ';

export interface PlansTableOptions {
  /** Every column (DO, dispatcher, step time, both MFUs, main costs), the alternatives in full. */
  wide?: boolean;
  /** For the MFU against the BF16 peak (the calibration's dense BF16 FLOP/s). */
  bf16PeakFlops: number;
  firstRank?: number;
  /** Text of the line drawn between the plans in the tie and the rest (none when absent). */
  tieRule?: string;
}

interface Column {
  head: string;
  right: boolean;
  /** `k`: the row's index in the list. */
  cell: (r: RankedPlan, k: number) => string;
  /** Shown in the default table (else only with --wide). */
  narrow: boolean;
  moeOnly?: boolean;
}

/** What an alternative changes, in words: `flex`, `DO off`, `split 7/5`, `+E+L`, `layout`, `mbg 2`, `no SP`. */
export function deltaText(rep: Plan, alt: Plan): string {
  const d = mappingDelta(rep, alt);
  const parts: string[] = [];
  if (d.dispatcher !== undefined) parts.push(String(d.dispatcher));
  if (d.distributed_optimizer !== undefined) parts.push(d.distributed_optimizer ? 'DO on' : 'DO off');
  if (d.layout !== undefined) parts.push(d.layout === null ? 'no layout' : 'layout');
  else if (d.first_stage_layers !== undefined || d.last_stage_layers !== undefined) parts.push(`split ${alt.firstStageLayers}/${alt.lastStageLayers}`);
  if (d.account_for_embedding !== undefined || d.account_for_loss !== undefined) {
    const acc = [alt.accountEmbedding ? 'E' : '', alt.accountLoss ? 'L' : ''].filter(Boolean).join('+');
    parts.push(acc ? `+${acc}` : 'no +E/L');
  }
  if (d.microbatch_group !== undefined) parts.push(`mbg ${alt.mbGroup}`);
  if (d.sequence_parallel !== undefined) parts.push(alt.sequenceParallel ? 'SP' : 'no SP');
  return parts.join(',') || 'same';
}

/** "+2 alt: flex; DO off" (plans equal in effect to this row), or ''. */
export function alternativesText(r: RankedPlan): string {
  const alts = r.alternatives ?? [];
  if (alts.length === 0) return '';
  return `+${alts.length} alt: ${alts.map((a) => deltaText(r.plan, a.plan)).join('; ')}`;
}

function columns(job: Job, opts: PlansTableOptions): Column[] {
  const precision = job.training.precision;
  const first = opts.firstRank ?? 1;
  const gib = (b: number) => (b / GIB).toFixed(1);
  const cols: Column[] = [
    { head: '#', right: true, narrow: true, cell: (_r, k) => String(first + k) },
    { head: 'TP', right: true, narrow: true, cell: (r) => tpCellText(r.plan) },
    { head: 'CP', right: true, narrow: true, cell: (r) => String(r.plan.cp) },
    { head: 'DP', right: true, narrow: true, cell: (r) => String(r.plan.dp) },
    { head: 'PP', right: true, narrow: true, cell: (r) => ppCellText(r.plan, job.model.num_layers) },
    { head: 'VPP', right: true, narrow: true, cell: (r) => (r.plan.vpp > 1 ? String(r.plan.vpp) : '-') },
    { head: 'EP', right: true, narrow: true, moeOnly: true, cell: (r) => String(r.plan.ep) },
    { head: 'ETP', right: true, narrow: true, moeOnly: true, cell: (r) => String(r.plan.etp) },
    { head: 'EDP', right: true, narrow: true, moeOnly: true, cell: (r) => String(r.plan.edp) },
    { head: 'MBS', right: true, narrow: true, cell: (r) => String(r.plan.microBatchSize) },
    { head: 'μB', right: true, narrow: true, cell: (r) => String(r.plan.numMicroBatches) },
    { head: 'DO', right: false, narrow: false, cell: (r) => (r.plan.distributedOptimizer ? 'yes' : 'no') },
    { head: 'recompute', right: false, narrow: true, cell: (r) => r.plan.recompute },
    { head: 'dispatcher', right: false, narrow: false, moeOnly: true, cell: (r) => r.plan.dispatcher },
    { head: 'step s', right: true, narrow: false, cell: (r) => r.estimate.stepTimeS.toFixed(2) },
    { head: 'tok/s/GPU', right: true, narrow: true, cell: (r) => Math.round(r.estimate.tokensPerSPerGpu).toLocaleString('en-US') },
    { head: `MFU(${precision})`, right: true, narrow: true, cell: (r) => `${(100 * r.estimate.mfu).toFixed(1)}%` },
  ];
  if (precision !== 'bf16') {
    cols.push({ head: 'MFU(bf16)', right: true, narrow: false,
      cell: (r) => `${((100 * r.estimate.tflopsPerGpu * 1e12) / opts.bf16PeakFlops).toFixed(1)}%` });
  }
  cols.push(
    { head: 'peak GiB', right: true, narrow: true, cell: (r) => gib(r.estimate.peakMemBytes) },
    { head: 'free GiB', right: true, narrow: true, cell: (r) => gib(headroomBytes(r.estimate)) },
    { head: 'main costs', right: false, narrow: false, cell: (r) => mainCostShares(r.estimate.time, r.estimate.stepTimeS) },
    { head: 'alternatives', right: false, narrow: true, cell: alternativesText },
  );
  const isMoe = job.model.num_experts > 0;
  return cols.filter((c) => (opts.wide || c.narrow) && (isMoe || !c.moeOnly));
}

function fit(s: string, width: number, right: boolean): string {
  const pad = ' '.repeat(Math.max(0, width - s.length));
  return right ? pad + s : s + pad;
}

/**
 * The plans as a plain aligned table: a header, a rule, one row per plan (and, with `tieRule`, a line after the
 * last plan in the tie). The default table is at most TABLE_WIDTH columns wide: the last column (alternatives)
 * is cut with '…' where it would pass it (the JSON lists every alternative). Dense models show no EP columns.
 */
export function renderPlansTable(job: Job, plans: RankedPlan[], opts: PlansTableOptions): string {
  let cols = columns(job, opts);
  let cells = plans.map((r, k) => cols.map((c) => c.cell(r, k)));
  // no row has alternatives: no column for them
  if (cells.every((row) => row[row.length - 1] === '')) {
    cols = cols.slice(0, -1);
    cells = cells.map((row) => row.slice(0, -1));
  }
  const heads = cols.map((c) => c.head);
  const widths = cols.map((c, k) => Math.max(c.head.length, ...cells.map((row) => row[k].length)));
  const last = cols.length - 1;
  let gap = GAP;
  if (!opts.wide && cols[last].head === 'alternatives') {
    const fixed = (g: string) => widths.slice(0, last).reduce((a, w) => a + w + g.length, 0);
    if (fixed(gap) + heads[last].length > TABLE_WIDTH) gap = ' '; // tight: one space between columns
    const room = TABLE_WIDTH - fixed(gap);
    if (room < heads[last].length) heads[last] = 'alt';
    const fitRoom = Math.max(heads[last].length, room);
    widths[last] = Math.max(heads[last].length, Math.min(widths[last], fitRoom));
    for (const row of cells) {
      if (row[last].length > fitRoom) row[last] = `${row[last].slice(0, fitRoom - 1)}…`;
    }
  }
  const line = (row: string[]) => row.map((s, k) => fit(s, widths[k], cols[k].right)).join(gap).trimEnd();
  const total = widths.reduce((a, w) => a + w, 0) + gap.length * last;
  const out = [line(heads), '─'.repeat(opts.wide ? total : Math.min(total, TABLE_WIDTH))];
  plans.forEach((r, k) => {
    out.push(line(cells[k]));
    const next = plans[k + 1];
    if (opts.tieRule && r.inTie && next && !next.inTie) out.push(opts.tieRule);
  });
  return out.join('\n');
}
