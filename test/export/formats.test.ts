/** The refusals Megatron-Bridge and torchtitan share with Megatron-LM, and Megatron's virtual-stage layer counts (Bridge keys: bridge-overrides.test.ts; torchtitan: torchtitan.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPlan, virtualStageLayers } from '../../src/export/index.js';
import type { Plan } from '../../src/enumerate/plan.js';
import type { Job } from '../../src/job/types.js';
import { deepseekJob, deepseekPlan, densePlan, mixtralJob, mixtralPlan, shapeOf } from './jobs.js';

function plan(base: Plan, change: Partial<Plan>): Plan {
  return { ...base, ...change };
}

/** DeepSeek-V3 cut to 60 layers, bf16 and no MTP, so torchtitan can take it: PP16 VPP2, 2/2 first/last. */
function deepseek60(): { job: Job; plan: Plan } {
  const job = deepseekJob();
  job.model.num_layers = 60;
  job.model.moe_layer_freq = [0, 0, 0, ...new Array<number>(57).fill(1)];
  job.model.mtp_num_layers = 0;
  job.training.precision = 'bf16';
  return { job, plan: plan(deepseekPlan(), { vpp: 2, firstStageLayers: 2, lastStageLayers: 2, recompute: 'full', precision: 'bf16' }) };
}

test('virtualStageLayers: Megatron\'s layer counts per virtual stage', () => {
  assert.deepEqual(virtualStageLayers(mixtralPlan(), 56), new Array<number>(56).fill(1));
  assert.deepEqual(virtualStageLayers(deepseekPlan(), 61), [4, ...new Array<number>(14).fill(4), 1]);
  const chunk = [1, ...new Array<number>(14).fill(2), 1];
  assert.deepEqual(virtualStageLayers(deepseek60().plan, 60), [...chunk, ...chunk]);
  assert.deepEqual(virtualStageLayers(plan(densePlan(), { pp: 1, vpp: 1 }), 8), [8]);
  assert.deepEqual(virtualStageLayers(plan(densePlan(), { pp: 2, vpp: 2 }), 8), [2, 2, 2, 2]);
});

// the Megatron-Bridge keys per plan feature: test/export/bridge-overrides.test.ts

test('bridge and torchtitan refuse what Megatron refuses', () => {
  const bad = plan(mixtralPlan(), { vpp: 2 }); // 7 layers per stage do not split over 2 virtual stages
  for (const f of ['megatron-bridge', 'torchtitan', 'megatron', 'torchrun', 'slurm'] as const) {
    assert.throws(() => exportPlan(f, mixtralJob(), shapeOf(mixtralJob()), bad),
      /export: Megatron-LM would refuse this plan: 7 layers per pipeline stage are not divisible by the virtual stages 2/, f);
  }
});
