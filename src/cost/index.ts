/**
 * The analytic cost models: calibration loading and the plan scorer.
 *
 * Where each fact lives (one file each; every number they read is in cost-models/*.yaml with its source):
 *   scorer        score.ts (scorePlan: schedule and breakdown), stage.ts (one stage kind), context.ts (per-job
 *                 constants), memo.ts (memo layouts), layer-costs.ts / mapping-costs.ts (compose the terms)
 *   cost terms    terms/attention.ts, terms/dense-mlp.ts, terms/moe-compute.ts, terms/ep-dispatch.ts (EP all-to-all,
 *                 flex, allgather, ETP), terms/tp-comm.ts, terms/cp-comm.ts, terms/dp-comm.ts, terms/pp-comm.ts,
 *                 terms/recompute.ts, terms/activations.ts (per-layer and per-stage activation memory),
 *                 terms/edge-stages.ts (embedding, output layer, loss, MTP, logits), terms/overhead.ts,
 *                 terms/optimizer.ts
 *   schedule      pipeline.ts (bubble, in-flight micro-batches, stage bounds), stage-layout.ts (stage kinds)
 *   memory        memory.ts (model state, buffers, overhead)
 *   rank layout   topology.ts (node spans, from enumerate/rank-groups.ts, Megatron's RankGenerator rule)
 *   primitives    gemm.ts, comm.ts, compute.ts, params.ts, flops.ts (MFU), calibration.ts
 */
export { loadCalibration, calibrationFromDoc, CALIBRATION_FIELDS, type Calibration } from './calibration.js';
export {
  makeScoreContext, scorePlan, staticMemoryBytes, routingLoadFactor, COSTED_RECOMPUTE_MODULES, type ScoreContext,
} from './score.js';
export { newEstimate, copyEstimate, type Estimate, type TimeBreakdown, type MemoryBreakdown } from './estimate.js';
