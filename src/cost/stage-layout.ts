/**
 * Which layer mixes the pipeline stages hold, grouped into stage kinds: stages with the same (dense, MoE) layer
 * counts and the same edge role cost the same time and hold the same parameters, so the scorer evaluates each kind
 * once instead of every stage. A kind's memory is largest at its earliest stage (in-flight micro-batches only
 * decrease with the stage index), which it records. The last stage's kind includes the MTP layers.
 * Kinds depend only on (pp, firstStageLayers, lastStageLayers) and the job: StageLayoutCache computes them once
 * per split and keeps them (a direct-mapped cache; a miss allocates, a hit does not).
 */
import { stageLayerStart } from '../plan/layout.js';

export const STAGE_FIRST = 1;
export const STAGE_LAST = 2;

export interface StageKinds {
  /** Number of kinds. */
  n: number;
  nDense: Int32Array;
  nMoe: Int32Array;
  /** Earliest stage index of the kind (where its in-flight activations peak). */
  firstIndex: Int32Array;
  /** Stages of this kind. */
  count: Int32Array;
  /** STAGE_FIRST | STAGE_LAST bits. */
  role: Uint8Array;
}

/** Stage kinds of a `pp`-stage split of `numLayers` layers (moePrefix[i] = MoE layers among [0, i)). */
export function stageKinds(pp: number, firstStageLayers: number, lastStageLayers: number, numLayers: number,
  moePrefix: Int32Array, mtpDense: number, mtpMoe: number): StageKinds {
  const nDense = new Int32Array(pp);
  const nMoe = new Int32Array(pp);
  const firstIndex = new Int32Array(pp);
  const count = new Int32Array(pp);
  const role = new Uint8Array(pp);
  let n = 0;
  let a = 0;
  for (let r = 0; r < pp; r++) {
    const b = stageLayerStart(r + 1, pp, numLayers, firstStageLayers, lastStageLayers);
    let m = moePrefix[b] - moePrefix[a];
    let d = b - a - m;
    const ro = (r === 0 ? STAGE_FIRST : 0) | (r === pp - 1 ? STAGE_LAST : 0);
    if (r === pp - 1) { d += mtpDense; m += mtpMoe; }
    a = b;
    let k = 0;
    // edge stages are kinds of their own; middle stages merge with an earlier middle kind of the same mix
    if (ro === 0) {
      for (k = 0; k < n; k++) if (role[k] === 0 && nDense[k] === d && nMoe[k] === m) break;
    } else {
      k = n;
    }
    if (k === n) {
      nDense[n] = d; nMoe[n] = m; firstIndex[n] = r; count[n] = 0; role[n] = ro; n++;
    }
    count[k]++;
  }
  return { n, nDense, nMoe, firstIndex, count, role };
}

const CACHE_SIZE = 256;

/** Direct-mapped cache of stageKinds for one job. */
export class StageLayoutCache {
  private readonly keys = new Float64Array(CACHE_SIZE).fill(-1);
  private readonly vals: (StageKinds | null)[] = new Array<StageKinds | null>(CACHE_SIZE).fill(null);

  constructor(private readonly numLayers: number, private readonly moePrefix: Int32Array,
    private readonly mtpDense: number, private readonly mtpMoe: number) {}

  get(pp: number, firstStageLayers: number, lastStageLayers: number): StageKinds {
    const key = (pp * 65536 + firstStageLayers) * 65536 + lastStageLayers;
    const idx = (Math.imul(pp, 0x9e3779b1) ^ Math.imul(firstStageLayers + 17, 0x85ebca6b) ^
      Math.imul(lastStageLayers + 101, 0xc2b2ae35)) >>> 24;
    if (this.keys[idx] === key) return this.vals[idx] as StageKinds;
    const v = stageKinds(pp, firstStageLayers, lastStageLayers, this.numLayers, this.moePrefix, this.mtpDense,
      this.mtpMoe);
    this.keys[idx] = key;
    this.vals[idx] = v;
    return v;
  }
}
