/**
 * The scorer's two direct-mapped memos, their layouts declared once. Each slot is a run of Float64 values whose
 * offsets are the members of a const enum (inlined by tsc: a slot read is vals[base + Slot.X]).
 *  - layer memo, keyed by (tp, cp, ep, etp, mbs, recompute/dispatcher/precision/SP/EP-overlap code): the per-layer,
 *    per micro-batch costs (layer-costs.ts writes them, stage.ts and score.ts read them);
 *  - mapping memo, keyed by (tp, cp, dp, pp, ep, etp, optimizer/precision code): parameters per layer kind held by a
 *    rank, pipeline neighbour placement, the DP collective coefficients and the NCCL buffers (mapping-costs.ts).
 * Both keys hold everything their values depend on (the rank layout's TP/CP/ETP/EP strides do not depend on DP or
 * PP in either order Megatron accepts, topology.ts).
 */
import type { Plan } from '../enumerate/plan.js';

/** Per-layer costs per micro-batch (seconds, fwd + bwd, or bytes), one layer-memo slot. */
export const enum L {
  AttnS, DenseMlpS, MoeMlpS, RecomputeDenseS, RecomputeMoeS, TpDenseS, TpMoeS, CpS, EpMoeS,
  OverheadDenseS, OverheadMoeS, StealDenseS, StealMoeS,
  /** Edge stages: embedding (first), output layer + loss, its SP pair, MTP heads (last). */
  EmbeddingS, OutputS, OutputTpS, MtpExtraS,
  ActDenseBytes, ActMoeBytes, ActLayerInputBytes, LogitsBytes, DispatchBufferBytes,
  /** Fine-tuning: LoRA adapters (terms/lora-adapters.ts) and the per-GEMM decode of compressed base weights
   * (terms/base-weights.ts) of a dense / MoE layer; 0 for a training job. */
  AdapterDenseS, AdapterMoeS, BaseDecodeDenseS, BaseDecodeMoeS,
  /** Sums of a dense / MoE layer's time terms. */
  DenseLayerS, MoeLayerS,
  /** Slot width. */
  Count,
}

/** Mapping-dependent terms, one mapping-memo slot. */
export const enum M {
  DenseLayerParams, MoeLayerDenseParams, MoeLayerExpertParams, EmbeddingParams, OutputParams,
  /** GEMM weights among them (FP8 copies under FP8): a dense layer's, an MoE layer's non-expert ones, the MTP heads'. */
  DenseLayerGemmParams, MoeLayerDenseGemmParams, OutputGemmParams,
  /**
   * NCCL buffers (terms/nccl-buffers.ts) of the communicators every plan of the mapping uses, and of the EP group
   * under the alltoall (point-to-point) and allgather (collective over ETP×EP) dispatchers.
   */
  NcclBaseBytes, NcclEpA2aBytes, NcclEpAgBytes,
  /** 1 when a pipeline neighbour is on another node. */
  PpInterNode,
  /** DP collectives as alpha + bytes × perByte (dense over DP×CP, experts over EDP); 0 when unused or 1 rank. */
  DpRsAlpha, DpRsPerByte, DpAgAlpha, DpAgPerByte, DpArAlpha, DpArPerByte,
  EdpRsAlpha, EdpRsPerByte, EdpAgAlpha, EdpAgPerByte, EdpArAlpha, EdpArPerByte,
  /** The tree all-reduce's (alpha, perByte) beside the ring's (Ar above), dense and expert; 0 when unused. */
  DpArTreeAlpha, DpArTreePerByte, EdpArTreeAlpha, EdpArTreePerByte,
  /** Slot width. */
  Count,
}

/** Direct-mapped memo size (entries) for per-layer costs. */
const LAYER_CACHE_SIZE = 4096;
/** Ints per layer-memo key. */
const LAYER_KEY_INTS = 6;
/** Direct-mapped memo size (entries) for the mapping-dependent terms. */
const MAPPING_CACHE_SIZE = 1024;
/** Ints per mapping-memo key. */
const MAPPING_KEY_INTS = 7;

const RECOMPUTE_CODE = { none: 0, selective: 1, full: 2 } as const;
const DISPATCHER_CODE = { alltoall: 0, allgather: 1, flex: 2 } as const;

/** One memo: keys (Int32, -1 = empty) and values (Float64, `width` per slot). */
export interface Memo { keys: Int32Array; vals: Float64Array }

export function newLayerMemo(): Memo {
  return { keys: new Int32Array(LAYER_CACHE_SIZE * LAYER_KEY_INTS).fill(-1), vals: new Float64Array(LAYER_CACHE_SIZE * L.Count) };
}

export function newMappingMemo(): Memo {
  return {
    keys: new Int32Array(MAPPING_CACHE_SIZE * MAPPING_KEY_INTS).fill(-1),
    vals: new Float64Array(MAPPING_CACHE_SIZE * M.Count),
  };
}

/**
 * Base offset of `plan`'s layer slot in memo.vals, or −1 − base on a miss (the key is then already stored: the
 * caller must fill the slot). `epOverlapOff` is 1 where the job asks for the 1F1B EP overlap but the plan's
 * schedule does not run it (PP > 1 without VPP: epA2aOverlapRuns), so those plans get slots of their own.
 */
export function layerSlot(memo: Memo, plan: Plan, epOverlapOff = 0): number {
  const sp = plan.tp > 1 && plan.sequenceParallel ? 1 : 0;
  const code = ((((RECOMPUTE_CODE[plan.recompute] * 3 + DISPATCHER_CODE[plan.dispatcher]) * 2 +
    (plan.precision === 'fp8' ? 1 : 0)) * 2 + sp) * 2 + epOverlapOff);
  const tp = plan.tp;
  const cp = plan.cp;
  const ep = plan.ep;
  const etp = plan.etp;
  const mbs = plan.microBatchSize;
  let h = Math.imul(tp, 0x9e3779b1) ^ Math.imul(cp + 7, 0x85ebca6b) ^ Math.imul(ep + 13, 0xc2b2ae35) ^
    Math.imul(etp + 29, 0x27d4eb2f) ^ Math.imul(mbs + 31, 0x165667b1) ^ Math.imul(code + 37, 0x2545f491);
  h ^= h >>> 15;
  const idx = h & (LAYER_CACHE_SIZE - 1);
  const k = memo.keys;
  const kb = idx * LAYER_KEY_INTS;
  const b = idx * L.Count;
  if (k[kb] === tp && k[kb + 1] === cp && k[kb + 2] === ep && k[kb + 3] === etp && k[kb + 4] === mbs &&
    k[kb + 5] === code) {
    return b;
  }
  k[kb] = tp; k[kb + 1] = cp; k[kb + 2] = ep; k[kb + 3] = etp; k[kb + 4] = mbs; k[kb + 5] = code;
  return -1 - b;
}

/** Base offset of `plan`'s mapping slot in memo.vals, or −1 − base on a miss (as layerSlot). */
export function mappingSlot(memo: Memo, plan: Plan): number {
  const code = (plan.distributedOptimizer ? 2 : 0) + (plan.precision === 'fp8' ? 1 : 0);
  const tp = plan.tp;
  const cp = plan.cp;
  const dp = plan.dp;
  const pp = plan.pp;
  const ep = plan.ep;
  const etp = plan.etp;
  let h = Math.imul(tp, 0x9e3779b1) ^ Math.imul(cp + 7, 0x85ebca6b) ^ Math.imul(dp + 13, 0xc2b2ae35) ^
    Math.imul(pp + 29, 0x27d4eb2f) ^ Math.imul(ep + 31, 0x165667b1) ^ Math.imul(etp + 37, 0x2545f491) ^
    Math.imul(code + 41, 0x7feb352d);
  h ^= h >>> 15;
  const idx = h & (MAPPING_CACHE_SIZE - 1);
  const k = memo.keys;
  const kb = idx * MAPPING_KEY_INTS;
  const b = idx * M.Count;
  if (k[kb] === tp && k[kb + 1] === cp && k[kb + 2] === dp && k[kb + 3] === pp && k[kb + 4] === ep &&
    k[kb + 5] === etp && k[kb + 6] === code) {
    return b;
  }
  k[kb] = tp; k[kb + 1] = cp; k[kb + 2] = dp; k[kb + 3] = pp; k[kb + 4] = ep; k[kb + 5] = etp; k[kb + 6] = code;
  return -1 - b;
}
