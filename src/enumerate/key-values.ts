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
 */
export function parseKeyValues<K extends string>(text: string, source: string, aliases: Record<string, K>, keysText: string,
  unknownWhat: string): KeyValue<K>[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
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
