/**
 * Jobs and plans torchtitan v0.2.2 can take, for the torchtitan tests: Qwen3-30B-A3B on 16 H100 and Llama 3 70B
 * on 64 H100 (fixtures/ci as they are), DeepSeek-V3 (fixtures/models) in bf16 without MTP. Plans are literal
 * mappings valid for their job (planFor derives dp, edp and the micro-batch count).
 */
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { deepseekJob, deepseekPlan, fixtureJob, planFor } from './jobs.js';

export const qwenJob = (): Job => fixtureJob('fixtures/ci/qwen3-30b-a3b-16.yaml');
/** On 16 GPUs: TP2 EP8 ETP1, dp 8, edp 2, mbs 2 -> 32 micro-batches. */
export const qwenPlan = (): Plan => planFor(qwenJob(), {
  tp: 2, cp: 1, pp: 1, vpp: 1, ep: 8, etp: 1, firstStageLayers: 48, lastStageLayers: 48, microBatchSize: 2,
  recompute: 'full', dispatcher: 'alltoall', sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
});
export const llamaJob = (): Job => fixtureJob('fixtures/ci/llama3-70b-64.yaml');
/** On 64 GPUs: TP4 PP4 VPP2, first/last stage 18 layers (middle 22), dp 4, mbs 1 -> 32 micro-batches. */
export const llamaPlan = (): Plan => planFor(llamaJob(), {
  tp: 4, cp: 1, pp: 4, vpp: 2, ep: 1, etp: 4, firstStageLayers: 18, lastStageLayers: 18, microBatchSize: 1,
  recompute: 'none', dispatcher: 'alltoall', sequenceParallel: true, distributedOptimizer: true, precision: 'bf16',
});
/** DeepSeek-V3 in bf16 without MTP: torchtitan's deepseek_v3 "671B". */
export function deepseekBf16(): { job: Job; plan: Plan } {
  const job = deepseekJob();
  job.model.mtp_num_layers = 0;
  job.training.precision = 'bf16';
  return { job, plan: { ...deepseekPlan(), recompute: 'full', precision: 'bf16' } };
}
