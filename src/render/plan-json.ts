import type { Plan } from '../enumerate/plan.js';
import { MEMORY_TERM_SIDE, headroomBytes, type Estimate, type MemoryBreakdown } from '../cost/estimate.js';
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
  /** The Megatron-LM launch, or why there is none for this job (a LoRA run on a frozen base: export/finetune-refusals.ts). */
  launch: LaunchJson;
  /** In a tune result: whether the plan is within the tie tolerance of the best (search/final-order.ts). */
  in_tie?: boolean;
  /** In a tune result: plans equal in effect to this one, collapsed into its row (tie order). */
  alternatives?: AlternativeJson[];
}

/** A plan's Megatron-LM launch (pretrain_gpt.py arguments and environment), or the reason it has none. */
export type LaunchJson = { megatron_args: string[]; env: Record<string, string> } | { refused: string };

/** A plan collapsed into another's row: what differs from it, and its key numbers. */
export interface AlternativeJson {
  /** The plan JSON's names of the options that differ, with the alternative's values. */
  mapping_delta: Record<string, string | number | boolean | null>;
  estimate: { step_time_s: number; tokens_per_s_per_gpu: number; peak_memory_gib: number; headroom_gib: number };
}

export function alternativeToJson(delta: AlternativeJson['mapping_delta'], e: Estimate): AlternativeJson {
  return {
    mapping_delta: delta,
    estimate: {
      step_time_s: sig(e.stepTimeS), tokens_per_s_per_gpu: sig(e.tokensPerSPerGpu), peak_memory_gib: sig(e.peakMemBytes / GIB),
      headroom_gib: sig(headroomBytes(e) / GIB),
    },
  };
}

export interface EstimateJson {
  step_time_s: number;
  tokens_per_s_per_gpu: number;
  tflops_per_gpu: number;
  /** The same as mfu_precision_peak (kept for compatibility): model FLOPs / step / the precision's dense peak. */
  mfu: number;
  /** Model FLOP/s per GPU over the GPU's dense BF16 peak (null where the caller gave no calibration). */
  mfu_bf16_peak: number;
  /** Model FLOP/s per GPU over the dense peak of the plan's precision (FP8 peak for fp8 plans). */
  mfu_precision_peak: number;
  /** Device figure: what must fit (`fits` compares it to usable_memory_gib). */
  peak_memory_gib: number;
  /** Allocator side: what Megatron logs as "max allocated" (torch.cuda.max_memory_allocated). */
  allocated_peak_gib: number;
  usable_memory_gib: number;
  /** usable − peak: what the memory margin (tune --memory-margin) is compared with. */
  headroom_gib: number;
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

/** `bf16PeakFlops`: the calibration's dense BF16 peak (calibration.denseBf16PeakFlops), for mfu_bf16_peak. */
export function estimateToJson(e: Estimate, bf16PeakFlops: number): EstimateJson {
  const time: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.time)) time[snakeWithoutUnit(k, 'S')] = sig(v);
  const mem: Record<string, number> = {};
  for (const [k, v] of Object.entries(e.mem)) mem[snakeWithoutUnit(k, 'Bytes')] = sig(v / GIB);
  return {
    step_time_s: sig(e.stepTimeS),
    tokens_per_s_per_gpu: sig(e.tokensPerSPerGpu),
    tflops_per_gpu: sig(e.tflopsPerGpu),
    mfu: sig(e.mfu, 4),
    mfu_bf16_peak: sig((e.tflopsPerGpu * 1e12) / bf16PeakFlops, 4),
    mfu_precision_peak: sig(e.mfu, 4),
    peak_memory_gib: sig(e.peakMemBytes / GIB),
    allocated_peak_gib: sig(e.allocatedPeakBytes / GIB),
    usable_memory_gib: sig(e.usableMemBytes / GIB),
    headroom_gib: sig(headroomBytes(e) / GIB),
    fits: e.fits,
    time_breakdown_s: time,
    memory_breakdown_gib: mem,
    memory_sides: { allocator: [...MEMORY_SIDES.allocator], device: [...MEMORY_SIDES.device] },
  };
}

export function planToJson(rank: number, p: Plan, e: Estimate, launch: PlanJson["launch"], bf16PeakFlops: number): PlanJson {
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
    estimate: estimateToJson(e, bf16PeakFlops),
    launch,
  };
}
