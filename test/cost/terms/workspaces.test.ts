import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCalibration } from '../../../src/cost/calibration.js';
import { cublasWorkspaceBytes, globalMemoryBufferBytes, userBufferBytes } from '../../../src/cost/terms/workspaces.js';

const cal = loadCalibration('h100-sxm');
const MiB = 2 ** 20;
const TE = 32 * MiB + 1024;

test('cuBLAS workspaces on Hopper: 2 PyTorch handles x 32 MiB + TE (1 + 4 grouped-GEMM streams + 3 UB streams) x (32 MiB + 1 KiB)', () => {
  assert.equal(cublasWorkspaceBytes(false, false, cal), 2 * 32 * MiB + TE);
  assert.equal(cublasWorkspaceBytes(true, false, cal), 2 * 32 * MiB + 5 * TE);
  assert.equal(cublasWorkspaceBytes(true, true, cal), 2 * 32 * MiB + 8 * TE);
});

test("Megatron's global memory buffer: the output layer's SP-gathered input on the last stage only", () => {
  assert.equal(globalMemoryBufferBytes(8192, 8192, true, true), 2 * 8192 * 8192); // 128 MiB
  assert.equal(globalMemoryBufferBytes(8192, 8192, false, true), 0);
  assert.equal(globalMemoryBufferBytes(8192, 8192, true, false), 0);
});

test('TE userbuffers: tokens x h x 20 B in bf16 (10 bf16 buffers), 14 B under FP8 (6 FP8 all-gather buffers)', () => {
  assert.equal(userBufferBytes(8192, 8192, false, true), 8192 * 8192 * 20); // 1.25 GiB
  assert.equal(userBufferBytes(8192, 8192, true, true), 8192 * 8192 * 14);
  assert.equal(userBufferBytes(8192, 8192, true, false), 0);
});
