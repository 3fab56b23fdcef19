/** Layers per virtual pipeline stage: computed in the plan module (src/plan/layout.ts), re-exported here. */
export { virtualStageLayers } from '../plan/layout.js';
