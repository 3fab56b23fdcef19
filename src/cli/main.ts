import { createRequire } from 'node:module';
import type yargsType from 'yargs';
import { InputError } from '../job/errors.js';
import { registerTune } from './tune-command.js';
import { registerScore } from './score-command.js';
import { registerExport } from './export-command.js';
import { registerCheck } from './check-command.js';
import { registerCalibrate } from './calibrate-command.js';
import { registerSweep } from './sweep-command.js';
import { registerReport } from './report-command.js';
import { guardOutputStreams, outputFailedCode } from './output.js';
import { ioReason } from '../io/write-files.js';
import { oneLine } from '../text/one-line.js';

// yargs' CommonJS build: its help layout wraps on word boundaries (wrap-ansi), where the ES-module build of
// cliui breaks words at the column edge ("h" / "100-sxm").
const yargs = createRequire(import.meta.url)('yargs') as typeof yargsType;

/** Exit codes: 0 ok; 1 a check failed, or the scored plan does not fit; 2 bad input, or no plan can serve the job; 130 interrupted. */
export async function main(argv: string[]): Promise<number> {
  guardOutputStreams();
  const debug = argv.includes('--debug');
  let exitCode = 0;
  const setExit = (code: number) => { exitCode = code; };
  const cli = yargs(argv)
    .scriptName('moefold')
    .usage('$0 <command> [options]')
    .usage('Plans MoE Parallel Folding layouts for Megatron-Core training: enumerates every mapping Megatron accepts, '
      + 'scores step time and memory, ranks them, exports launch configs.')
    .option('debug', { type: 'boolean', describe: 'Print stack traces on errors', global: true })
    .strict()
    .demandCommand(1, 'Give a command: tune, sweep, score, export, check, calibrate or report (see --help).')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(140, process.stdout.columns || 140))
    .fail((msg, err) => {
      if (err) throw err;
      throw new InputError(`moefold: ${msg.replace(/\s*\n\s*/g, ' ')}`); // yargs messages can span lines
    })
    .epilogue('Docs: README.md. Exit codes: 0 ok; 1 a check failed, or the scored plan does not fit; 2 bad input, or no plan can serve the job; 130 interrupted.');
  registerTune(cli, setExit);
  registerScore(cli, setExit);
  registerExport(cli, setExit);
  registerCheck(cli, setExit);
  registerCalibrate(cli, setExit);
  registerSweep(cli, setExit);
  registerReport(cli, setExit);
  try {
    await cli.parseAsync();
    return outputFailedCode(exitCode);
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`${oneLine(err.message.trimEnd())}\n`); // one line by construction; nothing a file name holds can break it
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return 2;
    }
    const io = err as NodeJS.ErrnoException;
    if (typeof io?.code === 'string' && /^E[A-Z]+$/.test(io.code) && typeof io.path === 'string') {
      // A file operation that failed outside the readers and writers that name their field: still bad input or I/O.
      process.stderr.write(`${oneLine(io.path)}: cannot ${io.syscall ?? 'access'} (${ioReason(io)})\n`);
      if (debug && io.stack) process.stderr.write(`${io.stack}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`moefold: internal error: ${oneLine(msg.split('\n')[0])}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
