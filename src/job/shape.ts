/** Facts derived once per job from the model (never per candidate). */
import { layerMaskFromFreq } from './layer-freq.js';
import type { ModelShape, ModelSpec } from './types.js';

/**
 * MoE layer mask from moe_layer_freq (int N: layer i is MoE iff i % N == 0; or the 0/1 list); dense: all 0.
 * `isMoe` is the one meaning of "an MoE model" everywhere: experts, and at least one layer that uses them (the
 * loader refuses a layer list with no MoE layer, so for a loaded job this is num_experts > 0).
 */
export function modelShape(model: ModelSpec): ModelShape {
  const moeLayerMask = model.num_experts > 0 ? layerMaskFromFreq(model.moe_layer_freq, model.num_layers) : new Uint8Array(model.num_layers);
  let numMoeLayers = 0;
  for (const x of moeLayerMask) numMoeLayers += x;
  return { isMoe: numMoeLayers > 0, moeLayerMask, numMoeLayers, numDenseLayers: model.num_layers - numMoeLayers };
}
