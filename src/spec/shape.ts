/** Facts derived once per job from the model (never per candidate). */
import { layerMaskFromFreq } from './layer-freq.js';
import type { ModelShape, ModelSpec } from './types.js';

/** MoE layer mask from moe_layer_freq (int N: layer i is MoE iff i % N == 0; or the 0/1 list); dense: all 0. */
export function modelShape(model: ModelSpec): ModelShape {
  const isMoe = model.num_experts > 0;
  const moeLayerMask = isMoe ? layerMaskFromFreq(model.moe_layer_freq, model.num_layers) : new Uint8Array(model.num_layers);
  let numMoeLayers = 0;
  for (const x of moeLayerMask) numMoeLayers += x;
  return { isMoe, moeLayerMask, numMoeLayers, numDenseLayers: model.num_layers - numMoeLayers };
}
