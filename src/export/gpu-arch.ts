/**
 * CUDA compute-capability major of a cluster's GPU, from its calibration name (ClusterSpec.gpu, e.g. "h100-sxm").
 * Launch configs depend on it: Megatron requires CUDA_DEVICE_MAX_CONNECTIONS=1 with TP or CP only before
 * Blackwell (arguments.py, `get_device_arch_version() < 10`), and the FP8 recipe differs (blockwise scaling on
 * Hopper, MXFP8 on Blackwell). This is a fact about the chip, not a calibration number.
 */
export function gpuArchMajor(gpu: string): number {
  const g = gpu.toLowerCase();
  if (/^g?b\d{3}/.test(g)) return 10; // B200, B300, GB200, GB300
  if (/^g?h\d{2,3}/.test(g)) return 9; // H100, H200, H800, H20, GH200
  if (/^a\d{2,3}/.test(g)) return 8; // A100, A800, A10
  return 9; // unknown: Hopper's rules are the strictest (the env var is required, and harmless elsewhere)
}
