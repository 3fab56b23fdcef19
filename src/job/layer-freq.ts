/**
 * `moe_layer_freq`: which decoder layers are MoE layers. Megatron accepts an int N (layer i is MoE iff
 * i % N == 0) or a list with one 0/1 entry per layer, which on the command line is written as a Python list
 * expression such as "([0]*3+[1]*58)" (only digits , [ ] ( ) + * allowed; arguments.py). A job file may hold
 * any of the three; the loader turns an expression into the list.
 */
import { LIMITS, gotText } from './fields.js';

/** The most entries an expression may build: no model has more layers than this (LIMITS.layers). */
export const MAX_LAYER_FREQ_ENTRIES = LIMITS.layers;

type Value = number | number[];

/** A list whose length is known before it is built: the expression is checked for size first, then built. */
interface LazyList {
  len: number;
  build: () => number[];
}
type LazyValue = number | LazyList;

/** Thrown when the expression would build a list longer than allowed; carries the length it would have. */
export class LayerFreqTooLong extends Error {
  constructor(readonly length: number) {
    super(`expression builds ${length} entries`);
  }
}

/**
 * Evaluates Megatron's list expression without eval(): + concatenates lists (adds ints), * repeats a list.
 * Undefined for text that is not such an expression, or that builds more than `maxEntries` entries.
 */
export function parseLayerFreqExpression(text: string, maxEntries: number = MAX_LAYER_FREQ_ENTRIES): Value | undefined {
  try {
    return evalLayerFreqExpression(text, maxEntries);
  } catch (e) {
    if (e instanceof LayerFreqTooLong) return undefined;
    throw e;
  }
}

/**
 * parseLayerFreqExpression, but a list longer than `maxEntries` throws LayerFreqTooLong. Lengths are computed
 * before any list is built, so "([1]*1000000000)" costs nothing.
 */
export function evalLayerFreqExpression(text: string, maxEntries: number): Value | undefined {
  if (!/^[\d\s,[\]()+*]+$/.test(text)) return undefined;
  const tokens = text.match(/\d+|[,[\]()+*]/g) ?? [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const fail = (): never => {
    throw new SyntaxError('bad layer expression');
  };
  // Lengths are plain numbers (possibly huge or Infinity); a list is built only at the end, when the whole
  // expression's length is within the bound (every part built is then at most as long).
  const list = (len: number, build: () => number[]): LazyList => ({ len, build });

  const factor = (): LazyValue => {
    const t = tokens[pos++];
    if (t === undefined) return fail();
    if (/^\d+$/.test(t)) return Number(t);
    if (t === '(') {
      const v = expr();
      if (tokens[pos++] !== ')') fail();
      return v;
    }
    if (t === '[') {
      const items: number[] = [];
      const done = (): LazyList => list(items.length, () => items.slice());
      if (peek() === ']') {
        pos++;
        return done();
      }
      for (;;) {
        const v = expr();
        if (typeof v !== 'number') fail();
        items.push(v as number);
        const sep = tokens[pos++];
        if (sep === ']') return done();
        if (sep !== ',') fail();
        if (peek() === ']') {
          pos++;
          return done(); // trailing comma, as Python allows
        }
      }
    }
    return fail();
  };

  const repeat = (l: LazyList, times: number): LazyList =>
    l.len === 0 || times === 0 ? list(0, () => []) : list(l.len * times, () => {
      const part = l.build();
      const out: number[] = [];
      for (let i = 0; i < times; i++) for (const x of part) out.push(x);
      return out;
    });

  const term = (): LazyValue => {
    let v = factor();
    while (peek() === '*') {
      pos++;
      const w = factor();
      if (typeof v === 'number' && typeof w === 'number') v = v * w;
      else if (typeof v !== 'number' && typeof w === 'number') v = repeat(v, w);
      else if (typeof v === 'number' && typeof w !== 'number') v = repeat(w, v);
      else fail();
    }
    return v;
  };

  const expr = (): LazyValue => {
    let v = term();
    while (peek() === '+') {
      pos++;
      const w = term();
      if (typeof v === 'number' && typeof w === 'number') v = v + w;
      else if (typeof v !== 'number' && typeof w !== 'number') {
        const a = v;
        const b = w;
        v = list(a.len + b.len, () => a.build().concat(b.build()));
      } else fail();
    }
    return v;
  };

  let v: LazyValue;
  try {
    v = expr();
    if (pos !== tokens.length) return undefined;
  } catch (e) {
    if (e instanceof LayerFreqTooLong) throw e;
    return undefined; // a syntax error, or nesting too deep for the stack
  }
  if (typeof v === 'number') return v;
  if (!(v.len <= maxEntries)) throw new LayerFreqTooLong(v.len);
  return v.build();
}

/**
 * Checks a moe_layer_freq value (int, list or expression string) against num_layers. Returns the value to keep
 * (an expression becomes its int or list) or a problem text for the error message.
 */
export function checkLayerFreq(value: unknown, numLayers: number): { ok: number | number[] } | { problem: string } {
  let v: unknown = value;
  if (typeof v === 'string') {
    let parsed: Value | undefined;
    try {
      parsed = evalLayerFreqExpression(v, numLayers);
    } catch (e) {
      if (!(e instanceof LayerFreqTooLong)) throw e;
      const n = Number.isFinite(e.length) ? String(e.length) : 'too many';
      return { problem: `list must have one entry per layer: ${numLayers} for num_layers ${numLayers} (the expression gives ${n})` };
    }
    if (parsed === undefined) {
      return {
        problem: `must be an integer >= 1, a 0/1 list or a list expression such as "([0]*3+[1]*58)" using only digits , [ ] ( ) + * (got ${gotText(v)})`,
      };
    }
    v = parsed;
  }
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || Object.is(v, -0)) {
      return { problem: `must be an integer >= 1 (layer i is MoE iff i % N == 0) (got ${gotText(v)})` };
    }
    if (v > LIMITS.layers) {
      return { problem: `must be an integer from 1 to ${LIMITS.layers} (layer i is MoE iff i % N == 0) (got ${gotText(v)})` };
    }
    return { ok: v };
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] !== 0 && v[i] !== 1) {
        return { problem: `list entries must be 0 (dense layer) or 1 (MoE layer) (got ${gotText(v[i])} at index ${i})` };
      }
    }
    if (v.length !== numLayers) {
      return { problem: `list must have one entry per layer: ${numLayers} for num_layers ${numLayers} (got ${v.length})` };
    }
    if (!v.includes(1)) return { problem: 'list marks no layer as MoE (1); use num_experts: 0 for a dense model' };
    return { ok: v as number[] };
  }
  return { problem: `must be an integer >= 1 or a 0/1 list (got ${typeof v})` };
}

/** 1 where layer i is an MoE layer. Assumes a value that passed checkLayerFreq. */
export function layerMaskFromFreq(freq: number | number[], numLayers: number): Uint8Array {
  const mask = new Uint8Array(numLayers);
  for (let i = 0; i < numLayers; i++) {
    mask[i] = typeof freq === 'number' ? (i % freq === 0 ? 1 : 0) : freq[i] === 1 ? 1 : 0;
  }
  return mask;
}

/** The shortest of the int form and the list form that gives this mask (int N when the mask is i % N == 0). */
export function layerFreqFromMask(mask: ArrayLike<number>): number | number[] {
  const n = mask.length;
  for (let freq = 1; freq <= Math.max(1, n); freq++) {
    let same = true;
    for (let i = 0; i < n && same; i++) same = (mask[i] === 1) === (i % freq === 0);
    if (same) return freq;
  }
  return Array.from(mask, (x) => (x === 1 ? 1 : 0));
}

/** Megatron's command-line form: "2" or a run-length expression such as "([0]*3+[1]*58)". */
export function formatLayerFreq(freq: number | number[]): string {
  if (typeof freq === 'number') return String(freq);
  const runs: string[] = [];
  let i = 0;
  while (i < freq.length) {
    let j = i;
    while (j < freq.length && freq[j] === freq[i]) j++;
    runs.push(j - i === 1 ? `[${freq[i]}]` : `[${freq[i]}]*${j - i}`);
    i = j;
  }
  return `(${runs.join('+')})`;
}
