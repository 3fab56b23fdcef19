import Table from 'cli-table3';
import type { Job } from '../job/types.js';
import type { Plan } from '../enumerate/plan.js';
import { MEMORY_TERM_SIDE, type Estimate, type MemoryBreakdown } from '../cost/estimate.js';
import { FINETUNE_TIME_TERMS, MOE_TIME_TERMS, TIME_TERM_LABELS } from './cost-shares.js';
import { baseWeightParts } from '../cost/finetune-shape.js';
import { BF16_BYTES_PER_WEIGHT } from '../cost/terms/base-weights.js';
import { baseWeightsText } from '../job/describe.js';
import { countParams } from '../job/params.js';
import { modelShape } from '../job/shape.js';
import { GIB } from './numbers.js';
import { splitText } from './split-text.js';
import type { LaunchJson } from './plan-json.js';
import { notModelledText } from '../job/stack.js';

/** Memory term labels; the gradient and optimizer ones name the job's stack (grad_reduce_in_bf16, optimizer dtypes). */
export function memoryTermLabels(job: Job): Record<keyof MemoryBreakdown, string> {
  const t = job.training;
  const opt = t.use_precision_aware_optimizer
    ? `optimizer states (${t.frozen ? 'LoRA adapters, ' : ''}${t.main_params_dtype} master + Adam ${t.exp_avg_dtype}, ${t.exp_avg_sq_dtype})`
    : `optimizer states (${t.frozen ? 'LoRA adapters, ' : ''}fp32 master + Adam)`;
  const grads = t.grad_reduce_in_bf16 ? 'bf16 main grads' : 'fp32 main grads';
  return {
    weightsBytes: t.frozen ? `weights (frozen base: ${baseFormatText(job)}; LoRA adapters bf16)`
      : t.fp8_param_gather ? 'weights (bf16; FP8 GEMM weights on fp8 plans)' : 'weights (bf16)',
    fp8WeightCopiesBytes: 'FP8 weight copies (TE, row-wise + transpose)',
    gradientsBytes: t.frozen ? `gradients (LoRA adapters, ${grads})` : `gradients (${grads})`,
    optimizerStatesBytes: opt,
    activationsBytes: t.hidden_dropout > 0 ? 'activations (in-flight micro-batches, dropout masks)'
      : 'activations (in-flight micro-batches)',
    logitsBytes: t.cross_entropy_loss_fusion ? 'output logits and loss (fused)' : 'output logits and loss',
    dispatchBuffersBytes: 'MoE dispatcher buffers',
    workspacesBytes: 'cuBLAS/TE workspaces, Megatron global buffer',
    cudaContextBytes: 'CUDA context',
    ncclBuffersBytes: 'NCCL buffers (per communicator)',
    userBuffersBytes: 'TE userbuffers (tp-comm-overlap)',
    allocatorReserveBytes: 'allocator reserve (fragmentation)',
  };
}

/** A frozen base's storage in words: "codebook 2-bit, decoded per GEMM". */
function baseFormatText(job: Job): string {
  const b = job.training.base_weights;
  const how = b.decode === 'per_gemm' ? ', decoded per GEMM' : b.decode === 'resident' ? ', held decoded in bf16' : '';
  return `${baseWeightsText(b)}${how}`;
}

const GB = 1e9;
const gb = (bytes: number): string => `${(bytes / GB).toFixed(bytes < 0.1 * GB ? 3 : 2)} GB`;

/**
 * The fine-tuning lines of --explain: the whole model's stored base weights by part (indices, codebooks, scales, what
 * stays bf16) and the LoRA adapters trained; [] for a training job.
 */
export function finetuneLines(job: Job): string[] {
  const t = job.training;
  if (!t.frozen) return [];
  const shape = modelShape(job.model);
  const total = countParams(job.model).total;
  const p = baseWeightParts(job, shape, total);
  const b = t.base_weights;
  const lines: string[] = [];
  if (b.format === 'bf16') {
    lines.push(`frozen base weights (whole model, bf16): ${gb(p.totalBytes)}; no gradients or optimizer states for them`);
  } else {
    const parts = [`indices ${gb(p.indexBytes)} (${b.bits_per_weight.toFixed(2)} bits × ${(p.compressedWeights / 1e9).toFixed(2)} B GEMM weights)`];
    if (p.codebookBytes > 0) {
      parts.push(`codebooks ${gb(p.codebookBytes)} (${p.tensors} tensors × ${b.codebooks_per_tensor} × ${b.codebook_size} × ${b.codebook_dim} × ${b.codebook_entry_bytes} B)`);
    }
    if (p.scaleBytes > 0) parts.push(`scales ${gb(p.scaleBytes)} (${b.scale_bytes} B per ${b.group_size} weights)`);
    parts.push(`bf16 embedding, output layer, norms, router ${gb(p.bf16Bytes)}`);
    lines.push(`frozen base weights (whole model, ${b.format}): ${parts.join(' + ')} = ${gb(p.totalBytes)}; `
      + `no gradients or optimizer states for them`
      + (b.decode === 'resident' ? `; held decoded in bf16 on the GPUs (${gb(BF16_BYTES_PER_WEIGHT * total)})` : ''));
  }
  lines.push(`LoRA rank ${t.lora_rank} (alpha ${t.lora_alpha}) on ${t.lora_target_modules.join(', ')}: `
    + `${(p.adapterParams / 1e6).toFixed(1)} M trained parameters (${((100 * p.adapterParams) / total).toFixed(2)} % of `
    + `${(total / 1e9).toFixed(2)} B), with their gradients and optimizer states`);
  return lines;
}

export function describeMapping(p: Plan, isMoe: boolean, numLayers: number): string {
  const attn = `attention TP${p.tp}·CP${p.cp}·DP${p.dp}·PP${p.pp}${p.vpp > 1 ? ` (VPP ${p.vpp})` : ''}`;
  const moe = isMoe ? ` | MoE ETP${p.etp}·EP${p.ep}·EDP${p.edp}·PP${p.pp}` : '';
  const stages = p.pp > 1 ? ` | ${splitText(p, numLayers)}` : '';
  const run = ` | MBS ${p.microBatchSize} × ${p.numMicroBatches} micro-batches, recompute ${p.recompute}`
    + `${isMoe ? `, ${p.dispatcher} dispatcher` : ''}, ${p.distributedOptimizer ? 'distributed optimizer' : 'no distributed optimizer'}`
    + `${p.sequenceParallel ? ', sequence parallel' : p.tp > 1 ? ', no sequence parallel' : ''}, ${p.precision}`;
  return attn + moe + stages + run;
}

/** The full breakdown of one plan (`tune --explain N`, `score`). */
export function renderExplain(job: Job, p: Plan, e: Estimate, title: string, launch?: LaunchJson): string {
  const lines: string[] = [];
  const isMoe = job.model.num_experts > 0;
  lines.push(title);
  lines.push(describeMapping(p, isMoe, job.model.num_layers));
  lines.push(`step ${e.stepTimeS.toFixed(3)} s · ${Math.round(e.tokensPerSPerGpu).toLocaleString('en-US')} tokens/s/GPU · `
    + `${e.tflopsPerGpu.toFixed(0)} TFLOP/s/GPU · MFU(${p.precision}) ${(100 * e.mfu).toFixed(1)}% · peak ${(e.peakMemBytes / GIB).toFixed(1)} of `
    + `${(e.usableMemBytes / GIB).toFixed(1)} GiB usable (allocated ${(e.allocatedPeakBytes / GIB).toFixed(1)} GiB)`
    + `${e.fits ? '' : ' — DOES NOT FIT'}`);
  const t = new Table({ head: ['step time term', 'seconds', 'share'], style: { head: [], border: [], compact: true }, colAligns: ['left', 'right', 'right'] });
  for (const k of Object.keys(TIME_TERM_LABELS) as (keyof typeof TIME_TERM_LABELS)[]) {
    const v = e.time[k];
    if (!isMoe && MOE_TIME_TERMS.has(k)) continue; // dense: no expert or EP terms
    if (!job.training.frozen && FINETUNE_TIME_TERMS.has(k)) continue; // training: no adapter or decode terms
    t.push([TIME_TERM_LABELS[k], v.toFixed(4), `${((100 * v) / e.stepTimeS).toFixed(1)}%`]);
  }
  lines.push(t.toString());
  const MEMORY_TERM_LABELS = memoryTermLabels(job);
  const m = new Table({ head: ['memory term (most loaded GPU)', 'side', 'GiB', 'share'], style: { head: [], border: [], compact: true }, colAligns: ['left', 'left', 'right', 'right'] });
  for (const side of ['allocator', 'device'] as const) {
    for (const k of Object.keys(MEMORY_TERM_LABELS) as (keyof MemoryBreakdown)[]) {
      if (MEMORY_TERM_SIDE[k] !== side || (!isMoe && k === 'dispatchBuffersBytes')) continue;
      const v = e.mem[k];
      m.push([MEMORY_TERM_LABELS[k], side, (v / GIB).toFixed(2), `${((100 * v) / e.peakMemBytes).toFixed(1)}%`]);
    }
    if (side === 'allocator') m.push(['allocated peak (Megatron "max allocated")', '', (e.allocatedPeakBytes / GIB).toFixed(2), '']);
  }
  m.push(['total (device peak, must fit)', '', (e.peakMemBytes / GIB).toFixed(2), '']);
  lines.push(m.toString());
  lines.push(...finetuneLines(job));
  lines.push(`stack facts not modelled (accepted and exported): ${notModelledText(job.training)}`);
  if (launch && 'refused' in launch) lines.push(`launch: none (${launch.refused})`);
  else if (launch) {
    const env = Object.entries(launch.env).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`launch: ${env ? `${env} ` : ''}torchrun … pretrain_gpt.py ${launch.megatron_args.join(' ')}`);
  }
  return lines.join('\n');
}
