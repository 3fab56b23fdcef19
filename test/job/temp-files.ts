import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A temporary folder for one test file, removed when the process exits, and a writer of files inside it
 * (sub-folders created as needed). Returns the path written.
 */
export function tempWriter(prefix: string): { dir: string; write: (name: string, text: string | Buffer) => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string | Buffer): string => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };
  return { dir, write };
}
