/**
 * Reads a job: a moefold YAML job file or a Hugging Face config.json (told apart by content), applies the
 * command-line overrides, checks everything and fills every default, so downstream code sees a complete Job.
 *
 * A job file has one of two shapes:
 *   1. nested — top-level keys `model:`, `training:`, `cluster:`; the model fields sit under `model:`.
 *      `model:` may also be the path (relative to the job file) of a model file: a Hugging Face config.json,
 *      a mapping of model fields, or another job file (whose model is taken, not its training or cluster).
 *   2. flat — the model fields sit at top level (as copied from a launch script), next to optional
 *      `training:` and `cluster:` mappings.
 * A file with a top-level `model:` key is nested; then a model field at top level is an error (it would be
 * ambiguous which value wins). `cluster:` may be a mapping or the path of a cluster file (see resolve-run.ts).
 * Messages name fields by their place in the file: `model.num_layers` (nested), `num_layers` (flat),
 * `num_hidden_layers` (HF config), `training.precision`, `cluster.gpus`, or the flag (`--gpus`) for an override.
 * An HF config holds no training or cluster: the defaults and the overrides apply (so --gpus is required); it
 * does bring training defaults of its own (its attention dropout, no hidden dropout: hf-config.ts), which the job's
 * training: fields and the flags override.
 * The model name defaults to the file's base name (for `…/<dir>/config.json`, the directory's name).
 */
import fs from 'node:fs';
import path from 'node:path';
import { COST_MODELS_DIR } from '../paths.js';
import { inputError } from './errors.js';
import { CLUSTER_FIELDS, MODEL_FIELDS, SECTION_KEYS, TRAINING_FIELDS, keyText } from './fields.js';
import { importHfConfig, isHfConfig } from './hf-config.js';
import { checkKeys, isMapping, kindText, pathText, readMappingFile, resolveInputPath } from './read-file.js';
import { finishModel, resolveModel, type ResolvedModel } from './resolve-model.js';
import { resolveCluster, resolveTraining, type JobOverrides } from './resolve-run.js';
import { closestName } from './suggest.js';
import { checkStackWithModel } from './stack.js';
import { finishFinetune } from './finetune.js';
import type { Job, StackSpec } from './types.js';

export type { JobOverrides } from './resolve-run.js';

export interface LoadOptions {
  /** Where the GPU calibration files live (default: the repository's cost-models/); tests point it elsewhere. */
  costModelsDir?: string;
  /**
   * A folder the model and cluster paths of the job must stay inside (relative paths only). Set for a job held
   * in a plans file, which may come from a pull request: it cannot make moefold read other files.
   */
  pathsInside?: string;
}

/** Reads `file` (YAML job, HF config.json, or a directory holding a config.json). */
export function loadJob(file: string, overrides: JobOverrides = {}, options: LoadOptions = {}): Job {
  let f = file;
  if (isDirectory(f)) {
    const inner = path.join(f, 'config.json');
    if (!fs.existsSync(inner)) throw inputError(file, '', 'is a directory without a config.json, not a job file');
    f = inner;
  }
  return buildJob(readMappingFile(f), f, overrides, options);
}

/** The same checks for a job held as an object (a job embedded in a plans file, tests); `source` names it. */
export function jobFromObject(obj: unknown, source: string, overrides: JobOverrides = {}, options: LoadOptions = {}): Job {
  if (!isMapping(obj)) throw inputError(source, '', `must be a mapping of fields (got ${kindText(obj)})`);
  checkKeys(obj, source);
  return buildJob(obj, source, overrides, options);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `mixtral-8x22b.yaml` → `mixtral-8x22b`; `hf/Mixtral-8x7B/config.json` → `Mixtral-8x7B`. */
export function defaultModelName(file: string): string {
  const base = path.basename(file).replace(/\.(ya?ml|json)$/i, '');
  if (base === 'config') {
    const dir = path.basename(path.dirname(path.resolve(file)));
    if (dir !== '') return dir;
  }
  return base;
}

/** Extra words for a model-section key that is really a training or cluster field. */
function misplacedHint(key: string): string | undefined {
  if (Object.hasOwn(TRAINING_FIELDS, key)) return 'a training field: put it under training:';
  if (Object.hasOwn(CLUSTER_FIELDS, key)) return 'a cluster field: put it under cluster:';
  return undefined;
}

interface ModelSource {
  resolved: ResolvedModel;
  file: string;
  label: (field: string) => string;
  /** True for an HF import: a max_position_embeddings below seq_length is raised (rope models extend). */
  fromHf: boolean;
  /** Training defaults the model brings (an HF import's dropout), under the job's training: fields and flags. */
  trainingDefaults?: Partial<StackSpec>;
}

/** Model fields held by `doc` (an HF config or a mapping of model fields) read from `file`. */
function modelFromMapping(doc: Record<string, unknown>, file: string, prefix: string, nameFile: string): ModelSource {
  if (isHfConfig(doc)) {
    const hf = importHfConfig(doc, file);
    const label = (f: string): string => (Object.hasOwn(hf.labels, f) ? hf.labels[f] : undefined) ?? `${f} (imported)`;
    const resolved = resolveModel(hf.model, { file, label, defaultName: hf.nameHint ?? defaultModelName(nameFile) });
    return { resolved, file, label, fromHf: true, trainingDefaults: hf.training };
  }
  const label = (f: string): string => `${prefix}${f}`;
  const resolved = resolveModel(doc, { file, label, unknownHint: misplacedHint, defaultName: defaultModelName(nameFile) });
  return { resolved, file, label, fromHf: false };
}

function buildJob(doc: Record<string, unknown>, source: string, overrides: JobOverrides, options: LoadOptions): Job {
  let ms: ModelSource;
  let trainingSection: unknown;
  let clusterSection: unknown;

  if (isHfConfig(doc)) {
    ms = modelFromMapping(doc, source, '', source);
  } else if (Object.hasOwn(doc, 'model')) {
    for (const key of Object.keys(doc)) {
      if ((SECTION_KEYS as readonly string[]).includes(key)) continue;
      if (Object.hasOwn(MODEL_FIELDS, key)) {
        throw inputError(source, key, 'unknown top-level field (this file has a model: mapping, so model fields go under model:)');
      }
      const hint = misplacedHint(key);
      const near = key.length <= 64 ? closestName(key, SECTION_KEYS) : undefined;
      const why = hint ?? (near !== undefined ? `did you mean ${near}?` : `allowed at top level: ${SECTION_KEYS.join(', ')}`);
      throw inputError(source, keyText(key), `unknown top-level field (${why})`);
    }
    const m = doc.model;
    if (typeof m === 'string') {
      const modelFile = resolveInputPath(m, source, 'model', 'model file', options.pathsInside);
      if (!fs.existsSync(modelFile)) throw inputError(source, 'model', `model file not found: ${pathText(modelFile)}`);
      const modelDoc = readMappingFile(modelFile, 'model file');
      // A nested job file also serves as a model file: its model: section is used, its training/cluster are not.
      if (!isHfConfig(modelDoc) && isMapping(modelDoc.model)) {
        ms = modelFromMapping(modelDoc.model, modelFile, 'model.', modelFile);
      } else {
        const { training: _t, cluster: _c, ...modelFields } = modelDoc; // a flat job file's run sections are not the model
        ms = modelFromMapping(isHfConfig(modelDoc) ? modelDoc : modelFields, modelFile, '', modelFile);
      }
    } else if (isMapping(m)) {
      ms = modelFromMapping(m, source, 'model.', source);
    } else {
      throw inputError(source, 'model', `must be a mapping of model fields or the path of a model file (got ${kindText(m)})`);
    }
    trainingSection = doc.training;
    clusterSection = doc.cluster;
  } else {
    const modelFields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) if (k !== 'training' && k !== 'cluster') modelFields[k] = v;
    ms = modelFromMapping(modelFields, source, '', source);
    trainingSection = doc.training;
    clusterSection = doc.cluster;
  }

  const { training, seqLabel } = resolveTraining(trainingSection, source, overrides, ms.trainingDefaults);
  if (ms.fromHf && ms.resolved.maxPosGiven && ms.resolved.model.max_position_embeddings < training.seq_length) {
    ms.resolved.model.max_position_embeddings = training.seq_length;
  }
  const model = finishModel(ms.resolved, training.seq_length, { file: ms.file, label: ms.label, seqLabel });
  checkStackWithModel(training, model, source);
  finishFinetune(training, model, isMapping(trainingSection) && trainingSection.lora_target_modules != null, source);
  const cluster = resolveCluster(clusterSection, source, overrides, options.costModelsDir ?? COST_MODELS_DIR, options.pathsInside);
  return { source, model, training, cluster };
}
