import type { Plan } from '../enumerate/plan.js';
import { MEMORY_TERM_SIDE, type Estimate, type MemoryBreakdown } from '../cost/estimate.js';
import { GIB, sig, snakeWithoutUnit } from './numbers.js';

/** The JSON form of one plan (a contract: CI checks and tests read these names). */
export interface PlanJson {
  rank: number;
  mapping: {
    tp: number; cp: number; dp: number; pp: number; vpp: number; ep: number; etp: number; edp: number;
    first_stage_layers: number; last_stage_layers: number;
    /** --account-for-embedding/loss-in-pipeline-split. */
    account_for_embedding: boolean; account_for_loss: boolean;
    /** --pipeline-model-parallel-layout, or null. */
    layout: string | null;
    /** --microbatch-group-size-per-virtual-pipeline-stage (PP unless the interleaved schedule needs another). */
    microbatch_group: number;
  };
  micro_batch_size: number;
  num_micro_batches: number;
  recompute: Plan['recompute'];
  dispatcher: Plan['dispatcher'];
  sequence_parallel: boolean;
  distributed_optimizer: boolean;
  precision: Plan['precision'];
  estimate: EstimateJson;
  launch: { megatron_args: string[]; env: Record<string, string> };
}

export interface EstimateJson {
  step_time_s: number;
  tokens_per_s_per_gpu: number;
  tflops_per_gpu: number;
  mfu: number;
  /** Device figure: what must fit (`fits` compares it to usable_memory_gib). */
  peak_memory_gib: number;
  /** Allocator side: what Megatron logs as "max allocated" (torch.cuda.max_memory_allocated). */
  allocated_peak_gib: number;
  usable_memory_gib: number;
  fits: boolean;
  time_breakdown_s: Record<string, number>;
  /** Every memory term; the allocator-side ones sum to allocated_peak_gib, all to peak_memory_gib. */
  memory_breakdown_gib: Record<string, number>;
  /** The memory_breakdown_gib names on each side. */
  memory_sides: { allocator: string[]; device: string[] };
}

/** memory_breakdown_gib names per side (MEMORY_TERM_SIDE), computed once. */
const MEMORY_SIDES: { allocator: string[]; device: string[] } = { allocator: [], device: [] };
for (const [k, side] of Object.entries(MEMORY_TERM_SIDE) as [keyof MemoryBreakdown, 'allocator' | 'device'][]) {
  MEMORY_SIDES[side].push(snakeWithoutUnit(k, 'Bytes'));
}

export function estimateToJson(e: Estimate): EstimateJson {
  const time: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.time)) time[snakeWithoutUnit(k, 'S')] = sig(v);
  const mem: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.mem)) mem[snakeWithoutUnit(k, 'Bytes')] = sig(v / GIB);
  return {
    step_time_s: sig(e.stepTimeS),
    tokens_per_s_per_gpu: sig(e.tokensPerSPerGpu),
    tflops_per_gpu: sig(e.tflopsPerGpu),
    mfu: sig(e.mfu, 4),
    peak_memory_gib: sig(e.peakMemBytes / GIB),
    allocated_peak_gib: sig(e.allocatedPeakBytes / GIB),
    usable_memory_gib: sig(e.usableMemBytes / GIB),
    fits: e.fits,
    time_breakdown_s: time,
    memory_breakdown_gib: mem,
    memory_sides: { allocator: [...MEMORY_SIDES.allocator], device: [...MEMORY_SIDES.device] },
  };
}

export function planToJson(rank: number, p: Plan, e: Estimate, launch: PlanJson['launch']): PlanJson {
  return {
    rank,
    mapping: {
      tp: p.tp, cp: p.cp, dp: p.dp, pp: p.pp, vpp: p.vpp, ep: p.ep, etp: p.etp, edp: p.edp,
      first_stage_layers: p.firstStageLayers, last_stage_layers: p.lastStageLayers,
      account_for_embedding: p.accountEmbedding, account_for_loss: p.accountLoss,
      layout: p.layout === '' ? null : p.layout, microbatch_group: p.mbGroup,
    },
    micro_batch_size: p.microBatchSize,
    num_micro_batches: p.numMicroBatches,
    recompute: p.recompute,
    dispatcher: p.dispatcher,
    sequence_parallel: p.sequenceParallel,
    distributed_optimizer: p.distributedOptimizer,
    precision: p.precision,
    estimate: estimateToJson(e),
    launch,
  };
}
