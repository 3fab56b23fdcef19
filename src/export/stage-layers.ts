import type { Plan } from '../enumerate/plan.js';
import { isUnevenSplit } from '../enumerate/plan.js';

/**
 * Decoder layers held by each virtual pipeline stage, in global stage order s = chunk * PP + rank, as Megatron
 * assigns them (transformer_layer.py get_transformer_layer_offset, transformer_block.py
 * get_num_layers_to_build): every PP rank's layers are split evenly over its VPP chunks; with an uneven split the
 * first rank holds firstStageLayers, the last rank lastStageLayers and each middle rank an equal share of the
 * rest. Assumes a plan whose split Megatron accepts (checked by checkMegatronArgs).
 */
export function virtualStageLayers(plan: Plan, numLayers: number): number[] {
  const { pp, vpp } = plan;
  const perRank: number[] = [];
  if (pp === 1) {
    perRank.push(numLayers);
  } else if (isUnevenSplit(plan, numLayers)) {
    const middle = pp > 2 ? (numLayers - plan.firstStageLayers - plan.lastStageLayers) / (pp - 2) : 0;
    for (let r = 0; r < pp; r++) perRank.push(r === 0 ? plan.firstStageLayers : r === pp - 1 ? plan.lastStageLayers : middle);
  } else {
    for (let r = 0; r < pp; r++) perRank.push(numLayers / pp);
  }
  const out: number[] = [];
  for (let chunk = 0; chunk < vpp; chunk++) for (let r = 0; r < pp; r++) out.push(perRank[r] / vpp);
  return out;
}
