/** Bash text helpers shared by the script exports. */

/** One shell word: bare when it holds only safe characters, otherwise single-quoted. */
export function shellWord(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
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

/** `# text` lines. */
export function comment(lines: readonly string[]): string[] {
  return lines.map((l) => (l === '' ? '#' : `# ${l}`));
}
