/**
 * CUDA compute-capability major of a cluster's GPU (ClusterSpec.gpu names its calibration file), read from the
 * calibration's `compute.cuda_compute_capability_major`. Launch configs depend on it: Megatron requires
 * CUDA_DEVICE_MAX_CONNECTIONS=1 with TP or CP only before Blackwell (arguments.py, `get_device_arch_version() <
 * 10`), and the FP8 recipe differs (blockwise scaling on Hopper, MXFP8 on Blackwell). A GPU without a calibration
 * file is an InputError naming the calibrations that exist.
 */
import { loadCalibration } from '../cost/calibration.js';

const cache = new Map<string, number>();

export function gpuArchMajor(gpu: string): number {
  let arch = cache.get(gpu);
  if (arch === undefined) {
    arch = loadCalibration(gpu).cudaComputeCapabilityMajor;
    cache.set(gpu, arch);
  }
  return arch;
}
