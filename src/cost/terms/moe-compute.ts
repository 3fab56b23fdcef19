/**
 * MoE layer compute per layer per micro-batch on one rank (the MLP half of an MoE layer; attention is attention.ts,
 * dispatch/combine communication is ep-dispatch.ts):
 *   forward t_f = router + routed experts (two grouped GEMMs over E/EP local experts) + permute/unpermute and the
 *                 expert activation (memory-bound) + shared expert (dense-mlp.ts)
 *   fwd+bwd t   = 3·t_f
 * Rows on the most loaded rank: tokens/TP × top-k × ETP × (1 + imbalance) (routing_imbalance_* in
 * cost-models/*.yaml). The router runs in fp32 logits: GEMM (tokens × E × h, bf16) + softmax/top-k over E fp32
 * logits (4 passes of 4 B). The alltoall dispatcher regroups received rows by local expert (sort_chunks) when a
 * rank has more than one local expert: moe.alltoall_sort_passes extra permute passes.
 */
import type { Calibration } from '../calibration.js';
import type { Dispatcher } from '../../job/types.js';
import { gemmTimeS, groupedGemmTimeS } from '../gemm.js';
import { activationFnBytes, memoryBoundTimeS, permuteBytes } from '../compute.js';

/** Router forward on `tokens` tokens: logits GEMM (bf16) + fp32 score/top-k passes over E experts. */
export function moeRouterFwdTimeS(tokens: number, numExperts: number, hidden: number, cal: Calibration): number {
  return gemmTimeS(tokens, numExperts, hidden, false, cal) + memoryBoundTimeS(tokens * numExperts * 4 * 4, cal);
}

/** Routed experts forward: FC1 (rows × GLU·F_e/ETP × h) and FC2 (rows × h × F_e/ETP) as grouped GEMMs. */
export function moeExpertGemmsFwdTimeS(localExperts: number, rows: number, hidden: number, expertFfnLocal: number,
  glu: number, fp8: boolean, cal: Calibration): number {
  const rowsPerExpert = rows / localExperts;
  return groupedGemmTimeS(localExperts, rowsPerExpert, glu * expertFfnLocal, hidden, fp8, cal) +
    groupedGemmTimeS(localExperts, rowsPerExpert, hidden, expertFfnLocal, fp8, cal);
}

/** Extra permute passes of the alltoall dispatcher (sort_chunks by local expert; none for one local expert). */
export function alltoallSortPasses(dispatcher: Dispatcher, ep: number, localExperts: number, cal: Calibration): number {
  return dispatcher === 'alltoall' && ep > 1 && localExperts > 1 ? cal.alltoallSortPasses : 0;
}

/** Expert activation + (1 + sort passes) × permute/unpermute of the routed rows, forward (memory-bound). */
export function moePermuteActivationFwdTimeS(rows: number, hidden: number, expertFfnLocal: number, glu: number,
  sortPasses: number, cal: Calibration): number {
  return memoryBoundTimeS(activationFnBytes(rows, expertFfnLocal, glu) + (1 + sortPasses) * permuteBytes(rows, hidden), cal);
}

/** The expert activation alone, forward (what --recompute-modules moe_act recomputes). */
export function moeActivationFnFwdTimeS(rows: number, expertFfnLocal: number, glu: number, cal: Calibration): number {
  return memoryBoundTimeS(activationFnBytes(rows, expertFfnLocal, glu), cal);
}

/** MoE MLP forward: router + expert GEMMs + permute/activation + shared expert (0 when there is none). */
export function moeMlpFwdTimeS(routerFwdS: number, expertGemmsFwdS: number, permuteActivationFwdS: number,
  sharedExpertFwdS: number): number {
  let t = routerFwdS;
  t += expertGemmsFwdS;
  t += permuteActivationFwdS;
  t += sharedExpertFwdS;
  return t;
}

/** MoE MLP forward + backward: 3·t_f. */
export function moeMlpTimeS(fwdS: number): number {
  return 3 * fwdS;
}
