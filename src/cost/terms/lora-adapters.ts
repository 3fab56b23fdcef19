/**
 * LoRA adapters on one rank (Megatron-Bridge performant LoRA; finetune-shape.ts gives the adapted linears and how
 * Bridge shards them). For one adapted linear in → out with rank r, sharded over `shards` ranks (TP, ETP for
 * experts):
 *   params   = r·(in + out) / shards                                   (A: in × r, B: r × out)
 *   forward  = GEMM(rows × r/s × in) + GEMM(rows × out/s × r)         column-parallel or duplicated base (A over r)
 *              GEMM(rows × r × in/s) + GEMM(rows × out/s × r)         row-parallel base (A over in)
 *   time     = (3 + recomputed) · forward                              (dgrad + wgrad: both trained)
 *   saved    = rows · r · 2 B                                          (A's output, for B's weight gradient)
 * The adapters run in bf16 (Bridge builds them from Megatron's ColumnParallelLinear / RowParallelLinear, outside
 * Transformer Engine's FP8 autocast). Their collectives are not counted: the TP all-gather of B's full-width output
 * for a row-parallel base (and its backward under SP), the dgrad all-reduce of A's input without SP, and the EP
 * all-reduce of shared expert adapters' gradients (peft/utils.py ParallelLinearAdapter). Rows: the
 * layer's GEMM rows for attention and MLP linears, the routed rows for the grouped experts (one shared adapter
 * processes every local expert's rows).
 */
import type { Calibration } from '../calibration.js';
import { gemmTimeS } from '../gemm.js';
import { LINEAR_STRIDE, type LinearTable } from '../finetune-shape.js';
import { LinearSharding } from '../../job/linears.js';

/** Adapter parameters of the linears in `table` on one rank. */
export function loraAdapterParams(table: LinearTable, rank: number, shards: number): number {
  let p = 0;
  for (let i = 0; i < table.length; i += LINEAR_STRIDE) p += (rank * (table[i] + table[i + 1])) / shards;
  return p;
}

/** Forward time of the adapters in `table` over `rows` GEMM rows (header). */
export function loraAdapterFwdTimeS(table: LinearTable, rows: number, rank: number, shards: number,
  cal: Calibration): number {
  let t = 0;
  for (let i = 0; i < table.length; i += LINEAR_STRIDE) {
    const inF = table[i];
    const outF = table[i + 1];
    t += table[i + 2] === LinearSharding.Row
      ? gemmTimeS(rows, rank, inF / shards, false, cal)
      : gemmTimeS(rows, rank / shards, inF, false, cal);
    t += gemmTimeS(rows, outF / shards, rank, false, cal);
  }
  return t;
}

/** Forward + backward (+ the re-run forward under full recompute) of adapters whose forward takes `fwdS`. */
export function loraAdapterTimeS(fwdS: number, fullRecompute: boolean): number {
  return (fullRecompute ? 4 : 3) * fwdS;
}

/** Activation bytes the adapters in `table` save per micro-batch over `rows` rows. */
export function loraAdapterActivationBytes(table: LinearTable, rows: number, rank: number): number {
  return (table.length / LINEAR_STRIDE) * rows * rank * 2;
}
