/**
 * The runs file of `moefold calibrate`: the team's own runs, each a job, the plan it ran and what it measured.
 *
 *   runs:
 *     - id: llama3-70b-tp4                # optional (default run-1, run-2, …)
 *       job: jobs/llama3-70b.yaml         # a job file (relative to this file), or the job inline as a mapping
 *       plan: tp=4,pp=8,vpp=5,mbs=1       # the plan: a `--plan` string, or
 *       # megatron_args: [--tensor-model-parallel-size, 4, …]   (a list, or one string of shell words), or
 *       # launch_script: run.sh           (its Megatron flags are read; shell variables in plan flags are refused)
 *       log: logs/llama3-70b.log          # a Megatron-LM log: step time from its iteration lines, memory from its
 *                                         # report_memory lines (ranks mapped to pipeline stages), or
 *       # measured: { step_time_s: 12.3 } (or tokens_per_s_per_gpu), optionally max_allocated_gib: [61.2, 58.0, …]
 *       warmup_iterations: 5              # optional, for a log: iterations left out as warm-up
 *
 * Each run is loaded as `moefold score` loads a job and a plan (the job's loader, the plan's parser and
 * Megatron's rules); a plan read from an argument list also sets the stack fields the list states. A log whose
 * logged arguments (world size, global batch, sequence length, layers, parallel sizes) disagree with its job and
 * plan is refused: it measured something else.
 */
import { inputError } from '../job/errors.js';
import { isMapping, kindText, readInputText, readMappingFile, resolveInputPath } from '../job/read-file.js';
import { NAME_PATTERN } from '../job/fields.js';
import { loadJob, jobFromObject, type JobOverrides } from '../job/load-job.js';
import { contextOf, type JobContext } from '../job-context.js';
import { checkPlan, parsePlanSpec } from '../enumerate/index.js';
import type { Plan } from '../enumerate/plan.js';
import { AXIS_PP, DEFAULT_ORDER, axisStride, parseRankOrder } from '../enumerate/rank-groups.js';
import type { FitRun } from './fit-core.js';
import { logArgNumber, maxAllocatedByRank, parseMegatronLog, summariseSteps } from './megatron-log.js';
import { megatronArgsOf, readMegatronArgs, shellWords, type ArgsReading } from './plan-from-args.js';

const RUN_KEYS = ['id', 'job', 'plan', 'megatron_args', 'launch_script', 'log', 'measured', 'warmup_iterations'] as const;
const MEASURED_KEYS = ['step_time_s', 'tokens_per_s_per_gpu', 'max_allocated_gib'] as const;

export interface CalibrationRun extends FitRun {
  id: string;
  /** Measured step time (s) and how it was obtained. */
  measuredStepS: number;
  measuredHow: string;
  /** (max − min) / median of the timed iterations of a log; null for numbers given. */
  spread: number | null;
  /** Measured "max allocated" (GiB) per pipeline stage (null: no report for that stage), or null when none. */
  measuredStageGib: (number | null)[] | null;
  /** The files this run was read from (job, launch script, log). */
  inputs: string[];
}

/** Reads and checks every run of `file`; `overrides` (--gpu, --calibration) apply to every job. */
export function readRunsFile(file: string, overrides: JobOverrides = {}): CalibrationRun[] {
  const doc = readMappingFile(file, 'runs file');
  for (const k of Object.keys(doc)) {
    if (k !== 'runs') throw inputError(file, k, 'is not a runs-file key (the file holds `runs:`, a list of runs)');
  }
  const list = doc.runs;
  if (!Array.isArray(list)) throw inputError(file, 'runs', `must be a list of runs (got ${kindText(list)})`);
  if (list.length === 0) throw inputError(file, 'runs', 'is empty: list at least one run');
  const ids = new Set<string>();
  return list.map((entry, i) => {
    const run = readRun(file, entry, i, overrides);
    if (ids.has(run.id)) throw inputError(file, `runs[${i}].id`, `${JSON.stringify(run.id)} is used by another run`);
    ids.add(run.id);
    return run;
  });
}

function readRun(file: string, e: unknown, i: number, overrides: JobOverrides): CalibrationRun {
  const at = (f: string) => `runs[${i}].${f}`;
  if (!isMapping(e)) throw inputError(file, `runs[${i}]`, `must be a mapping with job, plan and log or measured (got ${kindText(e)})`);
  for (const k of Object.keys(e)) {
    if (!(RUN_KEYS as readonly string[]).includes(k)) throw inputError(file, at(k), `is not a run key (allowed: ${RUN_KEYS.join(', ')})`);
  }
  const id = e.id === undefined ? `run-${i + 1}` : e.id;
  if (typeof id !== 'string' || id.length > 100 || !new RegExp(NAME_PATTERN).test(id)) {
    throw inputError(file, at('id'), 'must be a name of letters, digits, ., _ and - (at most 100)');
  }
  const inputs: string[] = [];
  // a path relative to the runs file, read with the loader's path checks
  const rel = (f: string, key: string): string => {
    const p = resolveInputPath(f, file, at(key), `${key} file`);
    inputs.push(p);
    return p;
  };

  // the job, then the plan (an argument list may set stack fields: the job is loaded again with them)
  const loadRunJob = (o: JobOverrides): JobContext => {
    if (typeof e.job === 'string' && e.job.length > 0) return contextOf(loadJob(rel(e.job, 'job'), o), { warn: false });
    if (isMapping(e.job)) return contextOf(jobFromObject(e.job, file, o), { warn: false });
    throw inputError(file, at('job'), `must be the path of a job file or the job as a mapping (got ${kindText(e.job)})`);
  };
  let jc = loadRunJob(overrides);
  const planKeys = (['plan', 'megatron_args', 'launch_script'] as const).filter((k) => e[k] !== undefined);
  if (planKeys.length !== 1) {
    throw inputError(file, at('plan'), planKeys.length === 0 ? 'missing: give plan (a --plan string), megatron_args or launch_script'
      : `give one of plan, megatron_args, launch_script (got ${planKeys.join(' and ')})`);
  }
  let plan: Plan;
  let reading: ArgsReading | null = null;
  const where = at(planKeys[0]);
  if (planKeys[0] === 'plan') {
    if (typeof e.plan !== 'string' || e.plan.trim() === '') throw inputError(file, where, 'must be a plan string such as tp=2,pp=8,ep=8');
    plan = parsePlanSpec(e.plan, jc.job, jc.shape, `${file}: ${where}`);
  } else {
    let args: string[];
    if (planKeys[0] === 'megatron_args') {
      if (typeof e.megatron_args === 'string') args = shellWords(e.megatron_args);
      else if (Array.isArray(e.megatron_args) && e.megatron_args.every((a) => typeof a === 'string' || typeof a === 'number')) args = e.megatron_args.map(String);
      else throw inputError(file, where, 'must be a list of arguments or one string of them');
    } else {
      if (typeof e.launch_script !== 'string') throw inputError(file, where, 'must be the path of a launch script');
      args = megatronArgsOf(shellWords(readInputText(rel(e.launch_script, 'launch_script'), 'launch script')));
      if (args.length === 0) throw inputError(file, where, `no Megatron-LM flags found in ${e.launch_script}`);
    }
    reading = readMegatronArgs(args, jc.job.cluster.gpus, file, where);
    jc = loadRunJob({ ...overrides, stack: { ...reading.stack, ...overrides.stack } });
    checkArgsAgainstJob(reading, jc, file, where);
    plan = reading.plan;
  }
  const broken = checkPlan(jc.job, jc.shape, plan);
  if (broken.length > 0) {
    throw inputError(file, where, `Megatron-Core would refuse this plan: ${broken.map((v) => `${v.rule} (${v.reason})`).join('; ')}`);
  }

  // the measurement
  const t = jc.job.training;
  const tokensPerStep = t.global_batch_size * t.seq_length;
  const world = jc.job.cluster.gpus;
  const hasLog = e.log !== undefined;
  if (hasLog === (e.measured !== undefined)) {
    throw inputError(file, at('log'), hasLog ? 'give log or measured, not both' : 'missing: give log (a Megatron-LM log) or measured (step_time_s or tokens_per_s_per_gpu)');
  }
  if (e.warmup_iterations !== undefined && !hasLog) throw inputError(file, at('warmup_iterations'), 'applies to a log only');
  let stepS: number;
  let how: string;
  let spread: number | null = null;
  let stageGib: (number | null)[] | null = null;
  if (hasLog) {
    if (typeof e.log !== 'string' || e.log === '') throw inputError(file, at('log'), 'must be the path of a Megatron-LM log');
    const logFile = rel(e.log, 'log');
    const log = parseMegatronLog(readInputText(logFile, 'Megatron log'), logFile);
    checkLogAgainstJob(log, logFile, jc, plan);
    const warm = e.warmup_iterations;
    if (warm !== undefined && (typeof warm !== 'number' || !Number.isInteger(warm) || warm < 0)) {
      throw inputError(file, at('warmup_iterations'), 'must be an integer >= 0');
    }
    const s = summariseSteps(log, logFile, { warmupIterations: warm as number | undefined });
    if (s.globalBatchSize !== null && s.globalBatchSize !== t.global_batch_size) {
      throw inputError(logFile, 'global batch size', `the log's iterations ran a global batch of ${s.globalBatchSize}, but the job has ${t.global_batch_size}`);
    }
    stepS = s.medianStepS;
    spread = s.spread;
    how = `median of ${s.iterationsUsed} logged iterations (${s.warmupRecords} warm-up records left out)`;
    stageGib = stageMemoryGib(maxAllocatedByRank(log), plan, world, logFile);
  } else {
    const m = e.measured;
    if (!isMapping(m)) throw inputError(file, at('measured'), `must be a mapping with step_time_s or tokens_per_s_per_gpu (got ${kindText(m)})`);
    for (const k of Object.keys(m)) {
      if (!(MEASURED_KEYS as readonly string[]).includes(k)) throw inputError(file, at(`measured.${k}`), `is not a measurement (allowed: ${MEASURED_KEYS.join(', ')})`);
    }
    const positive = (k: string): number => {
      const v = m[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw inputError(file, at(`measured.${k}`), `must be a number > 0 (got ${JSON.stringify(v)})`);
      return v;
    };
    if ((m.step_time_s === undefined) === (m.tokens_per_s_per_gpu === undefined)) {
      throw inputError(file, at('measured'), 'give one of step_time_s and tokens_per_s_per_gpu');
    }
    if (m.step_time_s !== undefined) {
      stepS = positive('step_time_s');
      how = 'step_time_s given';
    } else {
      stepS = tokensPerStep / world / positive('tokens_per_s_per_gpu');
      how = 'tokens_per_s_per_gpu given';
    }
    if (m.max_allocated_gib !== undefined) {
      const v = m.max_allocated_gib;
      if (typeof v === 'number') stageGib = [positive('max_allocated_gib')];
      else if (Array.isArray(v) && v.length === plan.pp && v.every((x) => typeof x === 'number' && x > 0)) stageGib = v as number[];
      else throw inputError(file, at('measured.max_allocated_gib'), `must be a number (GiB, the largest of any rank) or a list of ${plan.pp} (one per pipeline stage)`);
    }
  }
  return { id, group: id, jc, plan, measuredTokens: tokensPerStep / stepS / world, measuredStepS: stepS, measuredHow: how, spread, measuredStageGib: stageGib, inputs };
}

/** The model and run facts an argument list states must be the job's. */
function checkArgsAgainstJob(r: ArgsReading, jc: JobContext, file: string, where: string): void {
  const m = jc.job.model;
  const t = jc.job.training;
  const want: [string, number, string][] = [
    ['--num-layers', m.num_layers, 'model.num_layers'], ['--hidden-size', m.hidden_size, 'model.hidden_size'],
    ['--num-attention-heads', m.num_attention_heads, 'model.num_attention_heads'],
    ['--seq-length', t.seq_length, 'training.seq_length'], ['--global-batch-size', t.global_batch_size, 'training.global_batch_size'],
    ['--num-experts', m.num_experts, 'model.num_experts'], ['--moe-router-topk', m.moe_router_topk, 'model.moe_router_topk'],
  ];
  if (!r.facts.has('--global-batch-size') && r.plan.microBatchSize * r.plan.dp !== t.global_batch_size) {
    throw inputError(file, where, `no --global-batch-size: Megatron then runs micro-batch x DP = ${r.plan.microBatchSize * r.plan.dp} sequences per step, the job ${t.global_batch_size} (${jc.job.source})`);
  }
  for (const [flag, value, field] of want) {
    const got = r.facts.get(flag);
    if (got !== undefined && got !== value && !(flag === '--num-experts' && value === 0)) {
      throw inputError(file, where, `${flag} ${got} disagrees with the job's ${field} ${value} (${jc.job.source})`);
    }
  }
  if (r.plan.precision !== t.precision) {
    throw inputError(file, where, `the arguments train in ${r.plan.precision} (--fp8-format ${r.plan.precision === 'fp8' ? 'given' : 'absent'}), the job in ${t.precision} (${jc.job.source})`);
  }
}

/** What a log's arguments block states must be the job's and the plan's. */
function checkLogAgainstJob(log: ReturnType<typeof parseMegatronLog>, logFile: string, jc: JobContext, plan: Plan): void {
  const m = jc.job.model;
  const t = jc.job.training;
  const want: [string, number, string][] = [
    ['world_size', jc.job.cluster.gpus, 'the job\'s cluster.gpus'], ['global_batch_size', t.global_batch_size, 'the job\'s training.global_batch_size'],
    ['seq_length', t.seq_length, 'the job\'s training.seq_length'], ['num_layers', m.num_layers, 'the job\'s model.num_layers'],
    ['hidden_size', m.hidden_size, 'the job\'s model.hidden_size'],
    ['tensor_model_parallel_size', plan.tp, 'the plan\'s TP'], ['pipeline_model_parallel_size', plan.pp, 'the plan\'s PP'],
    ['context_parallel_size', plan.cp, 'the plan\'s CP'], ['micro_batch_size', plan.microBatchSize, 'the plan\'s micro-batch size'],
  ];
  if (m.num_experts > 0) {
    want.push(['expert_model_parallel_size', plan.ep, 'the plan\'s EP'], ['expert_tensor_parallel_size', plan.etp, 'the plan\'s ETP']);
  }
  for (const [arg, value, what] of want) {
    const got = logArgNumber(log, arg);
    if (got !== undefined && got !== value) {
      throw inputError(logFile, arg, `the log's arguments say ${got}, but ${what} is ${value} (${jc.job.source}): the log is of another run`);
    }
  }
}

/**
 * Each pipeline stage's largest "max allocated" (GiB) over its ranks' reports. Ranks sit on Megatron's grid in its
 * default order tp-cp-ep-dp-pp (rank-groups.ts): a rank's stage is its PP coordinate.
 */
function stageMemoryGib(byRank: Map<number, number>, plan: Plan, world: number, logFile: string): (number | null)[] | null {
  if (byRank.size === 0) return null;
  const stride = axisStride(parseRankOrder(DEFAULT_ORDER), [plan.tp, plan.cp, 1, plan.dp, plan.pp], AXIS_PP);
  const out: (number | null)[] = new Array<number | null>(plan.pp).fill(null);
  for (const [rank, mib] of byRank) {
    if (rank >= world) throw inputError(logFile, `[Rank ${rank}]`, `a memory report from rank ${rank}, but the job has ${world} GPUs`);
    const stage = Math.floor(rank / stride) % plan.pp;
    const gib = mib / 1024;
    out[stage] = Math.max(out[stage] ?? 0, gib);
  }
  return out;
}
