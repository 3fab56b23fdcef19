/**
 * NCCL's device buffers (device side: cudaMalloc'd by NCCL, outside PyTorch's caching allocator), per rank, for the
 * communicators a plan uses. NCCL connects lazily (NCCL_RUNTIME_CONNECT=1, the default: src/init.cc), so a
 * communicator holds buffers only for what it runs:
 *  - a collective communicator (ring all-reduce / all-gather / reduce-scatter: TP, DP×CP, EDP, ETP, the model-parallel
 *    group of the gradient-norm all-reduce, ETP×EP for the allgather dispatcher) one receive connection per ring
 *    channel, each with a buffer per protocol: LL (NCCL_LL_LINES_PER_THREAD 8 × NCCL_LL_MAX_NTHREADS 512 ×
 *    NCCL_STEPS 8 × 16 B = 512 KiB), LL128 (NCCL_LL128_ELEMS_PER_THREAD 120 × NCCL_LL128_MAX_NTHREADS 640 × 8 steps
 *    × 8 B = 4.6875 MiB) and Simple (NCCL_BUFFSIZE, 4 MiB): src/init.cc computeBuffSizes, src/include/device.h;
 *      B_coll = channels · (LL + LL128 + NCCL_BUFFSIZE)   (0 for a communicator of one rank);
 *  - point-to-point (pipeline send/recv, ring attention's K/V exchange under CP, the alltoall dispatcher's
 *    all-to-all) one Simple buffer of NCCL_STEPS × the P2P chunk per channel per peer (512 KiB chunks inside an
 *    NVLink domain, 128 KiB when the communicator spans nodes: NCCL_P2P_NVL_CHUNKSIZE / NCCL_P2P_NET_CHUNKSIZE):
 *      B_p2p = peers · channels_per_peer · 8 · chunk.
 * NVLS (NVLink SHARP) buffers are not counted: the calibration assumes NCCL_NVLS_ENABLE=0, as NVIDIA's configs set.
 */
import type { Calibration } from '../calibration.js';

/** NCCL_STEPS (src/include/device.h): slots of a connection's buffer. */
export const NCCL_STEPS = 8;

/** LL protocol buffer per connection: 8 lines/thread × 512 threads × 8 steps × 16 B (src/init.cc DEFAULT_LL_BUFFSIZE). */
export const NCCL_LL_BUFFER_BYTES = 8 * 512 * NCCL_STEPS * 16;

/** LL128 protocol buffer per connection: 120 elements/thread × 640 threads × 8 steps × 8 B (DEFAULT_LL128_BUFFSIZE). */
export const NCCL_LL128_BUFFER_BYTES = 120 * 640 * NCCL_STEPS * 8;

/** P2P chunk inside one NVLink domain (NCCL_P2P_NVL_CHUNKSIZE default, src/init.cc). */
export const NCCL_P2P_NVL_CHUNK_BYTES = 512 * 1024;

/** P2P chunk of a communicator that spans nodes (NCCL_P2P_NET_CHUNKSIZE default, src/init.cc). */
export const NCCL_P2P_NET_CHUNK_BYTES = 128 * 1024;

/** B_coll of one collective communicator of `size` ranks. */
export function ncclCollectiveBufferBytes(size: number, cal: Calibration): number {
  if (size <= 1) return 0;
  return cal.ncclRingChannels * (NCCL_LL_BUFFER_BYTES + NCCL_LL128_BUFFER_BYTES + cal.ncclBuffsizeBytes);
}

/** B_p2p of `peers` point-to-point peers on one communicator (`interNode`: it spans nodes). */
export function ncclP2pBufferBytes(peers: number, interNode: boolean, cal: Calibration): number {
  if (peers <= 0) return 0;
  return peers * cal.ncclP2pChannelsPerPeer * NCCL_STEPS *
    (interNode ? NCCL_P2P_NET_CHUNK_BYTES : NCCL_P2P_NVL_CHUNK_BYTES);
}

/** Ring neighbours a rank exchanges with in a group of `size` (prev and next; one when they coincide). */
export function ringPeers(size: number): number {
  return size <= 1 ? 0 : size === 2 ? 1 : 2;
}
