import type { Dispatcher, Job, ModelShape, Recompute } from '../job/types.js';
import { inputError } from '../job/errors.js';
import { parseKeyValues } from './key-values.js';
import type { Plan } from './plan.js';
import { newPlan } from './plan.js';
import { deriveLayout } from '../plan/layout.js';
import { DISPATCHER_VALUES, RECOMPUTE_VALUES } from './search-space.js';

const INT_KEYS = ['tp', 'cp', 'pp', 'vpp', 'ep', 'etp', 'mbs', 'first', 'last', 'mb_group'] as const;
type IntKey = typeof INT_KEYS[number];
type BoolKey = 'distopt' | 'sp' | 'account_for_embedding' | 'account_for_loss';
const ALIASES: Record<string, IntKey | BoolKey | 'recompute' | 'dispatcher' | 'layout'> = {
  tp: 'tp', cp: 'cp', pp: 'pp', vpp: 'vpp', ep: 'ep', etp: 'etp', mbs: 'mbs', micro_batch_size: 'mbs',
  first: 'first', last: 'last', recompute: 'recompute', dispatcher: 'dispatcher',
  distopt: 'distopt', dist_opt: 'distopt', distributed_optimizer: 'distopt',
  sp: 'sp', sequence_parallel: 'sp',
  account_for_embedding: 'account_for_embedding', account_for_loss: 'account_for_loss',
  layout: 'layout', mb_group: 'mb_group',
};
const KEYS_TEXT = 'tp, cp, pp, vpp, ep, etp, mbs, recompute, dispatcher, first, last, distopt, sp, account_for_embedding, '
  + 'account_for_loss, layout, mb_group';

function boolValue(value: string, source: string, rawKey: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === 'on' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'off' || v === 'no' || v === '0') return false;
  throw inputError(source, rawKey, `must be true or false (on/off) (got ${JSON.stringify(value)})`);
}

/**
 * A plan from `--plan tp=2,cp=1,pp=8,vpp=7,ep=8,etp=1,mbs=1[,recompute=…,dispatcher=…,first=…,last=…,distopt=…]`;
 * also sp=true|false (sequence parallel, default tp > 1), account_for_embedding / account_for_loss=true (Megatron's
 * accounted split), layout=<Megatron layout> (VPP from its stage count unless vpp is given; commas inside it are
 * Megatron's cosmetic ones), mb_group=N (micro-batch group per virtual stage, default PP).
 * Missing fields take Megatron-LM's defaults where they are sound for MoE: tp, cp, pp, vpp, ep, mbs 1; etp = tp;
 * recompute none; an even split. Two are moefold's own: dispatcher alltoall (Megatron's default is allgather) and
 * the distributed optimizer on (Megatron's default is off); ask for the others explicitly. With one of first/last given, the other is the middle-stage size
 * (num_layers − given)/(pp − 1) when that is whole (Megatron then sizes the remaining stages evenly).
 * dp, edp and the micro-batch count are derived (fractional when the sizes do not divide: checkPlan reports it);
 * precision from the job. The plan is not checked here: call checkPlan.
 * Bad keys or values throw a one-line InputError naming `--plan`.
 */
export function parsePlanSpec(spec: string, job: Job, _shape: ModelShape, source = '--plan'): Plan {
  const ints: Partial<Record<IntKey, number>> = {};
  const bools: Partial<Record<BoolKey, boolean>> = {};
  let recompute: Recompute = 'none';
  let dispatcher: Dispatcher = 'alltoall';
  let layout: string | undefined;
  for (const { key, rawKey, value } of parseKeyValues(spec, source, ALIASES, KEYS_TEXT, 'unknown field', 'layout')) {
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
    } else if (key === 'distopt' || key === 'sp' || key === 'account_for_embedding' || key === 'account_for_loss') {
      bools[key] = boolValue(value, source, rawKey);
    } else if (key === 'layout') {
      if (value.length === 0) throw inputError(source, rawKey, 'needs a Megatron pipeline layout, e.g. "Et|(tt|)*30mL"');
      layout = value;
    } else {
      if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw inputError(source, rawKey, `must be an integer >= 1 (got ${JSON.stringify(value)})`);
      }
      ints[key] = Number(value);
    }
  }

  // Megatron's own conflicts between the ways of stating a split ([TC] L2229–2259)
  const accounted = bools.account_for_embedding === true || bools.account_for_loss === true;
  const uneven = ints.first !== undefined || ints.last !== undefined;
  if (layout !== undefined && (accounted || uneven)) {
    throw inputError(source, 'layout', 'cannot be combined with first/last or account_for_embedding/account_for_loss (Megatron refuses it)');
  }
  if (accounted && uneven) {
    throw inputError(source, bools.account_for_embedding ? 'account_for_embedding' : 'account_for_loss',
      'cannot be combined with first/last (Megatron refuses it)');
  }
  const p = newPlan();
  p.recompute = recompute;
  p.dispatcher = dispatcher;
  p.distributedOptimizer = bools.distopt ?? true;
  p.precision = job.training.precision;
  return deriveLayout(job, {
    tp: ints.tp ?? 1, cp: ints.cp ?? 1, pp: ints.pp ?? 1, vpp: ints.vpp, ep: ints.ep, etp: ints.etp,
    microBatchSize: ints.mbs, firstStageLayers: ints.first, lastStageLayers: ints.last,
    sequenceParallel: bools.sp, accountEmbedding: bools.account_for_embedding, accountLoss: bools.account_for_loss,
    layout, mbGroup: ints.mb_group,
  }, p);
}
