/**
 * Test helper: a job from an inline model (and training) through the real loader, against a throw-away cost-models
 * directory, and the message of the InputError a call throws.
 */
import assert from 'node:assert/strict';
import { InputError } from '../../src/job/errors.js';
import { jobFromObject } from '../../src/job/load-job.js';
import type { Job } from '../../src/job/types.js';
import { makeCostModelsDir } from './cost-models-dir.js';

const opts = { costModelsDir: makeCostModelsDir() };

/** A small dense model's required fields (4 layers, hidden 1024, 8 heads, vocabulary 32,000). */
export const BASE_MODEL = { num_layers: 4, hidden_size: 1024, num_attention_heads: 8, vocab_size: 32000 };

/** The job of `model` on 8 GPUs (file name job.yaml), `training` as given (the loader's defaults otherwise). */
export function loadModelJob(model: Record<string, unknown>, training?: Record<string, unknown>): Job {
  return jobFromObject({ model, training, cluster: { gpus: 8 } }, 'job.yaml', {}, opts);
}

/** The message of the InputError `fn` throws (fails when it throws anything else, or nothing). */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.message;
  }
  return assert.fail('no error');
}
