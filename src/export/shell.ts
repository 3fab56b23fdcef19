/**
 * Text helpers shared by the exports: bash words and arrays, and `#` comment lines (bash, TOML and the Bridge
 * overrides file all use them).
 *
 * Job-derived text (the model name, the GPU name) reaches these helpers; the loader already refuses names that are
 * not one line, and these helpers hold on their own for any text: a comment line never holds a line break or a
 * control character, and a shell word is always one quoted word on one line.
 */

import { oneLine } from '../text/one-line.js';

export { hasUnsafeChar, oneLine } from '../text/one-line.js';

/**
 * One shell word: bare when it holds only safe characters, otherwise single-quoted; text with control characters
 * is written with bash's $'…' quoting, so the word stays on one line. NUL cannot be passed to a program at all.
 */
export function shellWord(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  if (s.includes('\u0000')) throw new Error(`shellWord: a NUL character cannot be passed in a bash word (${JSON.stringify(s)})`);
  if (!/[\u0001-\u001f\u007f]/.test(s)) return `'${s.replace(/'/g, `'\\''`)}'`;
  const body = s.replace(/[\\'\u0001-\u001f\u007f]/g, (c) => {
    if (c === '\\' || c === "'") return `\\${c}`;
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `$'${body}'`;
}

/** Splits a flag list into one group per flag: ['--a', '1', '--b'] → [['--a', '1'], ['--b']]. */
export function flagGroups(args: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (const a of args) {
    if (a.startsWith('--') || groups.length === 0) groups.push([a]);
    else groups[groups.length - 1].push(a);
  }
  return groups;
}

/** A bash array assignment with one flag (and its values) per line. */
export function bashArray(name: string, args: readonly string[]): string[] {
  return [`${name}=(`, ...flagGroups(args).map((g) => `  ${g.map(shellWord).join(' ')}`), ')'];
}

/** `# text` lines, one per entry; each entry is made one line first (see oneLine), so no comment can be broken. */
export function comment(lines: readonly string[]): string[] {
  return lines.map((l) => (l === '' ? '#' : `# ${oneLine(l)}`));
}
