/**
 * Text helpers shared by the exports: bash words and arrays, and `#` comment lines (bash, TOML and the Bridge
 * overrides file all use them).
 *
 * Job-derived text (the model name, the GPU name) reaches these helpers; the loader already refuses names that are
 * not one line, and these helpers hold on their own for any text: a comment line never holds a line break or a
 * control character, and a shell word is always one quoted word on one line.
 */

/** Control characters (C0, DEL, C1), line/paragraph separators and lone UTF-16 surrogates. */
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const UNSAFE_CHAR = new RegExp(UNSAFE_IN_LINE.source);

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** True when `s` holds a character that could break a line or a parser (see UNSAFE_IN_LINE). */
export function hasUnsafeChar(s: string): boolean {
  return UNSAFE_CHAR.test(s);
}

/** `s` on one line: each control character, separator or lone surrogate shown as an escape (`\n`, `\u0000`). */
export function oneLine(s: string): string {
  return s.replace(UNSAFE_IN_LINE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

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
