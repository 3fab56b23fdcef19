/**
 * The software-stack fields of the job (src/job/stack.ts) through the scorer: each modelled field moves its own
 * cost term by the calibrated amount, and the defaults price what the export launches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadCalibration } from '../../src/cost/calibration.js';
import { makeScoreContext, scorePlan } from '../../src/cost/score.js';
import { newEstimate, type Estimate } from '../../src/cost/estimate.js';
import { loadJob } from '../../src/job/load-job.js';
import { modelShape } from '../../src/job/shape.js';
import type { Job, StackSpec } from '../../src/job/types.js';
import { plan, type PlanArgs } from './fixtures.js';
import fs from 'node:fs';
import { stackFieldTableMarkdown, tpCommOverlapRuns } from '../../src/job/stack.js';
import { megatronLaunch, parseMegatronArgs } from '../../src/export/index.js';

const cal = loadCalibration('h100-sxm');
const close = (a: number, b: number, rel = 1e-9): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);
const MIXTRAL_PLAN: PlanArgs = { tp: 2, pp: 8, vpp: 7, ep: 8, etp: 1 };

function mixtral(stack: Partial<StackSpec> = {}, precision = 'bf16'): Job {
  return loadJob(path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml'), { gpus: 128, precision, stack });
}

function score(job: Job, over: Partial<PlanArgs> = {}): Estimate {
  const p = plan({ ...MIXTRAL_PLAN, ...over }, job.cluster.gpus, job.model.num_layers, job.training.global_batch_size);
  return scorePlan(makeScoreContext(job, modelShape(job.model), cal), p, newEstimate());
}

/** Routed rows on the most loaded rank scale the expert GEMMs: the load factor of the context. */
const loadFactor = (job: Job): number => 1 + makeScoreContext(job, modelShape(job.model), cal).imbalance;

test('routing: real routing loads the busiest expert 1 + routing_imbalance_real; forced balance and CF 1 give 1', () => {
  assert.equal(loadFactor(mixtral()), 1 + cal.routingImbalanceReal);
  assert.equal(loadFactor(mixtral({ moe_router_force_load_balancing: true })), 1 + cal.routingImbalanceForced);
  assert.equal(loadFactor(mixtral({ moe_expert_capacity_factor: 1 })), 1);
  assert.equal(loadFactor(mixtral({ moe_expert_capacity_factor: 2 })), 1 + cal.routingImbalanceReal);
  assert.equal(loadFactor(mixtral({ moe_routing_imbalance: 1.5 })), 1.5);
  const base = score(mixtral());
  const forced = score(mixtral({ moe_router_force_load_balancing: true }));
  assert.ok(forced.time.expertsS < base.time.expertsS && forced.time.epCommS < base.time.epCommS);
  assert.equal(forced.time.attentionS, base.time.attentionS);
  // the same load factor gives the same plan figures, whichever field set it
  assert.equal(score(mixtral({ moe_expert_capacity_factor: 1 })).stepTimeS, forced.stepTimeS);
  assert.equal(score(mixtral({ moe_routing_imbalance: 1 + cal.routingImbalanceReal })).stepTimeS, base.stepTimeS);
  assert.ok(score(mixtral({ moe_routing_imbalance: 2 })).time.expertsS > base.time.expertsS);
});

test('grad_reduce_in_bf16 halves the main-gradient memory and shrinks the DP reduce', () => {
  const base = score(mixtral());
  const bf16 = score(mixtral({ grad_reduce_in_bf16: true }));
  assert.equal(bf16.mem.gradientsBytes, base.mem.gradientsBytes / 2);
  assert.ok(bf16.time.dpCommS < base.time.dpCommS);
  assert.equal(bf16.mem.weightsBytes, base.mem.weightsBytes);
});

test('overlap_moe_expert_parallel_comm hides ep_a2a_overlap_fraction of the EP all-to-all, only where Megatron runs it', () => {
  const on = mixtral({ overlap_moe_expert_parallel_comm: true });
  const base = score(mixtral());
  close(score(on).time.epCommS, base.time.epCommS * (1 - cal.epA2aOverlapFraction));
  // not with PP > 1 and no VPP, full recompute or the allgather dispatcher
  for (const over of [{ vpp: 1 }, { recompute: 'full' as const }, { dispatcher: 'allgather' as const }]) {
    assert.equal(score(on, over).time.epCommS, score(mixtral(), over).time.epCommS, JSON.stringify(over));
  }
  // both layer memos of one context stay apart: score VPP 1 then VPP 7 plans on the same context
  const ctx = makeScoreContext(on, modelShape(on.model), cal);
  const e = newEstimate();
  const g = (o: Partial<PlanArgs>): number => scorePlan(ctx, plan({ ...MIXTRAL_PLAN, ...o }, 128, 56, 256), e).time.epCommS;
  const noVpp = g({ vpp: 1 });
  assert.equal(g({}), score(on).time.epCommS);
  assert.equal(g({ vpp: 1 }), noVpp);
  // delay_wgrad_compute is not modelled on its own
  assert.equal(score(mixtral({ overlap_moe_expert_parallel_comm: true, delay_wgrad_compute: true })).stepTimeS, score(on).stepTimeS);
});

test('recompute_modules is what selective recomputes', () => {
  const sel = { recompute: 'selective' as const };
  const a = score(mixtral({ recompute_modules: ['core_attn'] }), sel);
  const b = score(mixtral({ recompute_modules: ['core_attn', 'moe_act'] }), sel);
  assert.ok(b.mem.activationsBytes < a.mem.activationsBytes && b.time.recomputeS > a.time.recomputeS);
  // unset: moefold's selective set (core_attn layernorm moe_act for Mixtral)
  assert.equal(score(mixtral(), sel).stepTimeS, score(mixtral({ recompute_modules: ['core_attn', 'layernorm', 'moe_act'] }), sel).stepTimeS);
});

test('cross_entropy_loss_fusion (on by default) keeps 2 B per logit element instead of 6', () => {
  const pp1 = { pp: 1, vpp: 1, first: 56, last: 56 };
  const unfused = score(mixtral({ cross_entropy_loss_fusion: false }), pp1).mem.logitsBytes;
  assert.equal(score(mixtral(), pp1).mem.logitsBytes, (unfused * 2) / 6);
});

test('tp_comm_overlap: tp_overlap_fraction hides TP/SP collectives with TP > 1 and SP; off exposes them all', () => {
  const on = score(mixtral());
  const off = score(mixtral({ tp_comm_overlap: false }));
  close(on.time.tpCommS, off.time.tpCommS * (1 - cal.tpOverlapFraction));
  // without sequence parallel nothing is hidden (Megatron needs SP for --tp-comm-overlap)
  const dense = loadJob(path.join(REPO_ROOT, 'fixtures/models/llama3-70b.yaml'), { gpus: 64 });
  const dp = (j: Job, sp: boolean): number => scorePlan(makeScoreContext(j, modelShape(j.model), cal),
    { ...plan({ tp: 4, pp: 8, vpp: 5 }, 64, 80, j.training.global_batch_size), sequenceParallel: sp }, newEstimate()).time.tpCommS;
  const offDense = loadJob(path.join(REPO_ROOT, 'fixtures/models/llama3-70b.yaml'), { gpus: 64, stack: { tp_comm_overlap: false } });
  assert.equal(dp(dense, false), dp(offDense, false));
  assert.ok(dp(dense, true) < dp(offDense, true));
});

test('fp8_param_gather (off by default) halves the parameter all-gather of fp8 plans with the distributed optimizer', () => {
  const fp8 = { precision: 'fp8' as const };
  const off = score(mixtral({ fp8_param_gather: false }, 'fp8'), fp8);
  const pg = score(mixtral({ fp8_param_gather: true }, 'fp8'), fp8);
  assert.ok(pg.time.dpCommS < off.time.dpCommS);
  assert.equal(score(mixtral({}, 'fp8'), fp8).time.dpCommS, off.time.dpCommS);
  assert.equal(score(mixtral({ fp8_param_gather: true }), {}).stepTimeS, score(mixtral(), {}).stepTimeS); // bf16: no effect
});

test('the precision-aware optimizer dtypes set the optimizer-state bytes (12 = fp32 master + Adam m, v)', () => {
  const base = score(mixtral()).mem.optimizerStatesBytes;
  const bf16m = score(mixtral({ use_precision_aware_optimizer: true, exp_avg_dtype: 'bf16', exp_avg_sq_dtype: 'bf16' }));
  close(bf16m.mem.optimizerStatesBytes, (base * 8) / 12);
  const small = score(mixtral({ use_precision_aware_optimizer: true, main_params_dtype: 'fp16', exp_avg_dtype: 'fp8', exp_avg_sq_dtype: 'fp16' }));
  close(small.mem.optimizerStatesBytes, (base * 5) / 12);
  assert.equal(score(mixtral({ use_precision_aware_optimizer: true })).mem.optimizerStatesBytes, base);
});

test('hidden_dropout keeps a 1 B mask per stored residual element: 2 per layer and the embedding\'s, per in-flight micro-batch', () => {
  const a = score(mixtral({ hidden_dropout: 0 }));
  const b = score(mixtral({ hidden_dropout: 0.1 }));
  // first stage of TP2 (SP) PP8 VPP7: 7 layers, 9 in-flight micro-batches ((8-1)*2 + 6*8 + 1)/7, 4096/2 tokens stored
  assert.equal(b.mem.activationsBytes - a.mem.activationsBytes, 9 * (7 * 2 + 1) * 2048 * 6144);
  assert.equal(b.stepTimeS, a.stepTimeS);
});

test('FP8 plans hold TE\'s FP8 weight copies (2 B per GEMM param); with fp8_param_gather the weights themselves are FP8', () => {
  const fp8 = { precision: 'fp8' as const };
  const bf16 = score(mixtral());
  const e = score(mixtral({ fp8_param_gather: false }, 'fp8'), fp8);
  // first stage: 7 layers x (attention 88,080,384/TP2 + one local expert 3 x 6144 x 16384), 2 B each
  const gemm = 7 * (88_080_384 / 2 + 3 * 6144 * 16384);
  assert.equal(e.mem.fp8WeightCopiesBytes, 2 * gemm);
  assert.equal(e.mem.weightsBytes, bf16.mem.weightsBytes);
  assert.equal(bf16.mem.fp8WeightCopiesBytes, 0);
  const pg = score(mixtral({ fp8_param_gather: true }, 'fp8'), fp8);
  assert.equal(pg.mem.weightsBytes, bf16.mem.weightsBytes - gemm); // FP8 primary GEMM weights: 1 B instead of 2
  assert.equal(pg.mem.fp8WeightCopiesBytes, gemm); // + their transpose
});

test('fields that are not modelled leave every figure as it is', () => {
  const base = score(mixtral());
  const stack: Partial<StackSpec> = {
    cuda_graph_impl: 'transformer_engine', cuda_graph_modules: ['attn'], moe_permute_fusion: false, moe_router_fusion: false,
    fp8_recipe: 'tensorwise', moe_flex_dispatcher_backend: 'hybridep', attention_dropout: 0,
    moe_router_padding_for_fp8: false, manual_gc: false, manual_gc_interval: 7,
  };
  assert.deepEqual(score(mixtral(stack)), base);
  assert.deepEqual(score(mixtral({ cross_entropy_fusion_impl: 'te', cross_entropy_loss_fusion: false })),
    score(mixtral({ cross_entropy_loss_fusion: false })));
});

test('tp_comm_overlap: the scorer hides TP collectives exactly where the export writes --tp-comm-overlap (one predicate)', () => {
  const cases: [Job, Partial<PlanArgs>][] = [];
  for (const j of [mixtral(), mixtral({ tp_comm_overlap: false })]) {
    for (const over of [{}, { tp: 1, pp: 8, vpp: 7, ep: 8, etp: 1 }]) cases.push([j, over]);
  }
  let seen = 0;
  let plans = 0;
  for (const [j, over] of cases) {
    for (const sp of [true, false]) {
      const p = { ...plan({ ...MIXTRAL_PLAN, ...over }, 128, 56, j.training.global_batch_size), sequenceParallel: sp };
      if ((p.tp > 1) !== sp) continue; // plans: SP needs TP > 1, and an MoE model with TP > 1 needs SP
      const runs = tpCommOverlapRuns(j, p);
      const flags = parseMegatronArgs(megatronLaunch(j, modelShape(j.model), p).args);
      assert.equal(flags.has('--tp-comm-overlap'), runs);
      const ctx = makeScoreContext(j, modelShape(j.model), cal);
      const exposed = scorePlan(ctx, p, newEstimate()).time.tpCommS;
      const jOff = mixtral({ tp_comm_overlap: false });
      const allExposed = scorePlan(makeScoreContext(jOff, modelShape(jOff.model), cal), p, newEstimate()).time.tpCommS;
      if (runs) close(exposed, allExposed * (1 - cal.tpOverlapFraction));
      else assert.equal(exposed, allExposed);
      seen += runs ? 1 : 0;
      plans++;
    }
  }
  assert.deepEqual([plans, seen], [4, 1]); // runs only for TP 2 with SP and the overlap asked for
});

test('README.md holds the stack-field table generated from STACK_FIELDS', () => {
  assert.ok(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').includes(stackFieldTableMarkdown()),
    'README.md holds stackFieldTableMarkdown() (regenerate the table from src/job/stack.ts)');
});

test('fp8_param_gather is priced exactly where the launch writes --fp8-param-gather (fp8ParamGatherRuns)', () => {
  const fp8 = { precision: 'fp8' as const };
  const on = mixtral({ fp8_param_gather: true }, 'fp8');
  const off = mixtral({ fp8_param_gather: false }, 'fp8');
  // with the distributed optimizer: FP8 primary weights (1 B per GEMM parameter less than bf16 weights)
  assert.ok(score(on, fp8).mem.weightsBytes < score(off, fp8).mem.weightsBytes);
  // without it Megatron refuses the flag and the export leaves it out: the memory is that of the run without it
  const noDo = { ...fp8, distributedOptimizer: false };
  assert.equal(score(on, noDo).mem.weightsBytes, score(off, noDo).mem.weightsBytes);
  assert.equal(score(on, noDo).mem.fp8WeightCopiesBytes, score(off, noDo).mem.fp8WeightCopiesBytes);
});
