/** One-line summary of a job, for report headers. */
import { countParams } from './params.js';
import { nvlinkDomainOf, type Job, type TrainingSpec } from './types.js';

/** 140.6e9 → "141B", 3.35e9 → "3.4B", 1.04e12 → "1.0T", 350e6 → "350M". */
export function formatParamCount(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      const x = n / size;
      return `${x < 10 ? x.toFixed(1) : Math.round(x).toString()}${unit}`;
    }
  }
  return String(n);
}

/**
 * e.g. `Mixtral-8x22B (141B params, 39B active, 8 experts top-2) · seq 4096 · GBS 256 · bf16 · 128 × h100-sxm (16 nodes × 8)`;
 * a rack-scale NVLink domain is named: `256 × gb200-nvl72 (64 nodes × 4, NVLink domains of 64)`.
 * Parameter counts leave out MTP layers (published model sizes do), which are named instead.
 */
/** A fine-tuning run in words ("LoRA r16 on a frozen codebook 2-bit base"); '' for a training run. */
export function finetuneText(t: TrainingSpec): string {
  if (!t.frozen) return '';
  return `LoRA r${t.lora_rank} on a frozen ${baseWeightsText(t.base_weights)} base`;
}

/** A base's storage in words: "bf16", "codebook 2-bit", "int4 4-bit". */
export function baseWeightsText(b: TrainingSpec['base_weights']): string {
  return b.format === 'bf16' ? 'bf16' : `${b.format} ${b.bits_per_weight.toFixed(2).replace(/\.?0+$/, '')}-bit`;
}

export function describeJob(job: Job, calibration?: string): string {
  const m = job.model;
  const p = countParams(m);
  const parts = [`${formatParamCount(p.total - p.mtpTotal)} params`];
  if (m.num_experts > 0) {
    parts.push(`${formatParamCount(p.active - p.mtpActive)} active`);
    const shared = m.moe_shared_expert_intermediate_size > 0 ? ' + shared' : '';
    parts.push(`${m.num_experts} experts top-${m.moe_router_topk}${shared}`);
  } else parts.push('dense');
  if (m.mtp_num_layers > 0) parts.push(`MTP ${m.mtp_num_layers}`);

  const c = job.cluster;
  const nodes =
    c.gpus >= c.gpus_per_node
      ? `${c.gpus / c.gpus_per_node} ${c.gpus === c.gpus_per_node ? 'node' : 'nodes'} × ${c.gpus_per_node}`
      : `1 node, ${c.gpus} of ${c.gpus_per_node} GPUs`;
  const domain = nvlinkDomainOf(c);
  const domains = domain > c.gpus_per_node ? `, NVLink domains of ${domain}` : '';
  const t = job.training;
  const ft = t.frozen ? ` · ${finetuneText(t)}` : '';
  return `${m.name} (${parts.join(', ')}) · seq ${t.seq_length} · GBS ${t.global_batch_size} · ${t.precision}${ft} · ${c.gpus} × ${calibration ?? c.gpu} (${nodes}${domains})`;
}
