/**
 * The commands moefold offers, as `--help` lists them: name, usage and one-line description, and where each
 * command's module is. main.ts loads only the module of the command being run (a cold `moefold --version` or
 * `moefold tune` does not parse the export, report or calibration code); the others are listed by these lines.
 */
import type { Argv } from 'yargs';

export type Register = (cli: Argv, setExit: (code: number) => void) => void;

export interface CommandInfo {
  /** yargs' command string: the name and its positionals. */
  usage: string;
  describe: string;
  load: () => Promise<Register>;
}

/** In the order `moefold --help` lists them. */
export const COMMANDS = {
  tune: {
    usage: 'tune <job>',
    describe: 'Search every valid folded mapping for a job and print the best plans',
    load: async () => (await import('./tune-command.js')).registerTune,
  },
  score: {
    usage: 'score <job>',
    describe: 'Estimate step time, throughput and memory of one plan, with the full breakdown',
    load: async () => (await import('./score-command.js')).registerScore,
  },
  export: {
    usage: 'export <plans>',
    describe: 'Write the launch config of a saved plan (Megatron args, torchrun, SLURM, Megatron-Bridge, torchtitan)',
    load: async () => (await import('./export-command.js')).registerExport,
  },
  check: {
    usage: 'check <target>',
    describe: 'CI check: was the baseline made for this job, is the committed plan still valid, does it fit, is it still (close to) the best, did it regress?',
    load: async () => (await import('./check-command.js')).registerCheck,
  },
  calibrate: {
    usage: 'calibrate <runs>',
    describe: "Fit the cost model's free constants to your own Megatron runs and write a calibration overlay",
    load: async () => (await import('./calibrate-command.js')).registerCalibrate,
  },
  sweep: {
    usage: 'sweep <job>',
    describe: 'The best plan per GPU count, GPU kind and sequence length: throughput, MFU, and time and GPU-hours to train a token budget',
    load: async () => (await import('./sweep-command.js')).registerSweep,
  },
  report: {
    usage: 'report <job>',
    describe: 'Search as tune does and write one self-contained HTML page: plans vs memory, Pareto front, scaling curve, breakdowns, tables',
    load: async () => (await import('./report-command.js')).registerReport,
  },
} as const satisfies Record<string, CommandInfo>;

export type CommandName = keyof typeof COMMANDS;

/** The command argv names: its first word that is not an option (main's only global options are flags). */
export function commandOf(argv: readonly string[]): CommandName | undefined {
  const word = argv.find((a) => !a.startsWith('-'));
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? word as CommandName : undefined;
}
