/** Plans Megatron accepts but that are probably not what the user meant: one line each for stderr. */
import type { Plan } from '../enumerate/plan.js';
import { hasEmptyStage } from './pipeline-layout.js';
import { planLayout, type LayoutJob } from './layout.js';

export function planWarnings(job: LayoutJob, plan: Plan): string[] {
  const out: string[] = [];
  if (plan.layout !== '') {
    const lay = planLayout(job, plan);
    if (typeof lay !== 'string' && hasEmptyStage(lay)) {
      out.push(`the pipeline layout ${JSON.stringify(plan.layout)} has an empty stage: Megatron accepts it, but some `
        + 'releases hang on a stage without layers; give every stage a layer unless your release is known to handle it');
    }
  }
  return out;
}
