/**
 * Models and jobs for the enumerator's tests, read from the fixtures through the real loader (loadJob): the real
 * models from fixtures/models/ (each file names its published source), the made-up small ones from
 * fixtures/test-models/. Nothing here restates a model's values; a test that needs a variant spreads one of these
 * models and replaces the fields it is about (`{ ...TINY_MOE, num_attention_heads: 24 }`), and makeJob wraps such
 * a (possibly deliberately invalid) model in a job without checking it.
 *
 * Each job keeps the run its tests were written for (GPUs, global batch, sequence length, precision), given to
 * the loader as overrides of the fixture's own run where the two differ.
 */
import { defaultFinetune } from '../../src/job/finetune.js';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { loadJob, type JobOverrides } from '../../src/job/load-job.js';
import type { Job, ModelShape, ModelSpec, Precision } from '../../src/job/types.js';
import { modelShape } from '../../src/job/shape.js';
import { defaultStack } from '../../src/job/stack.js';

/** The job of fixture `file` (relative to the repository root), named by that relative path. */
function fixtureJob(file: string, overrides: JobOverrides = {}): Job {
  return { ...loadJob(path.join(REPO_ROOT, file), overrides), source: file };
}

/** The model of fixture `file` (its run does not matter: the GPU count is given for files without a cluster). */
function fixtureModel(file: string): ModelSpec {
  return fixtureJob(file, { gpus: 8 }).model;
}

const MIXTRAL_FILE = 'fixtures/models/mixtral-8x22b.yaml';
const DEEPSEEK_FILE = 'fixtures/models/deepseek-v3.yaml';
const QWEN3_FILE = 'fixtures/models/qwen3-30b-a3b.yaml';
const LLAMA_FILE = 'fixtures/models/llama3-70b.yaml';
const QWEN3_235B_FILE = 'fixtures/models/qwen3-235b-a22b.yaml';
const LLAMA31_405B_FILE = 'fixtures/models/llama3.1-405b.yaml';

export const MIXTRAL_8X22B: ModelSpec = fixtureModel(MIXTRAL_FILE);

/** First 3 layers dense, 58 MoE (`--moe-layer-freq "([0]*3+[1]*58)"`), MLA, 1 MTP layer. */
export const DEEPSEEK_V3: ModelSpec = fixtureModel(DEEPSEEK_FILE);

export const QWEN3_30B_A3B: ModelSpec = fixtureModel(QWEN3_FILE);

/** Dense: num_experts 0 (MoE fields keep the loader's defaults and are unused). */
export const LLAMA3_70B: ModelSpec = fixtureModel(LLAMA_FILE);

/** A small made-up MoE model for rule edge cases: 8 layers, all MoE, 8 heads, 8 experts. Override fields as needed. */
export const TINY_MOE: ModelSpec = fixtureModel('fixtures/test-models/tiny-moe.yaml');

/** A small made-up dense model: 6 layers, 12 heads in 4 query groups. */
export const TINY_DENSE: ModelSpec = fixtureModel('fixtures/test-models/tiny-dense.yaml');

export interface JobOptions {
  gpus: number;
  globalBatchSize: number;
  seqLength?: number;
  precision?: Precision;
  gpusPerNode?: number;
}

/** A job around `model` as it is (not checked: tests pass deliberately broken variants), on H100. */
export function makeJob(model: ModelSpec, o: JobOptions): Job {
  return {
    source: `test:${model.name}`,
    model,
    training: { seq_length: o.seqLength ?? 4096, global_batch_size: o.globalBatchSize, precision: o.precision ?? 'bf16', ...defaultStack(), ...defaultFinetune() },
    cluster: { gpu: 'h100-sxm', gpus: o.gpus, gpus_per_node: o.gpusPerNode ?? 8 },
  };
}

export function shapeOf(job: Job): ModelShape {
  return modelShape(job.model);
}

/**
 * The published model-zoo runs (megatron.md §4.3), from the fixtures. Mixtral's is the fixture's own run (128 GPUs,
 * GBS 256, bf16); the others keep the runs these tests were written for: DeepSeek-V3 in bf16 (the fixture's run is
 * fp8), Qwen3-30B-A3B on 32 GPUs with GBS 256 in bf16 (the fixture's: 16 GPUs, GBS 512, fp8), Llama3-70B at
 * seq 4096 with GBS 512 in bf16 (the fixture's: seq 8192, GBS 128, fp8).
 */
export const mixtralZooJob = (): Job => fixtureJob(MIXTRAL_FILE);
export const deepseekZooJob = (): Job => fixtureJob(DEEPSEEK_FILE, { precision: 'bf16' });
export const qwen3ZooJob = (): Job => fixtureJob(QWEN3_FILE, { gpus: 32, globalBatchSize: 256, precision: 'bf16' });
export const llamaJob = (): Job =>
  fixtureJob(LLAMA_FILE, { gpus: 64, globalBatchSize: 512, seqLength: 4096, precision: 'bf16' });

/** Qwen3-235B-A22B as its fixture states it (94 layers; 256 GPUs, GBS 2048): the zoo runs it with an accounted split. */
export const qwen3_235bJob = (): Job => fixtureJob(QWEN3_235B_FILE);
/** Llama-3.1-405B as its fixture states it (126 layers, dense; 1,024 GPUs, GBS 512). */
export const llama405bJob = (): Job => fixtureJob(LLAMA31_405B_FILE);
