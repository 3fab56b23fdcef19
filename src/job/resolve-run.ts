/**
 * The `training:` and `cluster:` sections, with the command-line overrides applied after reading and before
 * the checks.
 *
 * training: seq_length (default 4096), global_batch_size (default 1024), precision bf16 | fp8 (default bf16), and
 *   the software-stack facts (stack.ts), each overridable by its flag (`--tp-comm-overlap false`).
 * cluster: gpu = the name of a calibration file cost-models/<gpu>.yaml (default h100-sxm), gpus (required:
 *   from the file or --gpus), gpus_per_node and nvlink_domain (GPUs sharing one NVLink fabric, whole nodes;
 *   --nvlink-domain), each defaulting to the calibration's system (network.node_gpus and
 *   network.default_nvlink_domain: 8 and 8 for an HGX board, 4 and 64 for GB200 NVL72 trays in 64-GPU
 *   segments). `cluster:` may also be a string: the path of a cluster file
 *   (relative to the job file) holding these fields, at its top level or under `cluster:`.
 *
 * Whole nodes or one partial node: gpus must be a multiple of gpus_per_node, or smaller than it and a divisor
 * of it (1, 2 or 4 GPUs of an 8-GPU node). A partial node is how small tests and single-GPU runs are
 * described; Megatron's groups then never cross a node. Anything else (e.g. 12 GPUs on 8-GPU nodes) is
 * refused because a partly used second node would make intra-node group sizes ambiguous.
 */
import fs from 'node:fs';
import { calibrationNames } from '../paths.js';
import { calibrationLabel, isCalibrationPath, isOverlayDoc, loadCalibrationStack, readCalibrationDoc } from '../cost/calibration.js';
import { inputError } from './errors.js';
import { CLUSTER_FIELDS, NAME_PATTERN, TRAINING_FIELDS, allowedText, excerpt, gotText, numberAllowed, numberProblem, type FieldRule } from './fields.js';
import { isMapping, kindText, pathText, readMappingFile, resolveInputPath } from './read-file.js';
import { checkSection } from './schema.js';
import { closestName } from './suggest.js';
import { withoutNulls } from './resolve-model.js';
import { STACK_FIELDS, STACK_KEYS, defaultStack, stackFlagName } from './stack.js';
import type { ClusterSpec, Precision, StackSpec, TrainingSpec } from './types.js';
import { defaultFinetune, resolveFinetune } from './finetune.js';

/** Command-line values that replace the job file's (then everything is checked as if the file held them). */
export interface JobOverrides {
  gpus?: number;
  gpusPerNode?: number;
  /** GPUs per NVLink domain (--nvlink-domain). */
  nvlinkDomain?: number;
  /** A calibration name or path (--gpu). */
  gpu?: string;
  /**
   * --calibration files in order (they replace the job's cluster.calibrations): overlays, of which the first may
   * instead be a full calibration (it then replaces the GPU's).
   */
  calibrations?: string[];
  seqLength?: number;
  globalBatchSize?: number;
  precision?: string;
  /**
   * Stack fields from their flags (`--tp-comm-overlap false` → tp_comm_overlap: false), already read from text by
   * the CLI; checked here against the field table like the file's values. null = the field's default.
   */
  stack?: Partial<Record<keyof StackSpec, unknown>>;
}

/** The flag each override comes from, as error messages name it. */
export const OVERRIDE_FLAGS: Readonly<Record<Exclude<keyof JobOverrides, 'stack'>, string>> = {
  gpus: '--gpus',
  gpusPerNode: '--gpus-per-node',
  nvlinkDomain: '--nvlink-domain',
  gpu: '--gpu',
  calibrations: '--calibration',
  seqLength: '--seq-length',
  globalBatchSize: '--global-batch-size',
  precision: '--precision',
};

export const DEFAULT_GPU = 'h100-sxm';
export const DEFAULT_GPUS_PER_NODE = 8;
export const DEFAULT_TRAINING: Readonly<TrainingSpec> = {
  seq_length: 4096, global_batch_size: 1024, precision: 'bf16', ...defaultStack(), ...defaultFinetune(),
};

/** Where a value came from, for the message that rejects it. */
interface Origin {
  file: string;
  field: string;
}

/** The field rule each numeric override is checked against: the same bounds as the file's field. */
type IntOverride = 'gpus' | 'gpusPerNode' | 'nvlinkDomain' | 'seqLength' | 'globalBatchSize';
const OVERRIDE_RULES: Readonly<Record<IntOverride, FieldRule>> = {
  gpus: CLUSTER_FIELDS.gpus,
  gpusPerNode: CLUSTER_FIELDS.gpus_per_node,
  nvlinkDomain: CLUSTER_FIELDS.nvlink_domain,
  seqLength: TRAINING_FIELDS.seq_length,
  globalBatchSize: TRAINING_FIELDS.global_batch_size,
};

function overrideInt(overrides: JobOverrides, key: IntOverride, file: string): number | undefined {
  const v = overrides[key];
  if (v === undefined) return undefined;
  const rule = OVERRIDE_RULES[key];
  if (rule.kind !== 'int') throw new Error(`${key}: not an integer field`);
  if (!numberAllowed(rule, v)) throw inputError(file, OVERRIDE_FLAGS[key], numberProblem(rule, v));
  return v;
}

export interface ResolvedTraining {
  training: TrainingSpec;
  /** How messages name seq_length: `training.seq_length` or `--seq-length`. */
  seqLabel: string;
}

/**
 * `modelDefaults`: stack values the model brings (an HF import's dropout): they replace the stack defaults, and the
 * file's fields and the flags replace them.
 */
export function resolveTraining(section: unknown, file: string, overrides: JobOverrides, modelDefaults: Partial<StackSpec> = {}): ResolvedTraining {
  let t: Record<string, unknown> = {};
  if (section !== undefined && section !== null) {
    if (!isMapping(section)) {
      throw inputError(file, 'training', `must be a mapping with seq_length, global_batch_size, precision (got ${kindText(section)})`);
    }
    t = withoutNulls(section);
    checkSection('training', t, { file, label: (f) => `training.${f}` });
  }
  const stack = resolveStack(t, file, overrides, modelDefaults);
  const training: TrainingSpec = {
    seq_length: (t.seq_length as number | undefined) ?? DEFAULT_TRAINING.seq_length,
    global_batch_size: (t.global_batch_size as number | undefined) ?? DEFAULT_TRAINING.global_batch_size,
    precision: (t.precision as Precision | undefined) ?? DEFAULT_TRAINING.precision,
    ...stack,
    ...defaultFinetune(),
  };
  let seqLabel = 'training.seq_length';
  const seq = overrideInt(overrides, 'seqLength', file);
  if (seq !== undefined) {
    training.seq_length = seq;
    seqLabel = OVERRIDE_FLAGS.seqLength;
  }
  const gbs = overrideInt(overrides, 'globalBatchSize', file);
  if (gbs !== undefined) training.global_batch_size = gbs;
  if (overrides.precision !== undefined) {
    if (overrides.precision !== 'bf16' && overrides.precision !== 'fp8') {
      throw inputError(file, OVERRIDE_FLAGS.precision, `must be one of bf16, fp8 (got ${gotText(overrides.precision)})`);
    }
    training.precision = overrides.precision;
  }
  Object.assign(training, resolveFinetune(t, file, training.precision));
  return { training, seqLabel };
}

/**
 * The stack facts: the file's values (already checked), then the flags (checked against the same rules, named by
 * the flag), then the defaults; then the rules that tie two of them together. A null flag value restores the default.
 */
function resolveStack(t: Record<string, unknown>, file: string, overrides: JobOverrides, modelDefaults: Partial<StackSpec>): StackSpec {
  const out = { ...defaultStack(), ...modelDefaults } as unknown as Record<string, unknown>;
  const where: Record<string, string> = {};
  for (const k of STACK_KEYS) {
    if (k in t) {
      out[k] = t[k];
      where[k] = `training.${k}`;
    }
  }
  const o = overrides.stack ?? {};
  const given = withoutNulls(o as Record<string, unknown>);
  checkSection('training', given, { file, label: (f) => stackFlagName(f as keyof StackSpec) });
  for (const k of STACK_KEYS) {
    if (!Object.hasOwn(o, k)) continue;
    out[k] = Object.hasOwn(given, k) ? given[k] : (modelDefaults[k] ?? STACK_FIELDS[k].dflt);
    where[k] = stackFlagName(k);
  }
  const s = out as unknown as StackSpec;
  const name = (k: keyof StackSpec): string => where[k] ?? `training.${k}`;
  const refuse = (k: keyof StackSpec, why: string): never => {
    throw inputError(file, name(k), why);
  };
  if (s.moe_router_force_load_balancing && s.moe_routing_imbalance !== null && s.moe_routing_imbalance !== 1) {
    refuse('moe_routing_imbalance', `must be 1 or unset with moe_router_force_load_balancing (got ${gotText(s.moe_routing_imbalance)})`);
  }
  if (s.delay_wgrad_compute && !s.overlap_moe_expert_parallel_comm) {
    refuse('delay_wgrad_compute', 'needs overlap_moe_expert_parallel_comm: true (Megatron TransformerConfig)');
  }
  if (s.overlap_moe_expert_parallel_comm && s.recompute_modules?.includes('moe')) {
    refuse('recompute_modules', 'must not hold moe with overlap_moe_expert_parallel_comm (Megatron TransformerConfig)');
  }
  if (s.cross_entropy_loss_fusion && s.cross_entropy_fusion_impl === 'te') {
    refuse('cross_entropy_fusion_impl', 'must be native with cross_entropy_loss_fusion (Megatron-LM refuses the te fusion: stability issues)');
  }
  if (s.recompute_modules !== null && s.recompute_modules.length === 0) {
    refuse('recompute_modules', `must list at least one module, or be null for moefold's selective set (got [])`);
  }
  if (!s.use_precision_aware_optimizer) {
    for (const k of ['main_params_dtype', 'exp_avg_dtype', 'exp_avg_sq_dtype'] as const) {
      if (s[k] !== 'fp32') refuse(k, `needs use_precision_aware_optimizer: true (got ${s[k]})`);
    }
  }
  if (s.cuda_graph_impl === 'none' && s.cuda_graph_modules.length > 0) {
    refuse('cuda_graph_modules', 'has no effect with cuda_graph_impl none (set cuda_graph_impl local or transformer_engine)');
  }
  return s;
}

/**
 * `pathsInside`: the folder a cluster path must stay in (for a job read from a plans file), see resolveInputPath.
 */
export function resolveCluster(section: unknown, file: string, overrides: JobOverrides, costModelsDir: string, pathsInside?: string): ClusterSpec {
  let c: Record<string, unknown> = {};
  let cFile = file;
  let prefix = 'cluster.';
  if (typeof section === 'string') {
    cFile = resolveInputPath(section, file, 'cluster', 'cluster file', pathsInside);
    if (!fs.existsSync(cFile)) throw inputError(file, 'cluster', `cluster file not found: ${pathText(cFile)}`);
    const doc = readMappingFile(cFile, 'cluster file');
    const keys = Object.keys(doc);
    if (keys.length === 1 && keys[0] === 'cluster' && isMapping(doc.cluster)) c = doc.cluster;
    else {
      c = doc;
      prefix = '';
    }
  } else if (section !== undefined && section !== null) {
    if (!isMapping(section)) {
      throw inputError(file, 'cluster', `must be a mapping with gpu, gpus, gpus_per_node, or the path of a cluster file (got ${kindText(section)})`);
    }
    c = section;
  }
  c = withoutNulls(c);
  checkSection('cluster', c, { file: cFile, label: (f) => `${prefix}${f}` });

  const origin = (f: string): Origin => ({ file: cFile, field: `${prefix}${f}` });
  let gpus = c.gpus as number | undefined;
  let gpusOrigin = origin('gpus');
  // Absent: the calibration's node (network.node_gpus), known once the calibration is read.
  let perNode = c.gpus_per_node as number | undefined;
  let perNodeOrigin = origin('gpus_per_node');
  let domain = c.nvlink_domain as number | undefined;
  let domainOrigin = origin('nvlink_domain');
  /** How messages name a domain the job did not state (the calibration's default). */
  let domainNote: string | null = null;
  let gpu = (c.gpu as string | undefined) ?? DEFAULT_GPU;
  let gpuOrigin = origin('gpu');
  // A path is relative to the file that names it. A plans file names the copies `tune --out` / `check --update`
  // put in its folder (withCalibrationCopies), and may name no other file; they are not read here (export reads the
  // GPU's architecture from the base).
  const recorded = pathsInside !== undefined;
  if (isCalibrationPath(gpu)) gpu = resolveInputPath(gpu, cFile, `${prefix}gpu`, 'calibration file', pathsInside);
  let overlays = ((c.calibrations as string[] | undefined) ?? [])
    .map((f, i) => resolveInputPath(f, cFile, `${prefix}calibrations[${i}]`, 'calibration overlay file', pathsInside));
  let overlaysOrigin = origin('calibrations');

  const oGpus = overrideInt(overrides, 'gpus', file);
  if (oGpus !== undefined) {
    gpus = oGpus;
    gpusOrigin = { file, field: OVERRIDE_FLAGS.gpus };
  }
  const oPerNode = overrideInt(overrides, 'gpusPerNode', file);
  if (oPerNode !== undefined) {
    perNode = oPerNode;
    perNodeOrigin = { file, field: OVERRIDE_FLAGS.gpusPerNode };
  }
  const oDomain = overrideInt(overrides, 'nvlinkDomain', file);
  if (oDomain !== undefined) {
    domain = oDomain;
    domainOrigin = { file, field: OVERRIDE_FLAGS.nvlinkDomain };
  }
  if (overrides.gpu !== undefined) {
    const g = overrides.gpu;
    if (typeof g !== 'string' || (!isCalibrationPath(g) && !new RegExp(NAME_PATTERN).test(g))) {
      throw inputError(file, OVERRIDE_FLAGS.gpu, `must be ${allowedText(CLUSTER_FIELDS.gpu)} (got ${gotText(g)})`);
    }
    if (g !== gpu) {
      // Another GPU is another system: its node and NVLink domain come from its calibration, not from the file's
      // description of the old one, unless given on the command line too.
      if (oPerNode === undefined) perNode = undefined;
      if (oDomain === undefined) domain = undefined;
    }
    gpu = g;
    gpuOrigin = { file, field: OVERRIDE_FLAGS.gpu };
  }
  if (overrides.calibrations !== undefined) {
    overlays = [...overrides.calibrations];
    overlaysOrigin = { file, field: OVERRIDE_FLAGS.calibrations };
  }
  // a full calibration first in the list is the base (as --gpu PATH would give it)
  if (!recorded && overlays.length > 0 && fs.existsSync(overlays[0]) && !isOverlayDoc(readCalibrationDoc(overlays[0], overlays[0]))) {
    gpu = overlays[0];
    gpuOrigin = overlaysOrigin;
    overlays = overlays.slice(1);
  }

  if (gpus === undefined) {
    throw inputError(file, 'cluster.gpus', 'missing: set cluster.gpus in the job file or pass --gpus');
  }
  const gpuCount = gpus;
  /** The node and domain shape checks, then the cluster as the job will hold it. */
  const spec = (nodeGpus: number): ClusterSpec => {
    const n = perNode ?? nodeGpus;
    const wholeNodes = gpuCount % n === 0;
    const partialNode = gpuCount < n && n % gpuCount === 0;
    if (!wholeNodes && !partialNode) {
      const perNodeName = perNodeOrigin.field.startsWith('--') ? perNodeOrigin.field : 'gpus_per_node';
      throw inputError(
        gpusOrigin.file,
        gpusOrigin.field,
        `must be a multiple of ${perNodeName} (${n}), or a divisor of it for one partial node (got ${gpuCount})`,
      );
    }
    if (domain !== undefined) checkDomainShape(domain, domainOrigin, n, perNodeOrigin, gpuCount, gpusOrigin, domainNote);
    const out: ClusterSpec = { gpu, gpus: gpuCount, gpus_per_node: n };
    if (domain !== undefined) out.nvlink_domain = domain;
    if (overlays.length > 0) out.calibrations = overlays;
    return out;
  };

  if (recorded) {
    if (isCalibrationPath(gpu) && !/\.ya?ml$/.test(gpu)) throw inputError(gpuOrigin.file, gpuOrigin.field, `must be a calibration name or the path of a .yaml file (got ${excerpt(gpu)})`);
    // a recorded cluster states gpus_per_node (every cluster moefold writes does)
    if (isCalibrationPath(gpu) || overlays.length > 0) return spec(DEFAULT_GPUS_PER_NODE);
  }
  if (isCalibrationPath(gpu)) {
    if (!fs.existsSync(gpu)) throw inputError(gpuOrigin.file, gpuOrigin.field, `calibration file not found: ${pathText(gpu)}`);
  } else {
    const known = calibrationNames(costModelsDir);
    if (!known.includes(gpu)) {
      const near = gpu.length <= 64 ? closestName(gpu, known) : undefined;
      const hint = near !== undefined ? `did you mean ${near}? ` : '';
      const list = known.length > 0 ? `available: ${known.join(', ')}, or the path of a calibration file` : `no cost models found in ${costModelsDir}`;
      throw inputError(gpuOrigin.file, gpuOrigin.field, `unknown GPU ${excerpt(gpu)} (${hint}${list})`);
    }
  }
  for (const f of overlays) {
    if (!fs.existsSync(f)) throw inputError(overlaysOrigin.file, overlaysOrigin.field, `calibration overlay file not found: ${pathText(f)}`);
  }
  // More GPUs per node than one NVLink domain of this GPU holds: the calibration cannot describe the cluster (its
  // intra-node bandwidths would be applied to GPUs that are really reached over the network).
  const cal = loadCalibrationStack(gpu, overlays, costModelsDir);
  const calDomain = cal.nvlinkDomainGpus;
  if (domain === undefined && (perNode === undefined || perNode === cal.nodeGpus) && cal.defaultNvlinkDomain > cal.nodeGpus) {
    // the calibration's system (GB200 NVL72: 64-GPU domains of trays of 4) unless the job states its domain or
    // nodes of another size
    domain = cal.defaultNvlinkDomain;
    domainOrigin = { file: gpuOrigin.file, field: gpuOrigin.field };
    domainNote = `nvlink_domain (${domain}: the ${calibrationLabel(cal)} default, network.default_nvlink_domain; set nvlink_domain or --nvlink-domain for another)`;
  }
  const out = spec(cal.nodeGpus);
  perNode = out.gpus_per_node;
  if (perNode > calDomain) {
    throw inputError(perNodeOrigin.file, perNodeOrigin.field, `${perNode} GPUs per node, but the ${calibrationLabel(cal)} calibration describes nodes `
      + `of ${calDomain} NVLink-connected GPUs (network.nvlink_domain_gpus): use at most ${calDomain}, or a calibration of your node`);
  }
  if (domain !== undefined && domain > calDomain) {
    throw inputError(domainOrigin.file, domainOrigin.field, `must be at most ${calDomain}: the ${calibrationLabel(cal)} calibration's NVLink `
      + `domain holds ${calDomain} GPUs (network.nvlink_domain_gpus) (got ${domain})`);
  }
  return out;
}

/**
 * The NVLink domain is whole nodes (a GB200 NVL72 domain is compute trays of 4 GPUs), and the job fills whole
 * domains or lies inside one: Megatron lays ranks out contiguously, so with 1,024 GPUs on 72-GPU domains (14 racks
 * and 16 GPUs) the parallel groups would straddle racks unevenly. NVIDIA's GB200 practice for large jobs is 16 of
 * the 18 trays of a rack, 64 GPUs (Slurm --segment=16), so that power-of-two groups stay inside a domain.
 */
function checkDomainShape(domain: number, at: Origin, perNode: number, perNodeAt: Origin, gpus: number, gpusAt: Origin,
  defaultNote: string | null): void {
  const perNodeName = perNodeAt.field.startsWith('--') ? perNodeAt.field : 'gpus_per_node';
  const name = defaultNote ?? (at.field.startsWith('--') ? at.field : 'nvlink_domain');
  if (domain % perNode !== 0) {
    if (defaultNote !== null) {
      throw inputError(perNodeAt.file, perNodeAt.field, `must divide ${name}: an NVLink domain is whole nodes (got ${perNode})`);
    }
    throw inputError(at.file, at.field, `must be a multiple of ${perNodeName} (${perNode}): an NVLink domain is whole nodes (got ${domain})`);
  }
  if (gpus > domain && gpus % domain !== 0) {
    const hint = domain === 72 && gpus % 64 === 0 && 64 % perNode === 0 ? `; on NVL72 racks use 64 of the 72 GPUs (${name} 64)` : '';
    throw inputError(gpusAt.file, gpusAt.field,
      `must be a multiple of ${defaultNote === null ? `${name} (${domain})` : name}, or at most it for one partial NVLink domain (got ${gpus})${hint}`);
  }
}
