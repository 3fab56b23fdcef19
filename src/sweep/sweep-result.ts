/**
 * The sweep's result as its JSON contract (sweep-json.ts), and the one home of its arithmetic: the time and
 * GPU-hours to train the token budget, and the scaling efficiency against the smallest point of a GPU kind.
 */
import { VERSION } from '../version.js';
import { calibrationJson, rankedToJson } from '../plans/result.js';
import { calibrationLabel } from '../cost/calibration.js';
import { GIB, sig } from '../render/numbers.js';
import type { Job } from '../job/types.js';
import { modelShape } from '../job/shape.js';
import type { SweepJson, SweepPointJson } from './sweep-json.js';
import type { PointOutcome, SweepRun } from './run-sweep.js';

const SECONDS_PER_HOUR = 3600;

/** Wall-clock seconds to train `tokens` on `gpus` GPUs at `tokensPerSPerGpu`. */
export function timeToTrainS(tokens: number, tokensPerSPerGpu: number, gpus: number): number {
  return tokens / (tokensPerSPerGpu * gpus);
}

/** GPU-hours of a run of `timeS` seconds on `gpus` GPUs. */
export function gpuHours(timeS: number, gpus: number): number {
  return (timeS * gpus) / SECONDS_PER_HOUR;
}

export interface SweepMeta {
  jobFile: string;
  objective: string;
  space: string | undefined;
  tokens: number;
  timing: boolean;
}

/** A job every row can describe the model and training with: the first point that loaded. */
export function firstJob(run: SweepRun): Job {
  const j = run.outcomes.find((x) => x.point.job !== null)?.point.job;
  if (!j) throw new Error('sweep: no point loaded (refuseWhenNoneLoads runs first)');
  return j;
}

export function buildSweepJson(run: SweepRun, meta: SweepMeta): SweepJson {
  const ref = firstJob(run);
  const refCal = run.outcomes.find((x) => x.point.calibration !== null)?.point.calibration;
  if (!refCal) throw new Error('sweep: no calibration loaded');
  const points = run.outcomes.map((x): SweepPointJson => {
    const job = x.point.job;
    const cal = x.point.calibration ?? refCal;
    const gpus = job?.cluster.gpus ?? x.point.gpuCount ?? ref.cluster.gpus;
    const best = job !== null && x.best !== null ? rankedToJson(job, modelShape(job.model), [x.best], cal.denseBf16PeakFlops)[0] : null;
    // From the rounded figure the JSON shows, so that time and GPU-hours check against the JSON's own numbers.
    const timeS = best ? timeToTrainS(meta.tokens, best.estimate.tokens_per_s_per_gpu, gpus) : null;
    return {
      gpu: calibrationLabel(cal),
      calibration: calibrationJson(cal),
      gpus,
      seq_length: job?.training.seq_length ?? x.point.seqLength ?? ref.training.seq_length,
      global_batch_size: job?.training.global_batch_size ?? ref.training.global_batch_size,
      valid: x.search?.stats.valid ?? 0,
      fitting: x.search?.fitting ?? 0,
      best,
      reason: x.reason,
      time_to_train_s: timeS === null ? null : sig(timeS),
      gpu_hours: timeS === null ? null : sig(gpuHours(timeS, gpus)),
    };
  });
  return {
    moefold: { version: VERSION, objective: meta.objective, space: meta.space ?? 'search-spaces/default.yaml' },
    job_file: meta.jobFile,
    model: ref.model,
    training: ref.training,
    tokens: meta.tokens,
    ...rankingOf(run),
    points,
    wall_s: meta.timing ? sig(run.wallS, 3) : null,
  };
}

/**
 * Tokens/s/GPU of each point over that of the smallest point (fewest GPUs, with a plan) of the same GPU kind and
 * sequence length; null where the point or its reference has no plan. 1 = perfect weak scaling per GPU.
 */
export function scalingEfficiency(points: readonly SweepPointJson[]): (number | null)[] {
  const ref = new Map<string, SweepPointJson>();
  for (const p of points) {
    if (!p.best) continue;
    const k = `${p.gpu}\0${p.seq_length}`;
    const r = ref.get(k);
    if (!r || p.gpus < r.gpus) ref.set(k, p);
  }
  return points.map((p) => {
    const r = ref.get(`${p.gpu}\0${p.seq_length}`);
    return p.best && r?.best ? p.best.estimate.tokens_per_s_per_gpu / r.best.estimate.tokens_per_s_per_gpu : null;
  });
}

/** The outcomes with a plan. */
export function pointsWithPlan(outcomes: readonly PointOutcome[]): number {
  return outcomes.filter((x) => x.best !== null).length;
}

/** The ranking every point used (the same options resolve alike for every calibration derived from one fit). */
function rankingOf(run: SweepRun): Pick<SweepJson, 'ranking'> {
  const searched = run.outcomes.find((x) => x.search !== null)?.search;
  return searched ? { ranking: { tie: searched.rank.tie, memory_margin_gib: sig(searched.rank.memoryMarginBytes / GIB) } } : {};
}
