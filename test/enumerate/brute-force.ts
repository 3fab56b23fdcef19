/**
 * A slow reference for the enumerator: builds every candidate of a resolved space as its own Plan, in the
 * enumerator's loop order, and classifies it with checkPlan (first broken rule in RULES order). The enumerator
 * must agree with it exactly: same valid plans in the same order, same count per rule.
 */
import type { Job, ModelShape } from '../../src/job/types.js';
import type { Plan } from '../../src/enumerate/plan.js';
import { newPlan } from '../../src/enumerate/plan.js';
import type { SearchSpace } from '../../src/enumerate/search-space.js';
import { resolveSpace } from '../../src/enumerate/resolve-space.js';
import { checkPlan } from '../../src/enumerate/rules.js';
import { smallestMbGroup } from '../../src/plan/layout.js';

export interface BruteForceResult {
  enumerated: number;
  validKeys: string[];
  pruned: Record<string, number>;
}

export function bruteForce(job: Job, shape: ModelShape, space: SearchSpace): BruteForceResult {
  const r = resolveSpace(job, shape, space);
  const W = job.cluster.gpus;
  const gbs = job.training.global_batch_size;
  const out: BruteForceResult = { enumerated: 0, validKeys: [], pruned: {} };
  r.pp.forEach((pp, pi) => {
    for (const tp of r.tp) {
      for (const cp of r.cp) {
        for (const sp of tp > 1 ? r.sequenceParallel : [false]) {
        for (let si = 0; si < r.splitFirst[pi].length; si++) {
          for (const vpp of r.vpp) {
            // a layout is tried with its own VPP only
            if (r.splitVpp[pi][si] !== 0 && r.splitVpp[pi][si] !== vpp) continue;
            for (const mbs of r.mbs) {
              for (const ep of r.ep) {
                for (const etp of r.etpFollowsTp ? [tp] : r.etp) {
                  for (const dispatcher of r.dispatcher) {
                    for (const recompute of r.recompute) {
                      for (const distopt of r.distributedOptimizer) {
                        const p: Plan = newPlan();
                        Object.assign(p, {
                          tp, cp, pp, vpp, ep, etp, microBatchSize: mbs, recompute, dispatcher,
                          distributedOptimizer: distopt, sequenceParallel: sp, precision: job.training.precision,
                          dp: W / (tp * cp * pp), edp: W / (etp * ep * pp),
                          firstStageLayers: r.splitFirst[pi][si], lastStageLayers: r.splitLast[pi][si],
                          accountEmbedding: (r.splitAccount[pi][si] & 1) !== 0, accountLoss: (r.splitAccount[pi][si] & 2) !== 0,
                          layout: r.splitLayout[pi][si],
                        });
                        p.numMicroBatches = gbs / (mbs * p.dp);
                        // the enumerator's micro-batch group: PP, else the smallest group Megatron runs
                        p.mbGroup = vpp > 1 && Number.isInteger(p.numMicroBatches) ? smallestMbGroup(pp, p.numMicroBatches) : pp;
                        out.enumerated++;
                        const broken = checkPlan(job, shape, p);
                        if (broken.length === 0) out.validKeys.push(JSON.stringify(p));
                        else out.pruned[broken[0].rule] = (out.pruned[broken[0].rule] ?? 0) + 1;
                      }
                    }
                  }
                }
              }
            }
          }
        }
        }
      }
    }
  });
  return out;
}
