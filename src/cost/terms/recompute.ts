/**
 * Recompute time per layer per micro-batch on one rank: the forward work backward runs again (megatron.md §2.6).
 *  - full (--recompute-granularity full, uniform): the whole layer forward with its exposed TP collectives (and,
 *    on MoE layers, the exposed EP forward).
 *  - selective: each module of --recompute-modules forward again: core_attn (flash forward), layernorm (the norms
 *    Transformer Engine keeps as separate modules: the MLA input norm and the MoE pre-MLP norm; fused into the next
 *    GEMM otherwise), mla_up_proj (MLA up-projections + RoPE), mlp (dense MLP layers, with their SP gather /
 *    scatter), moe (the whole MoE MLP with its TP and EP forward), moe_act (the expert activation).
 * Inputs are the forward times of the other terms (attention.ts, dense-mlp.ts, moe-compute.ts, tp-comm.ts,
 * ep-dispatch.ts), so a term changed there is recomputed with its change.
 */
import type { Recompute } from '../../job/types.js';
import type { Calibration } from '../calibration.js';
import { memoryBoundTimeS, normForwardBytes } from '../compute.js';

/** Which modules 'selective' recomputes (1 = yes). */
export interface SelectiveModules {
  coreAttn: number; layernorm: number; mlaUpProj: number; mlp: number; moe: number; moeAct: number;
}

/** One norm forward over `tokens` tokens (memory-bound): the MLA input norm, the MoE pre-MLP norm. */
export function normRecomputeTimeS(tokens: number, hidden: number, cal: Calibration): number {
  return memoryBoundTimeS(normForwardBytes(tokens, hidden), cal);
}

/** MLA up-projections again, plus re-reading and writing the up-projected Q/K/V (qkvWidthLocal, bf16). */
export function mlaUpProjectionRecomputeTimeS(upProjectionFwdS: number, tokens: number, qkvWidthLocal: number,
  cal: Calibration): number {
  return upProjectionFwdS + memoryBoundTimeS(2 * 2 * tokens * qkvWidthLocal, cal);
}

/** Selective recompute of the attention block: core_attn + layernorm (MLA) + mla_up_proj. */
export function attentionSelectiveRecomputeTimeS(sel: SelectiveModules, flashFwdS: number, attnNormS: number,
  upProjectionS: number): number {
  return sel.coreAttn * flashFwdS + sel.layernorm * attnNormS + sel.mlaUpProj * upProjectionS;
}

/** Recompute time of a dense layer. `tpPairS` is one TP pair (tp-comm.ts), `tpExposedPairS` its exposed part. */
export function denseLayerRecomputeTimeS(mode: Recompute, sel: SelectiveModules, attnSelectiveS: number,
  attnFwdS: number, mlpFwdS: number, tpExposedPairS: number, tpExposedFwdS: number): number {
  if (mode === 'selective') return attnSelectiveS + sel.mlp * (mlpFwdS + tpExposedPairS);
  if (mode === 'full') return attnFwdS + mlpFwdS + tpExposedFwdS;
  return 0;
}

/**
 * Recompute time of an MoE layer: `tpExposedS` is the exposed forward TP of the attention + shared-expert pairs
 * (full) and `sharedTpExposedS` that of the shared-expert pair alone (selective moe); `epExposedFwdS` the exposed
 * EP forward.
 */
export function moeLayerRecomputeTimeS(mode: Recompute, sel: SelectiveModules, attnSelectiveS: number,
  attnFwdS: number, moeNormS: number, moeFwdS: number, actFnFwdS: number, tpExposedS: number,
  sharedTpExposedS: number, epExposedFwdS: number): number {
  if (mode === 'selective') {
    return attnSelectiveS + sel.layernorm * moeNormS +
      (sel.moe ? moeFwdS + sharedTpExposedS + epExposedFwdS : sel.moeAct * actFnFwdS);
  }
  if (mode === 'full') return attnFwdS + moeFwdS + tpExposedS + epExposedFwdS;
  return 0;
}
