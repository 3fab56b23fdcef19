/**
 * Megatron-Core's explicit pipeline layout (`--pipeline-model-parallel-layout`), read and written exactly as
 * megatron/core/transformer/pipeline_parallel_layer_layout.py does (HEAD of 2026-08-22):
 *
 *   grammar   stages separated by `|`; a stage is a run of `E` (embedding), `t` (decoder layer), `m` (MTP layer),
 *             `L` (loss); commas are cosmetic and dropped; `(…)*n` repeats a group and `x*n` a character. Megatron
 *             expands with two regular-expression passes, first every `\(([^)]+)\)\*(\d+)` then every
 *             `(.)\*(\d+)`, so groups do not nest: "Et*3|(tt|)*29,m|L" is E t t t | t t (×29) | m | L.
 *   stages    the i-th stage is virtual stage i // PP of PP rank i % PP; the count must be a multiple of PP and
 *             VPP = count / PP ([VA] L941–952).
 *   contents  exactly one E, first of all; exactly one L, last of all; count(t) = num_layers; count(m) =
 *             mtp_num_layers, after every t, all in one virtual stage that is the last virtual stage of its rank,
 *             and not on PP rank 0 unless that is its last virtual stage (validate_layer_layout). Empty stages are
 *             allowed.
 *
 * Everything here is per job (never per candidate): the enumerator generates its layouts once per (PP, VPP), the
 * rule table asks about a layout through a small cache.
 */

/** A layout read into counts per stage, in Megatron's stage order (index s = virtual stage · PP + PP rank). */
export interface PipelineLayout {
  /** The layout in its compact written form (formatLayout). */
  text: string;
  /** Stages in all (PP · VPP). */
  stages: number;
  decoders: Int32Array;
  mtp: Int32Array;
  embedding: Uint8Array;
  loss: Uint8Array;
  /** First decoder layer id of each stage (decoder ids follow the stage order). */
  decoderStart: Int32Array;
}

/** The longest expanded layout read (a 1,024-layer model on 1,024 stages is a few thousand characters). */
export const LAYOUT_MAX_EXPANDED_CHARS = 100_000;
/** The longest layout text accepted before expansion. */
export const LAYOUT_MAX_CHARS = 4096;

const GROUP = /\(([^)]+)\)\*(\d+)/g;
const CHAR = /(.)\*(\d+)/g;

/** One regular-expression pass of Megatron's expansion, sized before it is built (null: it would exceed the limit). */
function expandPass(s: string, re: RegExp): string | null {
  let size = s.length;
  for (const m of s.matchAll(re)) {
    const n = Number(m[2]);
    size += m[1].length * n - m[0].length;
    if (!Number.isFinite(size) || size > LAYOUT_MAX_EXPANDED_CHARS) return null;
  }
  return s.replace(re, (_all, body: string, n: string) => body.repeat(Number(n)));
}

/** The layout expanded into its stages (strings of E, t, m, L), or the reason it cannot be read. */
export function layoutStages(text: string): string[] | string {
  if (text.length > LAYOUT_MAX_CHARS) return `is longer than ${LAYOUT_MAX_CHARS} characters`;
  let s: string | null = text.replace(/,/g, '');
  s = expandPass(s, GROUP);
  if (s !== null) s = expandPass(s, CHAR);
  if (s === null) return `expands to more than ${LAYOUT_MAX_EXPANDED_CHARS} characters`;
  const stages = s.split('|');
  for (const st of stages) {
    for (const ch of st) {
      if (ch !== 'E' && ch !== 't' && ch !== 'm' && ch !== 'L') {
        const shown = /^[\x21-\x7e]$/.test(ch) ? `'${ch}'` : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
        return `has the character ${shown}; a stage holds E (embedding), t (decoder layer), m (MTP layer) and L (loss), ` +
          'stages are separated by |, (…)*n and x*n repeat';
      }
    }
  }
  return stages;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/**
 * Reads a layout for a model of `numLayers` decoder layers and `mtpLayers` MTP layers on `pp` pipeline ranks:
 * the layout, or the reason Megatron refuses it (its own checks, in its order).
 */
export function parseLayout(text: string, numLayers: number, mtpLayers: number, pp: number): PipelineLayout | string {
  const st = layoutStages(text);
  if (typeof st === 'string') return st;
  const S = st.length;
  if (S % pp !== 0) return `has ${S} stages, not a multiple of PP ${pp}`;
  const vpp = S / pp;
  const flat = st.join('');
  if (flat.length === 0 || flat[0] !== 'E') return 'must start with the embedding E';
  if (flat[flat.length - 1] !== 'L') return 'must end with the loss L';
  if (count(flat, 'E') !== 1) return 'must hold exactly one embedding E';
  if (count(flat, 'L') !== 1) return 'must hold exactly one loss L';
  const t = count(flat, 't');
  if (t !== numLayers) return `holds ${t} decoder layers t, not num_layers ${numLayers}`;
  const m = count(flat, 'm');
  if (m !== mtpLayers) return `holds ${m} MTP layers m, not mtp_num_layers ${mtpLayers}`;
  const firstM = flat.indexOf('m');
  if (firstM >= 0 && flat.indexOf('t', firstM) >= 0) return 'places a decoder layer t after an MTP layer m';
  for (let s = 0; s < S; s++) {
    const chunk = Math.floor(s / pp);
    const rank = s % pp;
    const nm = count(st[s], 'm');
    if (nm > 0 && chunk !== vpp - 1) {
      return `places MTP in virtual stage ${chunk} of PP rank ${rank}; it must be in the rank's last virtual stage`;
    }
    if (nm > 0 && nm !== mtpLayers) return 'splits the MTP layers over more than one stage';
  }
  const decoders = new Int32Array(S);
  const mtp = new Int32Array(S);
  const embedding = new Uint8Array(S);
  const loss = new Uint8Array(S);
  const decoderStart = new Int32Array(S);
  let id = 0;
  for (let s = 0; s < S; s++) {
    decoders[s] = count(st[s], 't');
    mtp[s] = count(st[s], 'm');
    embedding[s] = count(st[s], 'E');
    loss[s] = count(st[s], 'L');
    decoderStart[s] = id;
    id += decoders[s];
  }
  return { text: formatLayout(st), stages: S, decoders, mtp, embedding, loss, decoderStart };
}

/** Whether a layout has a stage that holds nothing (Megatron accepts it; some releases hang on it). */
export function hasEmptyStage(layout: PipelineLayout): boolean {
  for (let s = 0; s < layout.stages; s++) {
    if (layout.decoders[s] + layout.mtp[s] + layout.embedding[s] + layout.loss[s] === 0) return true;
  }
  return false;
}

/** One stage written compactly: runs of three or more decoder layers as t*n. */
function formatStage(st: string): string {
  return st.replace(/t{3,}/g, (run) => `t*${run.length}`);
}

/**
 * Stages written as a layout string Megatron reads back into the same stages: runs of two or more equal stages
 * before the last as `(X|)*n` (the group's own `|` separates it from what follows), the last stage plain.
 */
export function formatLayout(stages: readonly string[]): string {
  let out = '';
  let i = 0;
  const n = stages.length;
  while (i < n) {
    let j = i + 1;
    while (j < n - 1 && stages[j] === stages[i]) j++;
    const run = j - i;
    const body = formatStage(stages[i]);
    if (i === n - 1) out += body;
    else if (run >= 2 && body !== '') out += `(${body}|)*${run}`;
    else out += `${body}|`.repeat(run);
    i = j;
  }
  return out;
}

/**
 * The balanced layout of `numLayers` decoder and `mtpLayers` MTP layers over PP·VPP stages, counting the
 * embedding, the loss and each MTP layer as one layer each (the way NVIDIA's DeepSeek-V3 recipe splits 61 layers
 * + MTP on PP8 VPP4: "Et|(tt|)*30mL"): every stage holds q = ⌊T/S⌋ or q + 1 slots of T = numLayers + 2 +
 * mtpLayers; the first stage is E and q − 1 decoder layers, the last holds the MTP layers and L, extra slots go
 * to the middle stages from the end backwards (then to the first stage). Null when a stage would hold no decoder
 * layer and no edge, or the last stage cannot hold the MTP layers and the loss.
 */
export function balancedLayoutStages(numLayers: number, mtpLayers: number, pp: number, vpp: number): string[] | null {
  const S = pp * vpp;
  if (S < 2) return null;
  const T = numLayers + 2 + mtpLayers;
  const q = Math.floor(T / S);
  let extra = T - q * S;
  if (q < 1) return null;
  const slots = new Array<number>(S).fill(q);
  for (let s = S - 2; s >= 1 && extra > 0; s--, extra--) slots[s]++;
  if (extra > 0) { slots[0]++; extra--; }
  if (extra > 0) return null;
  const lastDecoders = slots[S - 1] - 1 - mtpLayers;
  if (lastDecoders < 0) return null;
  const stages: string[] = [];
  for (let s = 0; s < S; s++) {
    if (s === 0) stages.push('E' + 't'.repeat(slots[0] - 1));
    else if (s === S - 1) stages.push('t'.repeat(lastDecoders) + 'm'.repeat(mtpLayers) + 'L');
    else stages.push('t'.repeat(slots[s]));
  }
  // a middle stage with no layer, or a first stage with only E on a model whose layers all fit elsewhere, is fine
  // for Megatron, but an empty middle stage is not generated
  for (let s = 1; s < S - 1; s++) if (slots[s] === 0) return null;
  return stages;
}

/** Decoder layers of each stage of a layout string (no checks beyond reading it), or null when it cannot be read. */
export function layoutDecoderCounts(text: string): number[] | null {
  const st = layoutStages(text);
  return typeof st === 'string' ? null : st.map((x) => count(x, 't'));
}

/** Per PP rank: decoder layers held, and the decoder-id ranges (one per virtual stage). */
export function rankDecoderCount(layout: PipelineLayout, pp: number, rank: number): number {
  let n = 0;
  for (let s = rank; s < layout.stages; s += pp) n += layout.decoders[s];
  return n;
}

const CACHE_MAX = 512;
const cache = new Map<string, PipelineLayout | string>();

/** parseLayout through a bounded cache (the rule table and the scorer ask about the same few layouts). */
export function layoutOf(text: string, numLayers: number, mtpLayers: number, pp: number): PipelineLayout | string {
  const key = `${numLayers}/${mtpLayers}/${pp}/${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const v = parseLayout(text, numLayers, mtpLayers, pp);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, v);
  return v;
}
