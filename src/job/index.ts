/** The job-file layer: read, check and describe jobs. */
export { loadJob, jobFromObject, defaultModelName, type JobOverrides, type LoadOptions } from './load-job.js';
export { DEFAULT_GPU, DEFAULT_GPUS_PER_NODE, DEFAULT_TRAINING } from './resolve-run.js';
export { modelShape } from './shape.js';
export { countParams, paddedVocabSize, attentionParams, type ParamCounts } from './params.js';
export { describeJob, formatParamCount } from './describe.js';
export { formatLayerFreq, layerMaskFromFreq, parseLayerFreqExpression } from './layer-freq.js';
export { InputError, inputError } from './errors.js';
export type * from './types.js';
