/**
 * The development set as the accuracy report and the fitter read it: fixtures/accuracy/runs.yaml (written by
 * scripts/accuracy-fixtures.ts from data/measured-runs.yaml), each entry a job file and a plan in `moefold score
 * --plan` syntax. loadDevSet loads every job through the CLI's loader (loadJobContext), checks each plan with
 * Megatron's rules (a plan Megatron would refuse stops the report), settles the recompute mode of runs that do not
 * publish one (the first of `assume_recompute` that fits under the file's calibration) and the measured
 * tokens/s/GPU. predict() scores a run under any calibration (the fitter varies the free constants).
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadJobContext, type JobContext } from '../src/job-context.js';
import { checkPlan, parsePlanSpec } from '../src/enumerate/index.js';
import { scorePlan } from '../src/cost/score.js';
import { newEstimate } from '../src/cost/estimate.js';
import type { FitRun } from '../src/calibrate/fit-core.js';
import type { Plan } from '../src/enumerate/plan.js';
import type { JobOverrides } from '../src/job/load-job.js';

/** One entry of fixtures/accuracy/runs.yaml. */
export interface Entry {
  id: string;
  group?: string;
  job: string;
  plan: string;
  assume_recompute?: string[];
  measured: { tokens_per_s_per_gpu?: number; how?: string; tflops_per_gpu?: number; flop_convention?: string; flop_vocab_size?: number };
  notes?: string;
  outlier?: string;
  hard_case?: string;
  source?: string;
}
export interface Index { runs_file?: string; runs: Entry[]; skipped?: string[] }

/** A run ready to score: its job context, the plan scored, the measurement. */
export interface DevRun extends FitRun {
  entry: Entry;
  /** The leave-one-group-out unit: the source / software release (entry.group). */
  group: string;
  jc: JobContext;
  plan: Plan;
  /** The recompute mode assumed where the run publishes none ('' when published). */
  assumed: string;
  measuredTokens: number;
  measuredHow: string;
  moe: boolean;
  fp8: boolean;
  /** MoE run with forced-balanced routing (--moe-router-force-load-balancing). */
  forced: boolean;
  /** Runs of one group on the same model, GPU count and sequence length: the unit of the ranking check. */
  rankKey: string;
}

export { calibrationField, withValues, predict, median } from '../src/calibrate/fit-core.js';

export class DevSetError extends Error {
  constructor(message: string, readonly exitCode = 2) { super(message); }
}

export function readIndex(f: string): Index {
  let d: unknown;
  try {
    d = yaml.load(fs.readFileSync(f, 'utf8'), { filename: f });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message.split('\n')[0];
    throw new DevSetError(`${f}: ${why}`);
  }
  const runs = (d as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) throw new DevSetError(`${f}: runs: missing (expected a list of accuracy runs)`);
  return d as Index;
}

/** Measured tokens/s/GPU: as published, or from TFLOPS with the source's FLOP convention. */
function measuredTokens(e: Entry, jc: JobContext): { tok: number; how: string } {
  const m = e.measured;
  if (typeof m.tokens_per_s_per_gpu === 'number') return { tok: m.tokens_per_s_per_gpu, how: m.how ?? 'tok/s' };
  if (typeof m.tflops_per_gpu !== 'number') throw new DevSetError(`${e.id}: measured: needs tokens_per_s_per_gpu or tflops_per_gpu`);
  if (m.flop_convention === 'nemo-noncausal') {
    // NeMo <= 25.07: non-causal attention, fixed vocabulary per family
    const model = jc.job.model;
    const vocab = m.flop_vocab_size ?? model.vocab_size;
    const h = model.hidden_size;
    const L = model.num_layers;
    const s = jc.job.training.seq_length;
    const g = model.num_query_groups / model.num_attention_heads;
    const f = model.swiglu ? 18 * model.ffn_hidden_size / h : 12 * model.ffn_hidden_size / h;
    const perToken = L * h * h * (12 + 12 * g + f + 12 * s / h + 6 * vocab / (L * h));
    return { tok: (m.tflops_per_gpu * 1e12) / perToken, how: 'from TFLOPS (NeMo non-causal)' };
  }
  if (m.flop_convention === 'megatron-causal') {
    return { tok: (m.tflops_per_gpu * 1e12) / jc.scoreContext().flopsPerToken, how: 'from TFLOPS (Megatron causal)' };
  }
  throw new DevSetError(`${e.id}: measured.flop_convention: must be nemo-noncausal or megatron-causal (got ${String(m.flop_convention)})`);
}

/** The plan `moefold score JOB --plan SPEC` would score; a plan Megatron refuses stops the report (exit 1). */
function planOf(e: Entry, jc: JobContext, spec: string): Plan {
  const plan = parsePlanSpec(spec, jc.job, jc.shape);
  const broken = checkPlan(jc.job, jc.shape, plan);
  if (broken.length > 0) {
    throw new DevSetError(`${e.id}: --plan ${spec}: Megatron-Core would refuse this plan: ` +
      `${broken.map((v) => `${v.rule} (${v.reason})`).join('; ')}`, 1);
  }
  return plan;
}

/** Loads every entry of `file` (overrides as `moefold score` takes them, e.g. { gpu }). */
export function loadDevSet(file: string, overrides: JobOverrides = {}): { index: Index; runs: DevRun[] } {
  const index = readIndex(file);
  const dir = path.dirname(file);
  const runs: DevRun[] = [];
  for (const e of index.runs) {
    let jc: JobContext;
    try {
      jc = loadJobContext(path.resolve(dir, e.job), overrides, { warn: false });
    } catch (err) {
      throw new DevSetError(`${e.id}: ${(err as Error).message}`);
    }
    const ctx = jc.scoreContext();
    let plan: Plan | undefined;
    let assumed = '';
    try {
      if (e.assume_recompute && e.assume_recompute.length > 0) {
        for (const mode of e.assume_recompute) {
          plan = planOf(e, jc, `${e.plan},recompute=${mode}`);
          assumed = mode;
          if (scorePlan(ctx, plan, newEstimate()).fits) break;
        }
      } else {
        plan = planOf(e, jc, e.plan);
      }
    } catch (err) {
      if (err instanceof DevSetError) throw err;
      throw new DevSetError(`${e.id}: ${(err as Error).message}`);
    }
    const meas = measuredTokens(e, jc);
    const t = jc.job.training;
    const moe = jc.shape.isMoe;
    runs.push({
      entry: e, group: e.group ?? e.id, jc, plan: plan!, assumed, measuredTokens: meas.tok, measuredHow: meas.how, moe,
      fp8: t.precision === 'fp8', forced: moe && t.moe_router_force_load_balancing,
      rankKey: `${e.group ?? e.id}|${jc.job.model.name ?? e.job}|${jc.job.cluster.gpus}|${t.seq_length}`,
    });
  }
  return { index, runs };
}

