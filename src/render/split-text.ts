/** How a plan's pipeline split and schedule read in tables, explanations and export headers (text only). */
import type { Plan } from '../enumerate/plan.js';
import { isUnevenSplit, splitKind } from '../plan/layout.js';

/** What an accounted split counts: "E+L", "E" or "L". */
function accountedText(p: Plan): string {
  return [p.accountEmbedding ? 'E' : '', p.accountLoss ? 'L' : ''].filter(Boolean).join('+');
}

/**
 * The PP cell of the plans table: `8`; uneven `16 (4/1)` (first/last stage layers); accounted `8 (+E+L)` (the
 * embedding and/or loss count as a layer of the split); a layout `8 (layout)` (`--explain` shows it).
 */
export function ppCellText(p: Plan, numLayers: number): string {
  switch (splitKind(p, numLayers)) {
    case 'layout': return `${p.pp} (layout)`;
    case 'accounted': return p.pp > 1 ? `${p.pp} (+${accountedText(p)})` : String(p.pp);
    default: return isUnevenSplit(p, numLayers) ? `${p.pp} (${p.firstStageLayers}/${p.lastStageLayers})` : String(p.pp);
  }
}

/** The TP cell: `4`, or `4 (no SP)` when a plan with TP > 1 runs without sequence parallel. */
export function tpCellText(p: Plan): string {
  return p.tp > 1 && !p.sequenceParallel ? `${p.tp} (no SP)` : String(p.tp);
}

/**
 * The split in words, or '' for PP 1: "stages first 7 / last 6 layers", with what an accounted split counts or
 * the layout, and the micro-batch group when it is not PP.
 */
export function splitText(p: Plan, numLayers: number): string {
  if (p.pp <= 1) return '';
  if (splitKind(p, numLayers) === 'even' && !(p.vpp > 1 && p.mbGroup !== p.pp)) return `even split, ${numLayers / p.pp} layers per stage`;
  const parts: string[] = [];
  const kind = splitKind(p, numLayers);
  if (kind === 'layout') parts.push(`layout ${p.layout}`);
  if (kind === 'accounted') {
    parts.push(`${p.accountEmbedding && p.accountLoss ? 'embedding and loss' : p.accountEmbedding ? 'embedding' : 'loss'} counted as pipeline layers`);
  }
  if (kind !== 'even') parts.push(`first/last stage ${p.firstStageLayers}/${p.lastStageLayers} layers`);
  if (p.vpp > 1 && p.mbGroup !== p.pp) parts.push(`micro-batch group ${p.mbGroup}`);
  return parts.join(', ');
}
