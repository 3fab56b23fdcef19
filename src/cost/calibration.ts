/**
 * Hardware calibration: every number the cost models use, read from cost-models/<gpu>.yaml.
 * The YAML groups entries by section, each entry `{ value: number, source: string }`; the loader flattens them
 * into one object of plain numbers (camelCase fields) so the hot path reads fields, never maps.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import type { ValidateFunction } from 'ajv';
import { compiledValidator } from '../validate/compiled.js';
import { COST_MODELS_DIR, calibrationNames } from '../paths.js';
import { inputError } from '../job/errors.js';
import { readInputText } from '../job/read-file.js';

export interface Calibration {
  /** File name without .yaml (e.g. 'h100-sxm'). */
  name: string;
  description: string;
  /** Path the calibration was read from (for messages). */
  file: string;
  /** The overlay files applied over it, in order (empty for a calibration as its file holds it). */
  overlays: readonly CalibrationOverlayRef[];
  // compute
  /** CUDA compute capability major of the GPU (9 Hopper, 10 Blackwell): a chip fact the launch configs depend on. */
  cudaComputeCapabilityMajor: number;
  denseBf16PeakFlops: number;
  denseFp8PeakFlops: number;
  gemmEffMaxBf16: number;
  gemmEffCapBf16: number;
  gemmEffMaxFp8: number;
  gemmEffCapFp8: number;
  gemmHalfM: number;
  gemmHalfN: number;
  gemmHalfK: number;
  gemmHalfGflopBf16: number;
  gemmHalfGflopFp8: number;
  groupedGemmEffMaxBf16: number;
  groupedGemmEffMaxFp8: number;
  groupedGemmHalfRows: number;
  flashAttnFwdEffHd64: number;
  flashAttnFwdEffHd128: number;
  flashAttnFwdEffHd256: number;
  flashAttnFwdHalfSeq: number;
  flashAttnBwdEffHd64: number;
  flashAttnBwdEffHd128: number;
  flashAttnBwdEffHd256: number;
  flashAttnBwdHalfSeq: number;
  /** Fit candidate: the container's attention kernel (TE / cuDNN) relative to FlashAttention-3's curves. */
  flashAttnSoftwareScale: number;
  hbmBytesPerS: number;
  fp8CastBytesPerElement: number;
  // memory
  hbmCapacityBytes: number;
  reservedBytes: number;
  cudaContextBytes: number;
  cublasWorkspaceBytes: number;
  teCublasWorkspaceBytes: number;
  ncclBuffsizeBytes: number;
  ncclRingChannels: number;
  ncclP2pChannelsPerPeer: number;
  allocatorFragmentationFraction: number;
  fp8WeightCopyBytesPerParam: number;
  // network
  nvlinkAllreduceBusbw: number;
  nvlinkAllgatherBusbw: number;
  nvlinkReducescatterBusbw: number;
  nvlinkAlltoallBusbw: number;
  nvlinkP2pBytesPerS: number;
  nvlinkAlphaS: number;
  /** GPUs that share one NVLink domain (a node): the most `gpus_per_node` this calibration can describe. */
  nvlinkDomainGpus: number;
  /** GPUs per node (HGX board, compute tray) of the system described: a cluster's default gpus_per_node. */
  nodeGpus: number;
  /** The NVLink domain a cluster of this system has unless it sets nvlink_domain (8 on HGX; 64 of 72 on NVL72). */
  defaultNvlinkDomain: number;
  nicBytesPerS: number;
  nicsPerNode: number;
  ibAlphaBaseS: number;
  ibAlphaPerLog2NodeS: number;
  epA2aNicBytesPerSNccl: number;
  epA2aNicBytesPerSFlex: number;
  epA2aNvlinkBusbwFlex: number;
  epA2aAlphaS: number;
  /** NCCL tuner latency model, Simple protocol (nccl src/graph/tuning.cc, h100.md §4.2 [S20]): DP collectives. */
  ncclBaseLatencySimpleS: number;
  ncclNvlinkStepLatencyRingSimpleS: number;
  ncclNvlinkStepLatencyTreeSimpleS: number;
  ncclNetStepLatencySimpleS: number;
  ncclNetOverheadS: number;
  /** Tree all-reduce bandwidth as a share of the ring's. */
  ncclTreeAllreduceBwFraction: number;
  // overlap
  dpOverlapMaxFraction: number;
  tpOverlapFraction: number;
  /** Fixed cost of one CP ring step (launches, stream/event waits around the send/recv and the block kernel). */
  cpStepOverheadS: number;
  epOverlapFraction: number;
  epA2aOverlapFraction: number;
  ppOverlapFraction: number;
  smStealFraction: number;
  /** SMs of the GPU (the share a communication kernel takes from concurrent compute is its SMs / this). */
  gpuSmCount: number;
  /** SMs the flex dispatcher's DeepEP / HybridEP kernels occupy. */
  epFlexDeepepSms: number;
  epFlexHybridepSms: number;
  // overhead
  denseLayerOverheadS: number;
  moeLayerOverheadS: number;
  moeRoutedTokenOverheadS: number;
  stepOverheadS: number;
  optimizerBytesPerParam: number;
  gradReduceBytesPerParam: number;
  paramGatherBytesPerParam: number;
  // moe
  routingImbalanceReal: number;
  routingImbalanceForced: number;
  alltoallSortPasses: number;
}

/** One overlay applied to a calibration: its `name` field and the path it was read from. */
export interface CalibrationOverlayRef { name: string; file: string }

type NumericField = Exclude<keyof Calibration, 'name' | 'description' | 'file' | 'overlays'>;

/** [yaml section, yaml key, Calibration field, min, max (inclusive), integer] */
type FieldSpec = readonly [string, string, NumericField, number, number, boolean];

const FRACTION = [0, 1] as const;
const POS = [Number.MIN_VALUE, Number.MAX_VALUE] as const;
const NONNEG = [0, Number.MAX_VALUE] as const;

/** Every calibration entry: where it lives in the YAML, its field, and what values are allowed. */
export const CALIBRATION_FIELDS: readonly FieldSpec[] = [
  ['compute', 'cuda_compute_capability_major', 'cudaComputeCapabilityMajor', 7, 20, true],
  ['compute', 'dense_bf16_peak_flops', 'denseBf16PeakFlops', ...POS, false],
  ['compute', 'dense_fp8_peak_flops', 'denseFp8PeakFlops', ...POS, false],
  ['compute', 'gemm_eff_max_bf16', 'gemmEffMaxBf16', 0.01, 1, false],
  ['compute', 'gemm_eff_cap_bf16', 'gemmEffCapBf16', 0.01, 1, false],
  ['compute', 'gemm_eff_max_fp8', 'gemmEffMaxFp8', 0.01, 1, false],
  ['compute', 'gemm_eff_cap_fp8', 'gemmEffCapFp8', 0.01, 1, false],
  ['compute', 'gemm_half_m', 'gemmHalfM', ...NONNEG, false],
  ['compute', 'gemm_half_n', 'gemmHalfN', ...NONNEG, false],
  ['compute', 'gemm_half_k', 'gemmHalfK', ...NONNEG, false],
  ['compute', 'gemm_half_gflop_bf16', 'gemmHalfGflopBf16', ...NONNEG, false],
  ['compute', 'gemm_half_gflop_fp8', 'gemmHalfGflopFp8', ...NONNEG, false],
  ['compute', 'grouped_gemm_eff_max_bf16', 'groupedGemmEffMaxBf16', 0.01, 1, false],
  ['compute', 'grouped_gemm_eff_max_fp8', 'groupedGemmEffMaxFp8', 0.01, 1, false],
  ['compute', 'grouped_gemm_half_rows', 'groupedGemmHalfRows', 1, 100000, false],
  ['compute', 'flash_attn_fwd_eff_hd64', 'flashAttnFwdEffHd64', 0.01, 1, false],
  ['compute', 'flash_attn_fwd_eff_hd128', 'flashAttnFwdEffHd128', 0.01, 1, false],
  ['compute', 'flash_attn_fwd_eff_hd256', 'flashAttnFwdEffHd256', 0.01, 1, false],
  ['compute', 'flash_attn_fwd_half_seq', 'flashAttnFwdHalfSeq', ...NONNEG, false],
  ['compute', 'flash_attn_bwd_eff_hd64', 'flashAttnBwdEffHd64', 0.01, 1, false],
  ['compute', 'flash_attn_bwd_eff_hd128', 'flashAttnBwdEffHd128', 0.01, 1, false],
  ['compute', 'flash_attn_bwd_eff_hd256', 'flashAttnBwdEffHd256', 0.01, 1, false],
  ['compute', 'flash_attn_bwd_half_seq', 'flashAttnBwdHalfSeq', ...NONNEG, false],
  ['compute', 'flash_attn_software_scale', 'flashAttnSoftwareScale', 0.01, 1, false],
  ['compute', 'hbm_bytes_per_s', 'hbmBytesPerS', ...POS, false],
  ['compute', 'fp8_cast_bytes_per_element', 'fp8CastBytesPerElement', ...NONNEG, false],
  ['memory', 'hbm_capacity_bytes', 'hbmCapacityBytes', ...POS, false],
  ['memory', 'reserved_bytes', 'reservedBytes', ...NONNEG, false],
  ['memory', 'cuda_context_bytes', 'cudaContextBytes', ...NONNEG, false],
  ['memory', 'cublas_workspace_bytes', 'cublasWorkspaceBytes', ...NONNEG, false],
  ['memory', 'te_cublas_workspace_bytes', 'teCublasWorkspaceBytes', ...NONNEG, false],
  ['memory', 'nccl_buffsize_bytes', 'ncclBuffsizeBytes', ...NONNEG, false],
  ['memory', 'nccl_ring_channels', 'ncclRingChannels', 1, 64, true],
  ['memory', 'nccl_p2p_channels_per_peer', 'ncclP2pChannelsPerPeer', 1, 64, true],
  ['memory', 'allocator_fragmentation_fraction', 'allocatorFragmentationFraction', ...FRACTION, false],
  ['memory', 'fp8_weight_copy_bytes_per_param', 'fp8WeightCopyBytesPerParam', 0, 4, false],
  ['network', 'nvlink_allreduce_busbw', 'nvlinkAllreduceBusbw', ...POS, false],
  ['network', 'nvlink_allgather_busbw', 'nvlinkAllgatherBusbw', ...POS, false],
  ['network', 'nvlink_reducescatter_busbw', 'nvlinkReducescatterBusbw', ...POS, false],
  ['network', 'nvlink_alltoall_busbw', 'nvlinkAlltoallBusbw', ...POS, false],
  ['network', 'nvlink_p2p_bytes_per_s', 'nvlinkP2pBytesPerS', ...POS, false],
  ['network', 'nvlink_alpha_s', 'nvlinkAlphaS', ...NONNEG, false],
  ['network', 'nvlink_domain_gpus', 'nvlinkDomainGpus', 1, 1024, true],
  ['network', 'node_gpus', 'nodeGpus', 1, 1024, true],
  ['network', 'default_nvlink_domain', 'defaultNvlinkDomain', 1, 1024, true],
  ['network', 'nic_bytes_per_s', 'nicBytesPerS', ...POS, false],
  ['network', 'nics_per_node', 'nicsPerNode', 1, 1024, true],
  ['network', 'ib_alpha_base_s', 'ibAlphaBaseS', ...NONNEG, false],
  ['network', 'ib_alpha_per_log2_node_s', 'ibAlphaPerLog2NodeS', ...NONNEG, false],
  ['network', 'ep_a2a_nic_bytes_per_s_nccl', 'epA2aNicBytesPerSNccl', ...POS, false],
  ['network', 'ep_a2a_nic_bytes_per_s_flex', 'epA2aNicBytesPerSFlex', ...POS, false],
  ['network', 'ep_a2a_nvlink_busbw_flex', 'epA2aNvlinkBusbwFlex', ...POS, false],
  ['network', 'ep_a2a_alpha_s', 'epA2aAlphaS', ...NONNEG, false],
  ['network', 'nccl_base_latency_simple_s', 'ncclBaseLatencySimpleS', ...NONNEG, false],
  ['network', 'nccl_nvlink_step_latency_ring_simple_s', 'ncclNvlinkStepLatencyRingSimpleS', ...NONNEG, false],
  ['network', 'nccl_nvlink_step_latency_tree_simple_s', 'ncclNvlinkStepLatencyTreeSimpleS', ...NONNEG, false],
  ['network', 'nccl_net_step_latency_simple_s', 'ncclNetStepLatencySimpleS', ...NONNEG, false],
  ['network', 'nccl_net_overhead_s', 'ncclNetOverheadS', ...NONNEG, false],
  ['network', 'nccl_tree_allreduce_bw_fraction', 'ncclTreeAllreduceBwFraction', 0.01, 1, false],
  ['overlap', 'dp_overlap_max_fraction', 'dpOverlapMaxFraction', ...FRACTION, false],
  ['overlap', 'tp_overlap_fraction', 'tpOverlapFraction', ...FRACTION, false],
  ['overlap', 'cp_step_overhead_s', 'cpStepOverheadS', ...NONNEG, false],
  ['overlap', 'ep_overlap_fraction', 'epOverlapFraction', ...FRACTION, false],
  ['overlap', 'ep_a2a_overlap_fraction', 'epA2aOverlapFraction', ...FRACTION, false],
  ['overlap', 'pp_overlap_fraction', 'ppOverlapFraction', ...FRACTION, false],
  ['overlap', 'sm_steal_fraction', 'smStealFraction', ...FRACTION, false],
  ['overlap', 'gpu_sm_count', 'gpuSmCount', 1, 1024, true],
  ['overlap', 'ep_flex_deepep_sms', 'epFlexDeepepSms', 0, 1024, true],
  ['overlap', 'ep_flex_hybridep_sms', 'epFlexHybridepSms', 0, 1024, true],
  ['overhead', 'dense_layer_overhead_s', 'denseLayerOverheadS', ...NONNEG, false],
  ['overhead', 'moe_layer_overhead_s', 'moeLayerOverheadS', ...NONNEG, false],
  ['overhead', 'moe_routed_token_overhead_s', 'moeRoutedTokenOverheadS', 0, 1e-8, false],
  ['overhead', 'step_overhead_s', 'stepOverheadS', ...NONNEG, false],
  ['overhead', 'optimizer_bytes_per_param', 'optimizerBytesPerParam', ...NONNEG, false],
  ['overhead', 'grad_reduce_bytes_per_param', 'gradReduceBytesPerParam', ...POS, false],
  ['overhead', 'param_gather_bytes_per_param', 'paramGatherBytesPerParam', ...POS, false],
  ['moe', 'routing_imbalance_real', 'routingImbalanceReal', 0, 10, false],
  ['moe', 'routing_imbalance_forced', 'routingImbalanceForced', 0, 10, false],
  ['moe', 'alltoall_sort_passes', 'alltoallSortPasses', 0, 8, true],
];

const SECTIONS = [...new Set(CALIBRATION_FIELDS.map((f) => f[0]))];

export function buildSchema(): object {
  const entry = {
    type: 'object',
    required: ['value', 'source'],
    additionalProperties: false,
    properties: {
      value: { type: 'number' },
      unit: { type: 'string' },
      source: { type: 'string', minLength: 8 },
    },
  };
  const sections: Record<string, object> = {};
  for (const sec of SECTIONS) {
    const keys = CALIBRATION_FIELDS.filter((f) => f[0] === sec).map((f) => f[1]);
    sections[sec] = {
      type: 'object',
      required: keys,
      additionalProperties: false,
      properties: Object.fromEntries(keys.map((k) => [k, entry])),
    };
  }
  return {
    type: 'object',
    required: ['name', 'description', ...SECTIONS],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1 }, description: { type: 'string' }, ...sections },
  };
}

/** An overlay: `overlay_of` (the base calibration's name), and any entries of the full schema, none required. */
export function buildOverlaySchema(): object {
  const full = buildSchema() as { properties: Record<string, { properties?: object; required?: string[] }> };
  const sections: Record<string, object> = {};
  for (const sec of SECTIONS) sections[sec] = { ...full.properties[sec], required: [] };
  return {
    type: 'object',
    required: ['name', 'overlay_of'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1 }, description: { type: 'string' },
      overlay_of: { type: 'string', minLength: 1 },
      // the overlays it was fitted over, in order (names): it applies only after them
      overlays_before: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 },
      ...sections,
    },
  };
}

// Compiled on first use: worker threads import this module for its types and never validate a file.
let validator: ValidateFunction | null = null;
let overlayValidator: ValidateFunction | null = null;
function validateCalibrationDoc(doc: unknown): ValidateFunction {
  validator ??= compiledValidator('calibration', 'full', buildSchema());
  validator(doc);
  return validator;
}
function validateOverlayDoc(doc: unknown): ValidateFunction {
  overlayValidator ??= compiledValidator('calibration', 'overlay', buildOverlaySchema());
  overlayValidator(doc);
  return overlayValidator;
}

function ajvProblem(err: { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }):
  [string, string] {
  const field = err.instancePath.replace(/^\//, '').split('/').join('.');
  switch (err.keyword) {
    case 'required':
      return [field ? `${field}.${String(err.params.missingProperty)}` : String(err.params.missingProperty),
        'is required'];
    case 'additionalProperties': {
      const extra = String(err.params.additionalProperty);
      return [field ? `${field}.${extra}` : extra, 'is not a known calibration field'];
    }
    case 'type':
      return [field, `must be a ${String(err.params.type)}`];
    case 'minLength':
      return [field, `must be a non-empty string of at least ${String(err.params.limit)} characters`];
    default:
      return [field, err.message ?? 'is invalid'];
  }
}

/** The first schema problem of a validated document, as one InputError. */
function throwFirstProblem(validated: ValidateFunction, file: string): void {
  if (validated.errors && validated.errors.length > 0) {
    const [field, problem] = ajvProblem(validated.errors[0] as never);
    throw inputError(file, field, problem);
  }
}

/** Checks one entry's value against its field's range; returns it. */
function checkedValue(spec: FieldSpec, v: number, file: string): number {
  const [sec, key, , min, max, integer] = spec;
  const where = `${sec}.${key}.value`;
  if (!Number.isFinite(v)) throw inputError(file, where, `must be a finite number (got ${String(v)})`);
  if (integer && !Number.isInteger(v)) throw inputError(file, where, `must be an integer (got ${v})`);
  if (v < min || v > max) {
    const range = max === Number.MAX_VALUE ? (min === 0 ? '>= 0' : '> 0') : `in [${min}, ${max}]`;
    throw inputError(file, where, `must be ${range} (got ${v})`);
  }
  return v;
}

/** What must hold between entries (checked on a whole calibration and again after each overlay). */
function checkConsistent(cal: Calibration, file: string): Calibration {
  if (cal.reservedBytes >= cal.hbmCapacityBytes) {
    throw inputError(file, 'memory.reserved_bytes.value', `must be below memory.hbm_capacity_bytes (got ${cal.reservedBytes})`);
  }
  return cal;
}

/** Validates a parsed calibration document and flattens it. `file` is used in error messages. */
export function calibrationFromDoc(doc: unknown, file: string): Calibration {
  throwFirstProblem(validateCalibrationDoc(doc), file);
  const d = doc as Record<string, unknown>;
  const out: Record<string, unknown> = {
    name: d.name as string,
    description: d.description as string,
    file,
    overlays: [],
  };
  for (const spec of CALIBRATION_FIELDS) {
    const [sec, key, field] = spec;
    out[field] = checkedValue(spec, ((d[sec] as Record<string, { value: number }>)[key]).value, file);
  }
  return checkConsistent(out as unknown as Calibration, file);
}

/** Whether a parsed calibration file is an overlay (it names the calibration it applies to in `overlay_of`). */
export function isOverlayDoc(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && Object.hasOwn(doc, 'overlay_of');
}

/**
 * `base` with the entries of an overlay document (`file` names it in messages) put over it: a copy, the overlay
 * recorded in `overlays`. The overlay must name `base` in `overlay_of`: constants fitted over one GPU's
 * calibration are refused over another's.
 */
export function applyOverlay(base: Calibration, doc: unknown, file: string): Calibration {
  throwFirstProblem(validateOverlayDoc(doc), file);
  const d = doc as Record<string, unknown>;
  if (d.overlay_of !== base.name) {
    throw inputError(file, 'overlay_of', `is ${JSON.stringify(d.overlay_of)}, but it is applied over the ${base.name} `
      + `calibration (${base.file}): an overlay holds constants fitted over the calibration it names`);
  }
  // an overlay `moefold calibrate` fitted over others names them: it applies only after them (one without the
  // field, e.g. written by hand, applies over any overlays of its base)
  const before = d.overlays_before as string[] | undefined;
  const have = base.overlays.map((o) => o.name);
  if (before !== undefined && JSON.stringify(before) !== JSON.stringify(have)) {
    throw inputError(file, 'overlays_before', `it was fitted over ${[base.name, ...before].join(' + ')}, but it is applied over `
      + `${[base.name, ...have].join(' + ')}: give the same overlays before it, in that order`);
  }
  const out: Record<string, unknown> = { ...base, overlays: [...base.overlays, { name: d.name as string, file }] };
  let entries = 0;
  for (const spec of CALIBRATION_FIELDS) {
    const [sec, key, field] = spec;
    const entry = (d[sec] as Record<string, { value: number }> | undefined)?.[key];
    if (entry === undefined) continue;
    out[field] = checkedValue(spec, entry.value, file);
    entries++;
  }
  if (entries === 0) throw inputError(file, '', 'an overlay must set at least one calibration entry');
  return checkConsistent(out as unknown as Calibration, file);
}

/** Reads a calibration or overlay YAML file; `shown` names it in messages. */
export function readCalibrationDoc(file: string, shown: string): unknown {
  if (!fs.existsSync(file)) throw inputError(shown, '', 'no such calibration file');
  // the bounded reader of every input file (regular files only, 16 MiB, UTF-8): a device or a FIFO is refused
  const text = readInputText(file, 'calibration file');
  try {
    return yaml.load(text);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    throw inputError(shown, '', `not valid YAML (${msg})`);
  }
}

/** Whether a cluster's `gpu` names a file (a path) rather than a calibration of cost-models/. */
export function isCalibrationPath(gpu: string): boolean {
  return gpu.endsWith('.yaml') || gpu.endsWith('.yml') || gpu.includes('/') || gpu.includes(path.sep);
}

/** Reads, validates and flattens COST_MODELS_DIR/<gpu>.yaml (or the file `gpu` names, when it is a path). */
export function loadCalibration(gpu: string, costModelsDir: string = COST_MODELS_DIR): Calibration {
  const isPath = isCalibrationPath(gpu);
  const file = isPath ? gpu : path.join(costModelsDir, `${gpu}.yaml`);
  const shown = isPath ? gpu : `cost-models/${gpu}.yaml`;
  if (!fs.existsSync(file)) {
    const known = calibrationNames(costModelsDir);
    throw inputError(shown, '', `no such calibration file (known GPUs: ${known.join(', ') || 'none'})`);
  }
  const doc = readCalibrationDoc(file, shown);
  if (isOverlayDoc(doc)) {
    throw inputError(shown, 'overlay_of', 'this is an overlay (it sets a few entries over another calibration): '
      + 'give the GPU\'s calibration as the base and this file with --calibration');
  }
  return calibrationFromDoc(doc, shown);
}

/** The base calibration `gpu` with the overlay files `overlays` applied in order. */
export function loadCalibrationStack(gpu: string, overlays: readonly string[], costModelsDir: string = COST_MODELS_DIR): Calibration {
  let cal = loadCalibration(gpu, costModelsDir);
  for (const f of overlays) {
    const doc = readCalibrationDoc(f, f);
    if (!isOverlayDoc(doc)) {
      throw inputError(f, 'overlay_of', 'missing: a full calibration can only be the base (give it as cluster.gpu, --gpu, '
        + 'or the first --calibration); an overlay names the calibration it applies to in overlay_of');
    }
    cal = applyOverlay(cal, doc, f);
  }
  return cal;
}

/** The calibration as the header and the JSON name it: the base, then `+ overlay` for each overlay. */
export function calibrationLabel(cal: Calibration): string {
  return [cal.name, ...cal.overlays.map((o) => o.name)].join(' + ');
}
