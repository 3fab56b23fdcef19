/**
 * `moe_layer_freq`: which decoder layers are MoE layers. Megatron accepts an int N (layer i is MoE iff
 * i % N == 0) or a list with one 0/1 entry per layer, which on the command line is written as a Python list
 * expression such as "([0]*3+[1]*58)" (only digits , [ ] ( ) + * allowed; arguments.py). A job file may hold
 * any of the three; the loader turns an expression into the list.
 */

type Value = number | number[];

/** Evaluates Megatron's list expression without eval(): + concatenates lists (adds ints), * repeats a list. */
export function parseLayerFreqExpression(text: string): Value | undefined {
  if (!/^[\d\s,[\]()+*]+$/.test(text)) return undefined;
  const tokens = text.match(/\d+|[,[\]()+*]/g) ?? [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const fail = (): never => {
    throw new SyntaxError('bad layer expression');
  };

  const factor = (): Value => {
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
      if (peek() === ']') {
        pos++;
        return items;
      }
      for (;;) {
        const v = expr();
        if (typeof v !== 'number') fail();
        items.push(v as number);
        const sep = tokens[pos++];
        if (sep === ']') return items;
        if (sep !== ',') fail();
        if (peek() === ']') {
          pos++;
          return items; // trailing comma, as Python allows
        }
      }
    }
    return fail();
  };

  const term = (): Value => {
    let v = factor();
    while (peek() === '*') {
      pos++;
      const w = factor();
      if (typeof v === 'number' && typeof w === 'number') v = v * w;
      else if (Array.isArray(v) && typeof w === 'number') v = repeat(v, w);
      else if (typeof v === 'number' && Array.isArray(w)) v = repeat(w, v);
      else fail();
    }
    return v;
  };

  const expr = (): Value => {
    let v = term();
    while (peek() === '+') {
      pos++;
      const w = term();
      if (typeof v === 'number' && typeof w === 'number') v = v + w;
      else if (Array.isArray(v) && Array.isArray(w)) v = v.concat(w);
      else fail();
    }
    return v;
  };

  try {
    const v = expr();
    return pos === tokens.length ? v : undefined;
  } catch {
    return undefined;
  }
}

function repeat(list: number[], times: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < times; i++) for (const x of list) out.push(x);
  return out;
}

/**
 * Checks a moe_layer_freq value (int, list or expression string) against num_layers. Returns the value to keep
 * (an expression becomes its int or list) or a problem text for the error message.
 */
export function checkLayerFreq(value: unknown, numLayers: number): { ok: number | number[] } | { problem: string } {
  let v: unknown = value;
  if (typeof v === 'string') {
    const parsed = parseLayerFreqExpression(v);
    if (parsed === undefined) {
      return {
        problem: `must be an integer >= 1, a 0/1 list or a list expression such as "([0]*3+[1]*58)" using only digits , [ ] ( ) + * (got ${JSON.stringify(v)})`,
      };
    }
    v = parsed;
  }
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1) {
      return { problem: `must be an integer >= 1 (layer i is MoE iff i % N == 0) (got ${v})` };
    }
    return { ok: v };
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] !== 0 && v[i] !== 1) {
        return { problem: `list entries must be 0 (dense layer) or 1 (MoE layer) (got ${JSON.stringify(v[i])} at index ${i})` };
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
