import type { Job } from '../job/types.js';
import type { PlanJson } from '../render/plan-json.js';
import type { CalibrationJson } from '../plans/result.js';

/**
 * The JSON form of `moefold sweep` (a contract: `moefold report` draws its scaling curve from it, CI and users
 * read these names). One point per (GPU kind, GPU count, sequence length).
 */
export interface SweepPointJson {
  /** The calibration the point was scored with (its label, e.g. `h200-sxm`). */
  gpu: string;
  calibration: CalibrationJson;
  gpus: number;
  seq_length: number;
  global_batch_size: number;
  /** Valid plans (Megatron accepts) and how many of them fit within the memory margin. */
  valid: number;
  fitting: number;
  /** The plan ranked first at this point (the same ranking as `moefold tune`), or null when none can run. */
  best: PlanJson | null;
  /** Why `best` is null: one line (no valid plan, nothing fits, ...); null when a plan was found. */
  reason: string | null;
  /** Wall-clock seconds to train `tokens` with `best` (tokens ÷ (tokens/s/GPU × gpus)); null without a plan. */
  time_to_train_s: number | null;
  /** GPU-hours to train `tokens`: time_to_train_s × gpus ÷ 3600; null without a plan. */
  gpu_hours: number | null;
}

export interface SweepJson {
  moefold: { version: string; objective: string; space: string };
  job_file: string;
  model: Job['model'];
  training: Job['training'];
  /** The token budget the time and GPU-hours are for. */
  tokens: number;
  /**
   * How each point's plans were ranked, as `moefold tune` ranks: the tie tolerance (a fraction; the cross-validated
   * error unless --tie) and the memory margin every ranked plan leaves free. Absent when no point was searched.
   */
  ranking?: { tie: number; memory_margin_gib: number };
  points: SweepPointJson[];
  /** Wall time of the whole sweep; null with --no-timing. */
  wall_s: number | null;
}
