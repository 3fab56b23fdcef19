/**
 * Text from files and command lines that moefold prints or writes (messages, warnings, reports, comments in
 * generated scripts) is shown on one line as the user wrote it, except for the characters that could break the
 * line or take over a terminal or a CI log: C0 controls (line breaks, ESC), DEL, C1 controls, the Unicode line
 * and paragraph separators, bidirectional overrides and isolates (which can make text display as something else),
 * and lone UTF-16 surrogates. Those are shown as escapes (`\n`, `\u001b`). The one home for that rule.
 */

const UNSAFE_IN_LINE =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const UNSAFE_CHAR = new RegExp(UNSAFE_IN_LINE.source);

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** True when `s` holds a character that could break a line, a terminal or a parser (see the header). */
export function hasUnsafeChar(s: string): boolean {
  return UNSAFE_CHAR.test(s);
}

/** `s` on one line: each unsafe character shown as an escape (`\n`, `\u0000`). */
export function oneLine(s: string): string {
  return s.replace(UNSAFE_IN_LINE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Each line of a multi-line text made safe on its own (the line breaks between them are kept). */
export function safeLines(text: string): string {
  return text.split('\n').map(oneLine).join('\n');
}

/** `s` with each unsafe character replaced by `by` (for names made from file names). */
export function replaceUnsafeChars(s: string, by: string): string {
  return s.replace(UNSAFE_IN_LINE, by);
}
