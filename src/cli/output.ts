import yaml from 'js-yaml';
import { ioReason } from '../io/write-files.js';

/** Prints a machine-readable result: JSON (2-space indent) or YAML. */
export function printStructured(obj: unknown, format: string): void {
  process.stdout.write(format === 'yaml' ? yaml.dump(obj, { lineWidth: -1, noRefs: true }) : `${JSON.stringify(obj, null, 2)}\n`);
}

let outputFailed = false;

/** True once writing stdout failed for a reason other than a closed pipe (e.g. a full disk): the run exits 2. */
export function outputFailedCode(code: number): number {
  return outputFailed ? 2 : code;
}

/**
 * Makes a closed stdout or stderr (`moefold tune … | head -1`, `| jq`, quitting `less`) end the run quietly with
 * the exit code it would have had, instead of Node's unhandled EPIPE trace; any other write error of stdout
 * (a redirect onto a full disk) is one line on stderr and exit 2.
 */
let guarded = false;

export function guardOutputStreams(): void {
  if (guarded) return; // main() may run many times in one process (tests, the fuzz script)
  guarded = true;
  const onError = (stream: 'stdout' | 'stderr') => (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    if (stream === 'stdout' && !outputFailed) {
      outputFailed = true;
      process.exitCode = 2;
      try {
        process.stderr.write(`moefold: cannot write the output: ${ioReason(e)}\n`);
      } catch {
        // stderr is gone too: the exit code still says it
      }
    }
  };
  process.stdout.on('error', onError('stdout'));
  process.stderr.on('error', onError('stderr'));
}
