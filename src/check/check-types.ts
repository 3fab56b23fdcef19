/** `job` comes first: a baseline made for another job makes the other four meaningless (they are skipped). */
export type CheckName = 'job' | 'valid' | 'fits' | 'best' | 'regression';
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckOutcome {
  name: CheckName;
  status: CheckStatus;
  /** One line saying what was checked and what was found. */
  message: string;
  /** Further lines (memory breakdown, side-by-side table, moved terms). */
  details: string[];
}

/** One job field that differs between the baseline's recorded job and the current one. */
export interface JobChange {
  /** e.g. `cluster.gpus`, `model.num_layers`. */
  field: string;
  baseline: unknown;
  current: unknown;
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
  /** Whether the baseline plan fits in memory for the current job; null when it was not scored. */
  baseline_fits_now: boolean | null;
  /** Job fields that changed since the baseline was made (empty: the same job, or no baseline to compare). */
  job_changes: JobChange[];
  checks: CheckOutcome[];
  /** Set with --update: the baseline was rewritten with the current best. */
  updated: boolean;
}
