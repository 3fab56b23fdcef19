import type { Dispatcher, Job, ModelShape, Recompute } from '../job/types.js';
import { inputError } from '../job/errors.js';
import { parseKeyValues } from './key-values.js';
import type { Plan } from './plan.js';
import { newPlan } from './plan.js';
import { deriveLayout } from '../plan/layout.js';
import { DISPATCHER_VALUES, RECOMPUTE_VALUES } from './search-space.js';

const INT_KEYS = ['tp', 'cp', 'pp', 'vpp', 'ep', 'etp', 'mbs', 'first', 'last'] as const;
type IntKey = typeof INT_KEYS[number];
const ALIASES: Record<string, IntKey | 'recompute' | 'dispatcher' | 'distopt'> = {
  tp: 'tp', cp: 'cp', pp: 'pp', vpp: 'vpp', ep: 'ep', etp: 'etp', mbs: 'mbs', micro_batch_size: 'mbs',
  first: 'first', last: 'last', recompute: 'recompute', dispatcher: 'dispatcher',
  distopt: 'distopt', dist_opt: 'distopt', distributed_optimizer: 'distopt',
};
const KEYS_TEXT = 'tp, cp, pp, vpp, ep, etp, mbs, recompute, dispatcher, first, last, distopt';

/**
 * A plan from `--plan tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1[,recompute=…,dispatcher=…,first=…,last=…,distopt=…]`.
 * Missing fields take Megatron-LM's defaults where they are sound for MoE: tp, cp, pp, vpp, ep, mbs 1; etp = tp;
 * recompute none; an even split. Two are moefold's own: dispatcher alltoall (Megatron's default is allgather) and
 * the distributed optimizer on (Megatron's default is off); ask for the others explicitly. With one of first/last given, the other is the middle-stage size
 * (num_layers − given)/(pp − 1) when that is whole (Megatron then sizes the remaining stages evenly).
 * dp, edp and the micro-batch count are derived (fractional when the sizes do not divide: checkPlan reports it);
 * sequence parallel = tp > 1; precision from the job. The plan is not checked here: call checkPlan.
 * Bad keys or values throw a one-line InputError naming `--plan`.
 */
export function parsePlanSpec(spec: string, job: Job, _shape: ModelShape, source = '--plan'): Plan {
  const ints: Partial<Record<IntKey, number>> = {};
  let recompute: Recompute = 'none';
  let dispatcher: Dispatcher = 'alltoall';
  let distopt = true;
  for (const { key, rawKey, value } of parseKeyValues(spec, source, ALIASES, KEYS_TEXT, 'unknown field')) {
    if (key === 'recompute') {
      if (!(RECOMPUTE_VALUES as readonly string[]).includes(value)) {
        throw inputError(source, rawKey, `must be one of ${RECOMPUTE_VALUES.join(', ')} (got ${JSON.stringify(value)})`);
      }
      recompute = value as Recompute;
    } else if (key === 'dispatcher') {
      if (!(DISPATCHER_VALUES as readonly string[]).includes(value)) {
        throw inputError(source, rawKey, `must be one of ${DISPATCHER_VALUES.join(', ')} (got ${JSON.stringify(value)})`);
      }
      dispatcher = value as Dispatcher;
    } else if (key === 'distopt') {
      const v = value.toLowerCase();
      if (v === 'true' || v === 'on' || v === 'yes' || v === '1') distopt = true;
      else if (v === 'false' || v === 'off' || v === 'no' || v === '0') distopt = false;
      else throw inputError(source, rawKey, `must be true or false (on/off) (got ${JSON.stringify(value)})`);
    } else {
      if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw inputError(source, rawKey, `must be an integer >= 1 (got ${JSON.stringify(value)})`);
      }
      ints[key] = Number(value);
    }
  }

  const p = newPlan();
  p.recompute = recompute;
  p.dispatcher = dispatcher;
  p.distributedOptimizer = distopt;
  p.precision = job.training.precision;
  return deriveLayout(job, {
    tp: ints.tp ?? 1, cp: ints.cp ?? 1, pp: ints.pp ?? 1, vpp: ints.vpp, ep: ints.ep, etp: ints.etp,
    microBatchSize: ints.mbs, firstStageLayers: ints.first, lastStageLayers: ints.last,
  }, p);
}
