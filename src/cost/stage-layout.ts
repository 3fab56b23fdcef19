/**
 * Which layer mixes the pipeline stages hold, grouped into stage kinds: stages with the same (dense, MoE) layer
 * counts and the same edge role cost the same time and hold the same parameters, so the scorer evaluates each kind
 * once instead of every stage. A kind's memory is largest at its earliest stage (in-flight micro-batches only
 * decrease with the stage index), which it records. The last stage's kind includes the MTP layers.
 * Kinds depend only on (pp, firstStageLayers, lastStageLayers) and the job: StageLayoutCache computes them once
 * per split and keeps them (a direct-mapped cache; a miss allocates, a hit does not).
 */
import { stageLayerStart } from '../plan/layout.js';
import { layoutOf, type PipelineLayout } from '../plan/pipeline-layout.js';

/** Role bits: the stage holds the embedding (FIRST), the output layer and loss (LAST), the MTP layers (MTP). */
export const STAGE_FIRST = 1;
export const STAGE_LAST = 2;
export const STAGE_MTP = 4;

export interface StageKinds {
  /** Number of kinds. */
  n: number;
  nDense: Int32Array;
  nMoe: Int32Array;
  /** Earliest stage index of the kind (where its in-flight activations peak). */
  firstIndex: Int32Array;
  /** Stages of this kind. */
  count: Int32Array;
  /** STAGE_FIRST | STAGE_LAST | STAGE_MTP bits. */
  role: Uint8Array;
  /** The kind of each stage (by PP rank). */
  kindOf: Int32Array;
}

/** Adds a stage of `d` dense and `m` MoE layers with role `ro` at index `r` to `out` (edge stages stay apart). */
function addStage(out: StageKinds, r: number, d: number, m: number, ro: number): void {
  let k = 0;
  const n = out.n;
  if (ro === 0) {
    for (k = 0; k < n; k++) if (out.role[k] === 0 && out.nDense[k] === d && out.nMoe[k] === m) break;
  } else {
    k = n;
  }
  if (k === n) {
    out.nDense[n] = d; out.nMoe[n] = m; out.firstIndex[n] = r; out.count[n] = 0; out.role[n] = ro; out.n++;
  }
  out.count[k]++;
  out.kindOf[r] = k;
}

function emptyKinds(pp: number): StageKinds {
  return { n: 0, nDense: new Int32Array(pp), nMoe: new Int32Array(pp), firstIndex: new Int32Array(pp),
    count: new Int32Array(pp), role: new Uint8Array(pp), kindOf: new Int32Array(pp) };
}

/**
 * Stage kinds of a layout: PP rank r holds virtual stages r, r + PP, …; its decoder layers are the ids those
 * stages hold (moePrefix tells which are MoE), plus the MTP layers where it holds them.
 */
export function layoutStageKinds(lay: PipelineLayout, pp: number, moePrefix: Int32Array, mtpIsMoe: boolean): StageKinds {
  const out = emptyKinds(pp);
  for (let r = 0; r < pp; r++) {
    let d = 0;
    let m = 0;
    let ro = 0;
    for (let s = r; s < lay.stages; s += pp) {
      const a = lay.decoderStart[s];
      const b = a + lay.decoders[s];
      const moe = moePrefix[b] - moePrefix[a];
      m += moe; d += b - a - moe;
      if (lay.mtp[s] > 0) { if (mtpIsMoe) m += lay.mtp[s]; else d += lay.mtp[s]; ro |= STAGE_MTP; }
      if (lay.embedding[s] > 0) ro |= STAGE_FIRST;
      if (lay.loss[s] > 0) ro |= STAGE_LAST;
    }
    addStage(out, r, d, m, ro);
  }
  return out;
}

/** Stage kinds of a `pp`-stage split of `numLayers` layers (moePrefix[i] = MoE layers among [0, i)). */
export function stageKinds(pp: number, firstStageLayers: number, lastStageLayers: number, numLayers: number,
  moePrefix: Int32Array, mtpDense: number, mtpMoe: number): StageKinds {
  const out = emptyKinds(pp);
  let a = 0;
  for (let r = 0; r < pp; r++) {
    const b = stageLayerStart(r + 1, pp, numLayers, firstStageLayers, lastStageLayers);
    let m = moePrefix[b] - moePrefix[a];
    let d = b - a - m;
    let ro = (r === 0 ? STAGE_FIRST : 0) | (r === pp - 1 ? STAGE_LAST : 0);
    if (r === pp - 1 && mtpDense + mtpMoe > 0) { d += mtpDense; m += mtpMoe; ro |= STAGE_MTP; }
    a = b;
    addStage(out, r, d, m, ro);
  }
  return out;
}

const CACHE_SIZE = 256;

/** Direct-mapped cache of stageKinds for one job. */
export class StageLayoutCache {
  private readonly keys = new Float64Array(CACHE_SIZE).fill(-1);
  private readonly vals: (StageKinds | null)[] = new Array<StageKinds | null>(CACHE_SIZE).fill(null);

  /** Kinds of each layout seen, per PP (nested maps: a lookup allocates nothing). */
  private readonly layouts = new Map<string, Map<number, StageKinds>>();

  constructor(private readonly numLayers: number, private readonly moePrefix: Int32Array,
    private readonly mtpDense: number, private readonly mtpMoe: number) {}

  /** Kinds of a plan's layout (a layout the rule table accepts; an unreadable one gives PP empty stages). */
  layout(text: string, pp: number): StageKinds {
    let byPp = this.layouts.get(text);
    if (byPp === undefined) {
      if (this.layouts.size >= CACHE_SIZE) this.layouts.clear();
      byPp = new Map<number, StageKinds>();
      this.layouts.set(text, byPp);
    }
    let v = byPp.get(pp);
    if (v === undefined) {
      const lay = layoutOf(text, this.numLayers, this.mtpDense + this.mtpMoe, pp);
      if (typeof lay === 'string') {
        v = emptyKinds(pp);
        for (let r = 0; r < pp; r++) addStage(v, r, 0, 0, (r === 0 ? STAGE_FIRST : 0) | (r === pp - 1 ? STAGE_LAST : 0));
      } else {
        v = layoutStageKinds(lay, pp, this.moePrefix, this.mtpMoe > 0);
      }
      byPp.set(pp, v);
    }
    return v;
  }

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
