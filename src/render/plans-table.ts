import Table from 'cli-table3';
import type { Job } from '../job/types.js';
import type { RankedPlan } from '../search/ranked.js';
import { GIB } from './numbers.js';
import { ppCellText, tpCellText } from './split-text.js';
import { mainCostShares } from './cost-shares.js';

/** Column headers of the plans table; README.md explains each one. */
export const PLAN_COLUMNS = [
  '#', 'TP', 'CP', 'DP', 'PP', 'VPP', 'ETP', 'EP', 'EDP', 'MBS', 'DO', 'recompute', 'dispatcher',
  'step s', 'tok/s/GPU', 'MFU', 'peak GiB', 'main costs',
];

export function renderPlansTable(job: Job, plans: RankedPlan[], firstRank = 1): string {
  const table = new Table({
    head: PLAN_COLUMNS,
    style: { head: [], border: [], compact: true },
    colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left', 'left',
      'right', 'right', 'right', 'right', 'left'],
  });
  const isMoe = job.model.num_experts > 0;
  plans.forEach((r, i) => {
    const p = r.plan;
    const e = r.estimate;
    table.push([
      String(firstRank + i), tpCellText(p), String(p.cp), String(p.dp), ppCellText(p, job.model.num_layers),
      p.vpp > 1 ? String(p.vpp) : '-',
      isMoe ? String(p.etp) : '-', isMoe ? String(p.ep) : '-', isMoe ? String(p.edp) : '-',
      String(p.microBatchSize), p.distributedOptimizer ? 'yes' : 'no', p.recompute, isMoe ? p.dispatcher : '-',
      e.stepTimeS.toFixed(2), Math.round(e.tokensPerSPerGpu).toLocaleString('en-US'),
      `${(100 * e.mfu).toFixed(1)}%`, (e.peakMemBytes / GIB).toFixed(1),
      mainCostShares(e.time, e.stepTimeS),
    ]);
  });
  return table.toString();
}
