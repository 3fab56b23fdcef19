import { createRequire } from 'node:module';
import type yargsType from 'yargs';
import { InputError } from '../job/errors.js';
import { COMMANDS, commandOf } from './commands.js';

/**
 * yargs' CommonJS build: its help layout wraps on word boundaries (wrap-ansi), where the ES-module build of
 * cliui breaks words at the column edge ("h" / "100-sxm"). Loaded on first use: `--version` does not need it.
 */
const loadYargs = () => createRequire(import.meta.url)('yargs') as typeof yargsType;

/** Exit codes: 0 ok; 1 a check failed, or the scored plan does not fit; 2 bad input, or no plan can serve the job; 130 interrupted. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    // What yargs' --version prints, without loading yargs or any command (a cold start is most of this call).
    process.stdout.write(`${(await import('../version.js')).VERSION}\n`);
    return 0;
  }
  const [{ guardOutputStreams, outputFailedCode }, { ioReason }, { oneLine }] = await Promise.all([
    import('./output.js'), import('../io/write-files.js'), import('../text/one-line.js'),
  ]);
  guardOutputStreams();
  const debug = argv.includes('--debug');
  let exitCode = 0;
  const setExit = (code: number) => { exitCode = code; };
  const yargs = loadYargs();
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
  // Only the command being run is loaded (its options, its code); the others are listed for --help and for
  // yargs' "did you mean" by their usage line alone.
  const running = commandOf(argv);
  for (const [name, info] of Object.entries(COMMANDS)) {
    if (name === running) (await info.load())(cli, setExit);
    else cli.command(info.usage, info.describe);
  }
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
