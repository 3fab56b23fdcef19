import { inputError } from '../job/errors.js';

export interface KeyValue<K extends string> {
  key: K;
  /** As the user typed it (for error messages). */
  rawKey: string;
  value: string;
}

/**
 * Parses `key=value,key=value` (for --plan and --fix): keys are looked up case-insensitively in `aliases`;
 * an empty list, an item without '=', an unknown key or a key given twice is an InputError naming `source`.
 * The value of `commaKey` may hold commas (a Megatron pipeline layout: its commas are cosmetic): items without
 * '=' after it belong to its value.
 */
export function parseKeyValues<K extends string>(text: string, source: string, aliases: Record<string, K>, keysText: string,
  unknownWhat: string, commaKey?: K): KeyValue<K>[] {
  const raw = text.split(',').map((s) => s.trim());
  const items: string[] = [];
  let inComma = false;
  for (const it of raw) {
    if (inComma && !it.includes('=') && items.length > 0) { items[items.length - 1] += `,${it}`; continue; }
    if (it.length === 0) continue;
    const eq = it.indexOf('=');
    inComma = commaKey !== undefined && eq > 0 && aliases[it.slice(0, eq).trim().toLowerCase()] === commaKey;
    items.push(it);
  }
  if (items.length === 0) throw inputError(source, '', `expected key=value pairs separated by commas (keys: ${keysText})`);
  const seen = new Set<K>();
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw inputError(source, item, `expected key=value (keys: ${keysText})`);
    const rawKey = item.slice(0, eq).trim();
    const lower = rawKey.toLowerCase();
    const key = Object.hasOwn(aliases, lower) ? aliases[lower] : undefined;
    if (key === undefined) throw inputError(source, rawKey, `${unknownWhat} (allowed: ${keysText})`);
    if (seen.has(key)) throw inputError(source, rawKey, 'given more than once');
    seen.add(key);
    return { key, rawKey, value: item.slice(eq + 1).trim() };
  });
}
