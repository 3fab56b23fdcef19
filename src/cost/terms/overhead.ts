/**
 * Fixed per-layer launch/framework overheads per micro-batch (cost-models/*.yaml overhead.*, fitted to measured
 * runs): overhead.dense_layer_overhead_s per dense layer; overhead.moe_layer_overhead_s per MoE layer plus
 * overhead.moe_local_expert_overhead_s per local expert (E/EP) per MoE layer.
 */
import type { Calibration } from '../calibration.js';

/** Per dense layer per micro-batch. */
export function denseLayerOverheadTimeS(cal: Calibration): number {
  return cal.denseLayerOverheadS;
}

/** Per MoE layer per micro-batch with `localExperts` = E/EP experts on the rank. */
export function moeLayerOverheadTimeS(localExperts: number, cal: Calibration): number {
  return cal.moeLayerOverheadS + localExperts * cal.moeLocalExpertOverheadS;
}
