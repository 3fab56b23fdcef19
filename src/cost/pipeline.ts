/**
 * Pipeline schedule: bubble, in-flight micro-batches (activation memory) and which layers each stage holds.
 * Stage r of PP holds decoder layers [stageLayerStart(r), stageLayerStart(r+1)): the first stage
 * `firstStageLayers`, the last `lastStageLayers`, middle stages (L − first − last)/(pp − 2) each.
 */

/**
 * Pipeline fill/drain per step: (pp − 1)/vpp × the mean stage time per micro-batch t̄, i.e. the idle fraction
 * (pp − 1)/(m · vpp) of the ideal step m · t̄, for 1F1B (vpp = 1) and the interleaved schedule (Narayanan et al.
 * 2021, §2.2; megatron.md §3.3 uses the same (pp − 1)/(pp · vpp) warm-up factor for activations). 0 without PP.
 */
export function pipelineBubbleTimeS(pp: number, vpp: number, meanStageTimeS: number): number {
  return pp > 1 ? ((pp - 1) / vpp) * meanStageTimeS : 0;
}

/**
 * Micro-batches whose activations stage `stage` holds at its peak, in units of the stage's full layer set.
 * 1F1B: min(m, pp − stage). Interleaved: the warm-up of stage r runs (pp − r − 1)·2 + (vpp − 1)·G model chunks
 * before its first backward (schedules.py get_pp_rank_microbatches; G = the micro-batch group, PP by default),
 * each chunk 1/vpp of the stage, so it holds (that + 1)/vpp; for the first stage with G = PP this is
 * pp·(1 + (pp − 1)/(pp·vpp)), Megatron's factor (megatron.md §3.3).
 */
export function inflightMicrobatches(stage: number, pp: number, vpp: number, numMicroBatches: number,
  mbGroup: number = pp): number {
  if (pp <= 1) return 1;
  let n: number;
  if (vpp <= 1) n = pp - stage;
  else n = ((pp - stage - 1) * 2 + (vpp - 1) * mbGroup + 1) / vpp;
  return n < numMicroBatches ? n : numMicroBatches;
}

/** First decoder layer of stage `stage` (stage = pp gives numLayers); one home: src/plan/layout.ts. */
export { stageLayerStart } from '../plan/layout.js';
