/**
 * GEMM time from shape-dependent efficiency.
 *
 * Dense GEMMs: a product of saturating factors fitted to the OpenXLA sm_90 matmul table (cost-models/*.yaml,
 * compute.gemm_*):
 *   eff = max · m/(m+hm) · n/(n+hn) · k/(k+hk) · G/(G+hg),  G = 2mnk / 1e9 (GFLOP), capped at the measured maximum.
 * FP8 changes the peak and the curve's maximum/cap (kernel-only: MAMF FP8, DeepGEMM), not the shape factors.
 *
 * Grouped GEMMs (the routed experts, all local experts in one launch): one whole-kernel efficiency by rows per
 * expert r, per precision (compute.grouped_gemm_*):
 *   eff_g = max_g · r/(r + r_half)
 * r_half is about one 128-row M tile (the per-expert tail tile and pipeline ramp); no per-expert GEMM-size factor.
 *
 * FP8 (Transformer Engine): the kernel time above plus TE's quantisation, counted once per GEMM per micro-batch:
 * the input activation (m×k) in forward and the output gradient (m×n) in backward, each read in bf16 and written
 * as rowwise + columnwise fp8 (compute.fp8_cast_bytes_per_element). TE quantises the weights only on the first
 * micro-batch of a step (is_first_microbatch caching) and fuses amax into the cast kernels: neither is counted
 * (weight casts are ~4 B per local parameter per step, e.g. 8 GB = 3 ms on a 10 s step).
 */
import type { Calibration } from './calibration.js';

/** Fraction of the dense peak a single GEMM (m×k)·(k×n) reaches (kernel only). */
export function gemmEfficiency(m: number, n: number, k: number, fp8: boolean, cal: Calibration): number {
  if (m <= 0 || n <= 0 || k <= 0) return 1;
  const gflop = (2 * m * n * k) / 1e9;
  const hg = fp8 ? cal.gemmHalfGflopFp8 : cal.gemmHalfGflopBf16;
  const max = fp8 ? cal.gemmEffMaxFp8 : cal.gemmEffMaxBf16;
  const cap = fp8 ? cal.gemmEffCapFp8 : cal.gemmEffCapBf16;
  const eff = max * (m / (m + cal.gemmHalfM)) * (n / (n + cal.gemmHalfN)) * (k / (k + cal.gemmHalfK)) *
    (gflop / (gflop + hg));
  return eff < cap ? eff : cap;
}

/** Dense peak FLOP/s for the GEMM precision. */
export function gemmPeakFlops(fp8: boolean, cal: Calibration): number {
  return fp8 ? cal.denseFp8PeakFlops : cal.denseBf16PeakFlops;
}

/**
 * Seconds for one GEMM of 2·m·n·k FLOPs, forward; under fp8 plus the forward share of TE's quantisation
 * (fp8GemmQuantFwdShareTimeS), so that the model's fwd+bwd = 3·t_f counts each quantisation once.
 */
export function gemmTimeS(m: number, n: number, k: number, fp8: boolean, cal: Calibration): number {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  const flops = 2 * m * n * k;
  let t = flops / (gemmPeakFlops(fp8, cal) * gemmEfficiency(m, n, k, fp8, cal));
  if (fp8) t += fp8GemmQuantFwdShareTimeS(m, n, k, cal);
  return t;
}

/** Memory-bound FP8 quantisation of `elements` bf16 elements (read bf16, write rowwise + columnwise fp8). */
export function fp8CastTimeS(elements: number, cal: Calibration): number {
  return (elements * cal.fp8CastBytesPerElement) / cal.hbmBytesPerS;
}

/**
 * TE's quantisation work of one FP8 GEMM (m×k)·(k×n) per micro-batch, forward + backward:
 *   t_q = cast(m·k) [input, forward] + cast(m·n) [output gradient, backward]
 */
export function fp8GemmQuantTimeS(m: number, n: number, k: number, cal: Calibration): number {
  return fp8CastTimeS(m * k + m * n, cal);
}

/** The forward share t_q/3 of fp8GemmQuantTimeS (the cost terms multiply forward time by 3 for fwd+bwd). */
export function fp8GemmQuantFwdShareTimeS(m: number, n: number, k: number, cal: Calibration): number {
  return fp8GemmQuantTimeS(m, n, k, cal) / 3;
}

/**
 * Whole-kernel efficiency of a grouped GEMM (all local experts in one launch) with `rowsPerExpert` rows per expert:
 *   eff_g = max_g · r/(r + r_half)   (max per precision: compute.grouped_gemm_eff_max_*; r_half:
 *   compute.grouped_gemm_half_rows, between the two published kernel curves' values, fitted by npm run fit)
 */
export function groupedGemmEfficiency(rowsPerExpert: number, fp8: boolean, cal: Calibration): number {
  if (rowsPerExpert <= 0) return 1;
  const max = fp8 ? cal.groupedGemmEffMaxFp8 : cal.groupedGemmEffMaxBf16;
  return max * (rowsPerExpert / (rowsPerExpert + cal.groupedGemmHalfRows));
}

/**
 * Seconds for a grouped GEMM over `groups` experts of `rowsPerExpert` rows each, (rows×k)·(k×n) per group, forward;
 * under fp8 plus the forward share of TE's quantisation of all groups' rows.
 */
export function groupedGemmTimeS(groups: number, rowsPerExpert: number, n: number, k: number, fp8: boolean,
  cal: Calibration): number {
  if (groups <= 0 || rowsPerExpert <= 0 || n <= 0 || k <= 0) return 0;
  const rows = groups * rowsPerExpert;
  const flops = 2 * rows * n * k;
  let t = flops / (gemmPeakFlops(fp8, cal) * groupedGemmEfficiency(rowsPerExpert, fp8, cal));
  if (fp8) t += fp8GemmQuantFwdShareTimeS(rows, n, k, cal);
  return t;
}
