/**
 * Fixed per-layer launch/framework overheads per micro-batch (fwd + bwd; cost-models/*.yaml overhead.*):
 *   dense layer: t = overhead.dense_layer_overhead_s
 *   MoE layer:   t = overhead.moe_layer_overhead_s + R · overhead.moe_routed_token_overhead_s
 * R = routed rows on the rank (tokens × top-k × ETP × load factor after dispatch): the per-row routing work the
 * byte model misses (index maps, sort, probabilities, padding), independent of how many experts share the rows.
 */
import type { Calibration } from '../calibration.js';

/** Per dense layer per micro-batch. */
export function denseLayerOverheadTimeS(cal: Calibration): number {
  return cal.denseLayerOverheadS;
}

/** Per MoE layer per micro-batch with `routedRows` routed rows on the rank. */
export function moeLayerOverheadTimeS(routedRows: number, cal: Calibration): number {
  return cal.moeLayerOverheadS + routedRows * cal.moeRoutedTokenOverheadS;
}
