/**
 * Models, jobs and plans for the cost-model tests. The models are fixtures read through the real loader (loadJob):
 * the real models from fixtures/models/ (each names its published source); baseModel() edits the made-up
 * fixtures/test-models/tiny-dense.yaml. job() puts a model on a run without checking it (tests pass edited
 * variants), and plan() derives dp / edp / micro-batches from the GPU count, layers and global batch.
 */
import { defaultFinetune, type FinetuneSpec } from '../../src/job/finetune.js';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob } from '../../src/job/load-job.js';
import type { Job, ModelSpec, Precision, Dispatcher, Recompute, StackSpec } from '../../src/job/types.js';
import { defaultStack } from '../../src/job/stack.js';
import type { Plan } from '../../src/enumerate/plan.js';

/** The model of fixture `file` (relative to the repository root; the GPU count is given for files without one). */
function fixtureModel(file: string): ModelSpec {
  return loadJob(path.join(REPO_ROOT, file), { gpus: 8 }).model;
}

const TINY_DENSE = fixtureModel('fixtures/test-models/tiny-dense.yaml');

/** The small made-up dense model (fixtures/test-models/tiny-dense.yaml) with the fields of `over` replaced. */
export function baseModel(over: Partial<ModelSpec>): ModelSpec {
  return { ...TINY_DENSE, ...over };
}

export const MIXTRAL_8X22B = fixtureModel('fixtures/models/mixtral-8x22b.yaml');

export const DEEPSEEK_V3 = fixtureModel('fixtures/models/deepseek-v3.yaml');

export const LLAMA3_70B = fixtureModel('fixtures/models/llama3-70b.yaml');

export function job(model: ModelSpec, gpus: number, seq: number, gbs: number, precision: Precision = 'bf16',
  stack: Partial<StackSpec & FinetuneSpec> = {}): Job {
  return {
    source: 'test', model,
    training: { seq_length: seq, global_batch_size: gbs, precision, ...defaultStack(), ...defaultFinetune(), ...stack },
    cluster: { gpu: 'h100-sxm', gpus, gpus_per_node: 8 },
  };
}

export interface PlanArgs {
  tp: number; cp?: number; pp: number; vpp?: number; ep?: number; etp?: number; mbs?: number;
  first?: number; last?: number; recompute?: Recompute; dispatcher?: Dispatcher; precision?: Precision;
  distributedOptimizer?: boolean; sequenceParallel?: boolean;
}

/** A plan for `gpus` GPUs and `layers` layers, deriving dp / edp / micro-batches. */
export function plan(a: PlanArgs, gpus: number, layers: number, gbs: number): Plan {
  const cp = a.cp ?? 1;
  const ep = a.ep ?? 1;
  const etp = a.etp ?? 1;
  const mbs = a.mbs ?? 1;
  const dp = gpus / (a.tp * cp * a.pp);
  const even = layers / a.pp;
  return {
    tp: a.tp, cp, dp, pp: a.pp, vpp: a.vpp ?? 1, ep, etp, edp: gpus / (etp * ep * a.pp),
    firstStageLayers: a.first ?? even, lastStageLayers: a.last ?? even,
    accountEmbedding: false, accountLoss: false, layout: '', mbGroup: a.pp,
    microBatchSize: mbs, numMicroBatches: gbs / (mbs * dp),
    recompute: a.recompute ?? 'none', dispatcher: a.dispatcher ?? 'alltoall',
    sequenceParallel: a.sequenceParallel ?? a.tp > 1, distributedOptimizer: a.distributedOptimizer ?? true,
    precision: a.precision ?? 'bf16',
  };
}
