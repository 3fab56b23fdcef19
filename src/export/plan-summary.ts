/** A few plain lines describing a plan, used as the header comment of every export. */
import type { Plan } from '../enumerate/plan.js';
import { splitText } from '../render/split-text.js';
import { nvlinkDomainOf, type Job, type ModelShape } from '../job/types.js';

export function planSummaryLines(job: Job, shape: ModelShape, plan: Plan, rank: number): string[] {
  const c = job.cluster;
  const nodes = Math.ceil(c.gpus / c.gpus_per_node);
  const domain = nvlinkDomainOf(c);
  const domains = domain > c.gpus_per_node ? `, NVLink domains of ${Math.min(domain, c.gpus)} GPUs` : '';
  const lines = [`moefold plan ${rank} for ${job.model.name} on ${c.gpus} x ${c.gpu} (${nodes} nodes x ${c.gpus_per_node} GPUs${domains})`];
  let pipe = `attention: TP${plan.tp} x CP${plan.cp} x DP${plan.dp} x PP${plan.pp}`;
  if (plan.vpp > 1) pipe += `, ${plan.vpp} virtual stages per PP rank`;
  if (plan.pp > 1) pipe += `, ${splitText(plan, job.model.num_layers)}`;
  if (plan.tp > 1) pipe += plan.sequenceParallel ? ', sequence parallel' : ', no sequence parallel';
  lines.push(pipe);
  if (shape.isMoe) {
    lines.push(`experts:   ETP${plan.etp} x EP${plan.ep} x EDP${plan.edp} x PP${plan.pp}, ${plan.dispatcher} token dispatcher`);
  }
  lines.push(`batch:     micro-batch ${plan.microBatchSize} x ${plan.numMicroBatches} microbatches x DP${plan.dp} = ${job.training.global_batch_size} sequences of ${job.training.seq_length} tokens`);
  lines.push(`recompute ${plan.recompute}, ${plan.precision}, ${plan.distributedOptimizer ? 'distributed optimizer' : 'optimizer state replicated over DP'}`);
  return lines;
}
