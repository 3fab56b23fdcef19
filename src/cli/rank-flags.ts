/**
 * The ranking flags every command that ranks plans takes (tune, sweep, report): the tie tolerance and the memory
 * margin, read and checked in one place. Absent, runSearch fills the defaults (the calibration's cross-validated
 * error, DEFAULT_MEMORY_MARGIN_BYTES).
 */
import type { Argv } from 'yargs';
import { numberOption } from './job-options.js';
import { GIB } from '../render/numbers.js';
import { DEFAULT_MEMORY_MARGIN_BYTES } from '../search/objective.js';

export { DEFAULT_TOP } from '../search/objective.js';
/** The largest --tie: a half-wide tie would rank by headroom alone. */
export const MAX_TIE = 0.5;
/** The largest --memory-margin in GiB (more than any GPU has). */
const MAX_MARGIN_GIB = 1024;

export interface RankFlagArgs {
  tie?: string;
  memoryMargin?: string;
}

export function withRankFlags<T>(y: Argv<T>) {
  return y
    .option('tie', {
      type: 'string',
      describe: 'Tie tolerance, a fraction: plans within it of the best are ordered by headroom, then simplicity (default: the model\'s cross-validated error)',
    })
    .option('memory-margin', { type: 'string', describe: `GiB a plan must leave free to be ranked (default ${DEFAULT_MEMORY_MARGIN_BYTES / GIB})` });
}

/** The flags as RankOptions fields (undefined: the default). */
export function rankFlags(a: RankFlagArgs): { tie?: number; memoryMarginBytes?: number } {
  const tie = numberOption('--tie', a.tie, { min: 0, max: MAX_TIE, integer: false });
  const marginGib = numberOption('--memory-margin', a.memoryMargin, { min: 0, max: MAX_MARGIN_GIB, integer: false });
  return { tie, memoryMarginBytes: marginGib === undefined ? undefined : marginGib * GIB };
}
