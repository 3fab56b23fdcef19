/**
 * argv → Layout → argv: for every shipped fixture (fixtures/models/, fixtures/ci/), plans of the default space
 * (every distinct pipeline shape, plus an even sample of the rest) are exported with megatronLaunch, read back
 * into a layout by the argument checker (megatronArgsLayout), compared size by size with the plan and the job,
 * and exported again: the same list. So the checker runs the rule table on exactly the plan that was exported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Plan } from '../../src/enumerate/plan.js';
import { clonePlan } from '../../src/enumerate/plan.js';
import { enumeratePlans, loadSearchSpace } from '../../src/enumerate/index.js';
import { megatronLaunch } from '../../src/export/megatron-launch.js';
import { megatronArgsLayout } from '../../src/export/megatron-flags.js';
import { loadJob } from '../../src/job/load-job.js';
import { modelShape } from '../../src/job/shape.js';
import type { Job } from '../../src/job/types.js';

/** Fixtures without a cluster run on this many GPUs. */
const DEFAULT_GPUS = 64;

function fixtureJobs(): [string, Job][] {
  const out: [string, Job][] = [];
  for (const dir of ['fixtures/models', 'fixtures/ci']) {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
      const file = path.join(dir, f);
      let job: Job;
      try {
        job = loadJob(file);
      } catch {
        job = loadJob(file, { gpus: DEFAULT_GPUS });
      }
      out.push([file, job]);
    }
  }
  return out;
}

/** One plan per distinct (pp, vpp, split, dispatcher, recompute), and about `sample` more spread over the rest. */
function samplePlans(job: Job, sample = 120): Plan[] {
  const shape = modelShape(job.model);
  const space = loadSearchSpace();
  let count = 0;
  for (const _p of enumeratePlans(job, shape, space)) count++;
  const stride = Math.max(1, Math.floor(count / sample));
  const seen = new Set<string>();
  const out: Plan[] = [];
  let i = 0;
  for (const p of enumeratePlans(job, shape, space)) {
    const key = `${p.pp}/${p.vpp}/${p.firstStageLayers}/${p.lastStageLayers}/${p.dispatcher}/${p.recompute}`;
    if (!seen.has(key) || i % stride === 0) out.push(clonePlan(p));
    seen.add(key);
    i++;
  }
  return out;
}

const SIZES = ['tp', 'cp', 'dp', 'pp', 'vpp', 'ep', 'etp', 'edp', 'firstStageLayers', 'lastStageLayers',
  'microBatchSize', 'numMicroBatches', 'sequenceParallel', 'dispatcher', 'recompute', 'distributedOptimizer',
  'precision'] as const;

for (const [file, job] of fixtureJobs()) {
  test(`round trip argv → layout → argv: ${file} on ${job.cluster.gpus} GPUs`, () => {
    const shape = modelShape(job.model);
    const plans = samplePlans(job);
    assert.ok(plans.length > 0, 'the default space has plans for the fixture');
    const m = job.model;
    for (const plan of plans) {
      let launch;
      try {
        launch = megatronLaunch(job, shape, plan);
      } catch (e) {
        // fp8 needs Hopper; every other refusal of an enumerated plan is a bug
        assert.match(String(e), /fp8 training needs Hopper/);
        continue;
      }
      const back = megatronArgsLayout(launch.args, job.cluster.gpus);
      const what = `${file}: ${JSON.stringify(plan)}`;
      for (const k of SIZES) assert.equal(back.plan[k], plan[k], `${k} of ${what}`);
      assert.equal(back.job.model.num_layers, m.num_layers, what);
      assert.equal(back.job.model.num_attention_heads, m.num_attention_heads, what);
      assert.equal(back.job.model.num_experts, m.num_experts, what);
      assert.equal(back.job.model.ffn_hidden_size, m.ffn_hidden_size, what);
      assert.equal(back.job.model.max_position_embeddings, m.max_position_embeddings, what);
      if (!m.multi_latent_attention) assert.equal(back.job.model.num_query_groups, m.num_query_groups, what);
      if (shape.isMoe) {
        assert.equal(back.job.model.moe_ffn_hidden_size, m.moe_ffn_hidden_size, what);
        assert.equal(back.job.model.moe_shared_expert_intermediate_size, m.moe_shared_expert_intermediate_size, what);
        assert.deepEqual(back.shape.moeLayerMask, shape.moeLayerMask, what);
      }
      assert.equal(back.shape.isMoe, shape.isMoe, what);
      assert.equal(back.shape.numDenseLayers, shape.numDenseLayers, what);
      assert.equal(back.job.training.seq_length, job.training.seq_length, what);
      assert.equal(back.job.training.global_batch_size, job.training.global_batch_size, what);
      // and the layout read back exports to the same list
      assert.deepEqual(megatronLaunch(job, shape, back.plan).args, launch.args, what);
    }
  });
}

test('round trip: a changed flag changes the layout read back (the comparison can fail)', () => {
  const [, job] = fixtureJobs().find(([f]) => f.endsWith('mixtral-8x22b-128.yaml')) as [string, Job];
  const shape = modelShape(job.model);
  const plan = samplePlans(job, 5).find((p) => p.pp > 1 && p.tp > 1) as Plan;
  const args = megatronLaunch(job, shape, plan).args;
  const i = args.indexOf('--tensor-model-parallel-size');
  const changed = [...args];
  changed[i + 1] = String(plan.tp * 2);
  const back = megatronArgsLayout(changed, job.cluster.gpus);
  assert.equal(back.plan.tp, plan.tp * 2);
  assert.equal(back.plan.dp, plan.dp / 2);
  assert.notDeepEqual(megatronLaunch(job, shape, plan).args, changed);
});
