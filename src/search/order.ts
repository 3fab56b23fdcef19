import type { Plan } from '../enumerate/plan.js';

const RECOMPUTE_ORDER = { none: 0, selective: 1, full: 2 } as const;
const DISPATCHER_ORDER = { alltoall: 0, flex: 1, allgather: 2 } as const;

/**
 * Stable total order on plans, used to break ties between equal objective values so that the ranking is
 * the same whatever the worker count. Simpler mappings first: smaller TP, CP, PP, … Allocates nothing.
 */
export function comparePlans(a: Plan, b: Plan): number {
  return (a.tp - b.tp) || (a.cp - b.cp) || (a.pp - b.pp) || (a.vpp - b.vpp) || (a.ep - b.ep) || (a.etp - b.etp)
    || (b.firstStageLayers - a.firstStageLayers) || (b.lastStageLayers - a.lastStageLayers)
    || (Number(a.accountEmbedding) - Number(b.accountEmbedding)) || (Number(a.accountLoss) - Number(b.accountLoss))
    || (a.layout < b.layout ? -1 : a.layout > b.layout ? 1 : 0)
    || (Number(b.sequenceParallel) - Number(a.sequenceParallel)) || (a.mbGroup - b.mbGroup)
    || (a.microBatchSize - b.microBatchSize)
    || (RECOMPUTE_ORDER[a.recompute] - RECOMPUTE_ORDER[b.recompute])
    || (DISPATCHER_ORDER[a.dispatcher] - DISPATCHER_ORDER[b.dispatcher])
    || (Number(b.distributedOptimizer) - Number(a.distributedOptimizer));
}
