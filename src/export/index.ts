/** Launch configs of a plan: Megatron-LM arguments, torchrun / SLURM scripts, Megatron-Bridge and torchtitan. */
export { EXPORT_FORMATS, exportFileName, isExportFileName, exportPlan, type ExportFormat, type ExportOptions } from './export-plan.js';
export { megatronLaunch, ENV_REASONS, type MegatronLaunch, type MegatronLaunchOptions } from './megatron-launch.js';
export { checkMegatronArgs, parseMegatronArgs, MEGATRON_FLAGS, MEGATRON_RECOMPUTE_MODULES, type CheckOptions, type FlagSpec, type FlagKind } from './megatron-flags.js';
export { gpuArchMajor } from './gpu-arch.js';
export { finetuneRefusal, megatronLaunchRefusal } from './finetune-refusals.js';
export { virtualStageLayers } from './stage-layers.js';
