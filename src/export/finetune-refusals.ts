/**
 * Which launch formats can run a fine-tuning job (src/job/finetune.ts: a frozen base, LoRA adapters, a compressed
 * base), and why the others cannot. One home for these reasons: exportPlan refuses with them (InputError, one line,
 * exit 2; `tune --out` writes them as `<file>.refused.txt`), and a plan's JSON `launch` carries the Megatron-LM one
 * instead of an argument list that would train the whole model (src/plans/result.ts planLaunchJson).
 *
 * - int4 / codebook base weights: Megatron-LM, Megatron-Bridge and torchtitan build their linears from bf16 (or
 *   FP8) checkpoints; none of them reads group-quantised int4 or codebook (AQLM/JLCM-style) weights for training.
 * - Megatron-LM (megatron, torchrun, slurm: pretrain_gpt.py): no LoRA adapters and no frozen base among its
 *   arguments (data/upstream/megatron-lm-d98e8a6.args.json: --q-lora-rank / --kv-lora-rank are MLA projection
 *   ranks, not adapters; --freeze-all-layers freezes every layer and adds nothing to train), so its launch would
 *   train every weight, with the gradients and optimizer state the plan does not count.
 * - torchtitan v0.2.2: its JobConfig has no LoRA or freezing option (data/upstream/torchtitan-v0.2.2.config.json).
 * - fp8 base on Megatron-Bridge: Bridge's checkpoint import dequantises FP8 weights to bf16
 *   (models/deepseek/deepseek_v3_bridge.py L138-167 _maybe_dequantize_fp8 at 067f987; param_mapping.py L883-887
 *   maybe_dequantize), so the base would be held in bf16, not as the stored FP8 the plan prices. Keeping weights in
 *   FP8 takes mixed_precision.fp8_param (TE's own quantisation of bf16 weights), which no PEFT recipe's
 *   precision sets and which is not the checkpoint's FP8 format.
 * Megatron-Bridge's LoRA export itself (recipes, keys, what its recipes cannot express) is bridge-overrides.ts.
 */
import { isLoraRun } from '../job/finetune.js';
import type { Job } from '../job/types.js';
import type { ExportFormat } from './export-plan.js';

/** The formats that start Megatron-LM's pretrain_gpt.py. */
const MEGATRON_LM_FORMATS: ReadonlySet<ExportFormat> = new Set(['megatron', 'torchrun', 'slurm']);

/** Why no export can load the job's base weights, or null. */
function baseFormatRefusal(job: Job): string | null {
  const f = job.training.base_weights.format;
  if (f !== 'int4' && f !== 'codebook') return null;
  return `${f} base weights (base_weights.format ${f}): no launcher moefold exports to (Megatron-LM, Megatron-Bridge, `
    + `torchtitan) loads ${f === 'codebook' ? 'codebook-compressed' : 'int4 group-quantised'} weights for training`;
}

/** Why Megatron-LM's pretrain_gpt.py cannot run the job, or null (also the JSON `launch` refusal). */
export function megatronLaunchRefusal(job: Job): string | null {
  const base = baseFormatRefusal(job);
  if (base !== null) return base;
  if (!job.training.frozen && !isLoraRun(job.training)) return null;
  return `a LoRA run on a frozen base: Megatron-LM's pretrain_gpt.py has no LoRA adapters and no frozen base, so this `
    + 'launch would train every weight of the model (use --format megatron-bridge)';
}

/**
 * Why `format` cannot launch the job's fine-tuning, or null: the reason as `<format> cannot launch <why>`, the
 * problem part of the InputError exportPlan throws.
 */
export function finetuneRefusal(job: Job, format: ExportFormat): string | null {
  const why = MEGATRON_LM_FORMATS.has(format) ? megatronLaunchRefusal(job)
    : baseFormatRefusal(job) ?? (format === 'torchtitan' ? torchtitanRefusal(job) : bridgeBaseRefusal(job));
  return why === null ? null : `${format} cannot launch ${why}`;
}

function torchtitanRefusal(job: Job): string | null {
  if (!job.training.frozen && !isLoraRun(job.training)) return null;
  return 'a LoRA run on a frozen base: torchtitan v0.2.2 has no LoRA adapters and no way to freeze the base (its job config has neither)';
}

function bridgeBaseRefusal(job: Job): string | null {
  if (job.training.base_weights.format !== 'fp8') return null;
  return 'an fp8 base kept in FP8: Megatron-Bridge dequantises an FP8 checkpoint to bf16 when it loads it '
    + '(deepseek_v3_bridge.py _maybe_dequantize_fp8), and its PEFT recipes keep no FP8 weights, so the base would take '
    + 'twice the memory planned (plan it with base_weights.format bf16)';
}
