/**
 * GEMM time from shape-dependent efficiency. The efficiency curve is a product of saturating factors fitted to
 * the OpenXLA sm_90 matmul table (see cost-models/h100-sxm.yaml, compute.gemm_*):
 *   eff = max · m/(m+hm) · n/(n+hn) · k/(k+hk) · G/(G+hg),  G = 2mnk / 1e9 (GFLOP), capped at the measured maximum.
 * FP8 changes the peak and the curve's maximum/cap, not the shape factors.
 */
import type { Calibration } from './calibration.js';

/** Fraction of the dense peak a single GEMM (m×k)·(k×n) reaches. */
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

/** Seconds for one GEMM of 2·m·n·k FLOPs (plus FP8 operand casts, memory-bound, when fp8). */
export function gemmTimeS(m: number, n: number, k: number, fp8: boolean, cal: Calibration): number {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  const flops = 2 * m * n * k;
  let t = flops / (gemmPeakFlops(fp8, cal) * gemmEfficiency(m, n, k, fp8, cal));
  if (fp8) t += fp8CastTimeS(m * k, cal);
  return t;
}

/** Memory-bound FP8 quantisation of `elements` activation elements (read bf16, write fp8). */
export function fp8CastTimeS(elements: number, cal: Calibration): number {
  return (elements * cal.fp8CastBytesPerElement) / cal.hbmBytesPerS;
}

/**
 * Efficiency of a grouped GEMM (one group per local expert) with `rowsPerExpert` rows each: the dense curve at the
 * per-expert shape times rows/(rows + groupedGemmHalfRows) (fine-grained experts run far below dense GEMMs).
 */
export function groupedGemmEfficiency(rowsPerExpert: number, n: number, k: number, fp8: boolean,
  cal: Calibration): number {
  if (rowsPerExpert <= 0) return 1;
  return gemmEfficiency(rowsPerExpert, n, k, fp8, cal) * (rowsPerExpert / (rowsPerExpert + cal.groupedGemmHalfRows));
}

/** Seconds for a grouped GEMM over `groups` experts of `rowsPerExpert` rows each, (rows×k)·(k×n) per group. */
export function groupedGemmTimeS(groups: number, rowsPerExpert: number, n: number, k: number, fp8: boolean,
  cal: Calibration): number {
  if (groups <= 0 || rowsPerExpert <= 0 || n <= 0 || k <= 0) return 0;
  const flops = 2 * groups * rowsPerExpert * n * k;
  let t = flops / (gemmPeakFlops(fp8, cal) * groupedGemmEfficiency(rowsPerExpert, n, k, fp8, cal));
  if (fp8) t += fp8CastTimeS(groups * rowsPerExpert * k, cal);
  return t;
}
