#!/usr/bin/env node
// moefold command-line entry. The TypeScript sources are built into dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('moefold: not built yet: run `npm install` (or `npm run build`) in the moefold folder first\n');
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
if (process.env.MOEFOLD_REPORT_RSS) {
  // For the benchmark: peak resident memory of the whole process, worker threads included.
  process.once('exit', () => process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\n`));
}
