/** What the report is drawn from, and the plan facts its charts and tables read from the result's JSON. */
import type { ResultJson } from '../plans/result.js';
import type { SweepJson } from '../sweep/sweep-json.js';
import type { PlanJson } from '../render/plan-json.js';
import type { Job } from '../job/types.js';
import type { Plan } from '../enumerate/plan.js';
import { planFromJson } from '../plans/plans-file.js';
import { ppCellText, splitText, tpCellText } from '../render/split-text.js';
import type { TimeBreakdown } from '../cost/estimate.js';
import { mainCostShares, TIME_TERM_LABELS } from '../render/cost-shares.js';
import { snakeWithoutUnit } from '../render/numbers.js';

export interface ReportInput {
  result: ResultJson;
  sweep?: SweepJson;
}

/** The job a result was planned for (the result holds its resolved sections). */
export function jobOfResult(result: ResultJson): Job {
  return { source: result.job_file, model: result.model, training: result.training, cluster: result.cluster };
}

/** Memory left on the GPU by a plan: usable minus peak, in GiB. */
export function headroomGib(p: PlanJson): number {
  return p.estimate.usable_memory_gib - p.estimate.peak_memory_gib;
}

/** The plan of a PlanJson, read back by the plans-file reader (so split texts come from their one home). */
export function planOf(job: Job, p: PlanJson, field: string): Plan {
  return planFromJson(p, job.source, field, job);
}

/**
 * A plan's mapping in one short line: `TP2 CP1 DP8 PP8 VPP7 | ETP1 EP8 EDP2` (the PP and TP cells as the
 * terminal table writes them: `PP16 (4/1)`, `TP4 (no SP)`); the MoE part only for MoE models.
 */
export function mappingText(job: Job, p: PlanJson, field: string): string {
  const plan = planOf(job, p, field);
  const m = p.mapping;
  const attn = `TP${tpCellText(plan)} CP${m.cp} DP${m.dp} PP${ppCellText(plan, job.model.num_layers)}${m.vpp > 1 ? ` VPP${m.vpp}` : ''}`;
  return job.model.num_experts > 0 ? `${attn} | ETP${m.etp} EP${m.ep} EDP${m.edp}` : attn;
}

/** The pipeline split in words ("even split, 7 layers per stage", "layout Et*3|…"), '' for PP 1. */
export function splitOf(job: Job, p: PlanJson, field: string): string {
  return splitText(planOf(job, p, field), job.model.num_layers);
}

/** The run settings of a plan: `MBS 1 × 32, recompute none, alltoall, DO`. */
export function runText(job: Job, p: PlanJson): string {
  const parts = [`MBS ${p.micro_batch_size} × ${p.num_micro_batches}`, `recompute ${p.recompute}`];
  if (job.model.num_experts > 0) parts.push(p.dispatcher);
  parts.push(p.distributed_optimizer ? 'dist. optimizer' : 'no dist. optimizer');
  return parts.join(', ');
}

/** The step-time terms of a plan's JSON back under their Estimate names (`ep_comm` → `epCommS`). */
export function timeBreakdownOf(p: PlanJson): TimeBreakdown {
  const t = {} as TimeBreakdown;
  for (const k of Object.keys(TIME_TERM_LABELS) as (keyof TimeBreakdown)[]) t[k] = p.estimate.time_breakdown_s[snakeWithoutUnit(k, 'S')] ?? 0;
  return t;
}

/** "experts 67% · other compute 12% · attention 11%", as the terminal table's main costs column. */
export function mainCostSharesOfJson(p: PlanJson): string {
  return mainCostShares(timeBreakdownOf(p), p.estimate.step_time_s);
}
