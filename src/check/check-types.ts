export type CheckName = 'valid' | 'fits' | 'best' | 'regression';
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckOutcome {
  name: CheckName;
  status: CheckStatus;
  /** One line saying what was checked and what was found. */
  message: string;
  /** Further lines (memory breakdown, side-by-side table, moved terms). */
  details: string[];
}

export interface JobCheckReport {
  job_file: string;
  baseline_file: string;
  rank: number;
  tolerance: number;
  passed: boolean;
  baseline_tokens_per_s_per_gpu_recorded: number | null;
  baseline_tokens_per_s_per_gpu_now: number | null;
  best_tokens_per_s_per_gpu_now: number | null;
  checks: CheckOutcome[];
  /** Set with --update: the baseline was rewritten with the current best. */
  updated: boolean;
}
