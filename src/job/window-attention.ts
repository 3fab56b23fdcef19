/**
 * Sliding-window attention (Megatron-Core TransformerConfig.window_size / window_attn_skip_freq; arguments
 * `--window-size L,R` and `--window-attn-skip-freq`). moefold holds the left window W (`window_size`, tokens; the
 * right window is 0, causal, as GPT-OSS's (128, 0)); 0 = no window. Which layers: `window_attn_skip_freq` an int N
 * (layer number n, 1-based, is windowed iff n % N != 0: one full layer after N − 1 windowed ones), or a 0/1 list
 * with one entry per layer (1 = windowed), or Megatron's list expression; 0 = every layer windowed (Megatron's None).
 * Megatron-Core megatron/core/transformer/utils.py is_layer_window_attention states the rule.
 */
import { LIMITS, gotText } from './fields.js';
import { evalLayerFreqExpression, LayerFreqTooLong } from './layer-freq.js';
import type { ModelSpec } from './types.js';

/** Checks a window_attn_skip_freq value (int, list or expression) against num_layers. */
export function checkWindowSkipFreq(value: unknown, numLayers: number): { ok: number | number[] } | { problem: string } {
  let v: unknown = value;
  if (typeof v === 'string') {
    let parsed: number | number[] | undefined;
    try {
      parsed = evalLayerFreqExpression(v, numLayers);
    } catch (e) {
      if (!(e instanceof LayerFreqTooLong)) throw e;
      return { problem: `list must have one entry per layer: ${numLayers} for num_layers ${numLayers} (the expression gives more)` };
    }
    if (parsed === undefined) {
      return { problem: `must be an integer >= 1, a 0/1 list or a list expression such as "([1]*3+[0]*1)*9" (got ${gotText(v)})` };
    }
    v = parsed;
  }
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > LIMITS.layers) {
      return { problem: `must be an integer from 1 to ${LIMITS.layers} (layer n, 1-based, is windowed iff n % N != 0) (got ${gotText(v)})` };
    }
    return { ok: v };
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (v[i] !== 0 && v[i] !== 1) {
        return { problem: `list entries must be 1 (sliding-window layer) or 0 (full attention) (got ${gotText(v[i])} at index ${i})` };
      }
    }
    if (v.length !== numLayers) {
      return { problem: `list must have one entry per layer: ${numLayers} for num_layers ${numLayers} (got ${v.length})` };
    }
    return { ok: v as number[] };
  }
  return { problem: `must be an integer >= 1 or a 0/1 list (got ${typeof v})` };
}

/** Whether decoder layer `i` (0-based) uses the sliding window. */
export function isWindowLayer(m: ModelSpec, i: number): boolean {
  if (m.window_size <= 0) return false;
  const f = m.window_attn_skip_freq;
  if (typeof f === 'number') return f === 0 ? true : (i + 1) % f !== 0;
  return f[i] === 1;
}

/** Number of sliding-window layers among the num_layers decoder layers. */
export function windowLayerCount(m: ModelSpec): number {
  let n = 0;
  for (let i = 0; i < m.num_layers; i++) if (isWindowLayer(m, i)) n++;
  return n;
}

/**
 * Share of the causal (query, key) pairs that a left window of `window` tokens keeps on a `seq`-token sequence,
 * counting causal attention as s²/2 pairs (Megatron's convention): with w = min(window, s) each query sees w keys
 * once past the first w, so pairs = s·w − w²/2 and the share is (2·s·w − w²)/s²; 1 without a window.
 */
export function windowPairFraction(seq: number, window: number): number {
  if (window <= 0 || window >= seq) return 1;
  return (2 * seq * window - window * window) / (seq * seq);
}

/** Mean over decoder layers of the core-attention FLOPs share: (n_full + n_window·windowPairFraction)/L. */
export function meanAttentionFlopsFraction(m: ModelSpec, seq: number): number {
  if (m.window_size <= 0 || m.num_layers === 0) return 1;
  const nw = windowLayerCount(m);
  return (m.num_layers - nw + nw * windowPairFraction(seq, m.window_size)) / m.num_layers;
}
