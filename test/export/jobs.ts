/**
 * Jobs and plans for the export tests. The jobs are fixtures read through the real loader (loadJob): Mixtral 8x22B
 * on 128 H100 and DeepSeek-V3 on 1024 H100 are fixtures/models/ files as they are (model and run), the small dense
 * job is fixtures/test-models/dense-1b.yaml. Each job's `source` is its path relative to the repository root.
 * Plans are literal mappings valid for their job; dp, edp and the micro-batch count are derived from the job:
 * Mixtral TP2 PP8 VPP7 EP8 ETP1 (the model-zoo layout); DeepSeek-V3 TP1 PP16 EP64 ETP1, first/last stage 4/1
 * layers, flex (DeepEP) dispatcher; dense TP2 PP2.
 */
import path from 'node:path';
import type { Plan } from '../../src/enumerate/plan.js';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob } from '../../src/job/load-job.js';
import { modelShape } from '../../src/job/shape.js';
import type { Job, ModelShape } from '../../src/job/types.js';

/** The job of fixture `file` (relative to the repository root), named by that relative path. */
export function fixtureJob(file: string): Job {
  return { ...loadJob(path.join(REPO_ROOT, file)), source: file };
}

export type Mapping = Omit<Plan, 'dp' | 'edp' | 'numMicroBatches' | 'accountEmbedding' | 'accountLoss' | 'layout' | 'mbGroup'>
  & Partial<Pick<Plan, 'accountEmbedding' | 'accountLoss' | 'layout' | 'mbGroup'>>;

/** `m` on `job`: dp = W/(TP·CP·PP), edp = W/(ETP·EP·PP), micro-batches = GBS/(mbs·dp). */
export function planFor(job: Job, m: Mapping): Plan {
  const W = job.cluster.gpus;
  const dp = W / (m.tp * m.cp * m.pp);
  return {
    tp: m.tp, cp: m.cp, dp, pp: m.pp, vpp: m.vpp, ep: m.ep, etp: m.etp, edp: W / (m.etp * m.ep * m.pp),
    firstStageLayers: m.firstStageLayers, lastStageLayers: m.lastStageLayers,
    accountEmbedding: m.accountEmbedding ?? false, accountLoss: m.accountLoss ?? false, layout: m.layout ?? '',
    mbGroup: m.mbGroup ?? m.pp,
    microBatchSize: m.microBatchSize, numMicroBatches: job.training.global_batch_size / (m.microBatchSize * dp),
    recompute: m.recompute, dispatcher: m.dispatcher,
    sequenceParallel: m.sequenceParallel, distributedOptimizer: m.distributedOptimizer, precision: m.precision,
  };
}

/** Mixtral 8x22B, 128 H100, seq 4096, GBS 256, bf16 (fixtures/models/mixtral-8x22b.yaml). */
export function mixtralJob(): Job {
  return fixtureJob('fixtures/models/mixtral-8x22b.yaml');
}

/** On 128 GPUs: dp 8, edp 2, 32 micro-batches. */
export function mixtralPlan(): Plan {
  return planFor(mixtralJob(), {
    tp: 2, cp: 1, pp: 8, vpp: 7, ep: 8, etp: 1,
    firstStageLayers: 7, lastStageLayers: 7, microBatchSize: 1,
    recompute: 'none', dispatcher: 'alltoall',
    sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
  });
}

/** DeepSeek-V3, 1024 H100, seq 4096, GBS 8192, fp8 (fixtures/models/deepseek-v3.yaml). */
export function deepseekJob(): Job {
  return fixtureJob('fixtures/models/deepseek-v3.yaml');
}

/** On 1024 GPUs: dp 64, edp 1, 128 micro-batches. */
export function deepseekPlan(): Plan {
  return planFor(deepseekJob(), {
    tp: 1, cp: 1, pp: 16, vpp: 1, ep: 64, etp: 1,
    firstStageLayers: 4, lastStageLayers: 1, microBatchSize: 1,
    recompute: 'selective', dispatcher: 'flex',
    sequenceParallel: false, distributedOptimizer: true, precision: 'fp8',
  });
}

/** A small made-up dense job (Llama-style) for rules that need a dense model: 8 layers, 16 GPUs. */
export function denseJob(): Job {
  return fixtureJob('fixtures/test-models/dense-1b.yaml');
}

/** On 16 GPUs: dp 4, edp 4, 16 micro-batches. */
export function densePlan(): Plan {
  return planFor(denseJob(), {
    tp: 2, cp: 1, pp: 2, vpp: 1, ep: 1, etp: 2,
    firstStageLayers: 4, lastStageLayers: 4, microBatchSize: 1,
    recompute: 'none', dispatcher: 'alltoall',
    sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
  });
}

export function shapeOf(job: Job): ModelShape {
  return modelShape(job.model);
}

export interface Case {
  name: string;
  job: Job;
  plan: Plan;
}

export const GOLDEN_CASES: readonly Case[] = [
  { name: 'mixtral-8x22b', job: mixtralJob(), plan: mixtralPlan() },
  { name: 'deepseek-v3', job: deepseekJob(), plan: deepseekPlan() },
];
