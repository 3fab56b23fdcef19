import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A sandbox for running the generated launch scripts: stand-in torchrun/srun/scontrol on PATH (torchrun and srun
 * record their arguments and environment into $CAPTURE_DIR) and a Megatron-LM dir holding pretrain_gpt.py.
 */
export function launcherSandbox(): { dir: string; bin: string; megatron: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-export-'));
  const bin = path.join(dir, 'bin');
  const megatron = path.join(dir, 'Megatron-LM');
  fs.mkdirSync(bin);
  fs.mkdirSync(megatron);
  fs.writeFileSync(path.join(megatron, 'pretrain_gpt.py'), '# stand-in\n');
  fs.writeFileSync(path.join(bin, 'torchrun'), [
    '#!/usr/bin/env bash',
    'printf \'%s\\n\' "$@" > "$CAPTURE_DIR/torchrun.args"',
    'printf \'CUDA_DEVICE_MAX_CONNECTIONS=%s\\nPYTORCH_CUDA_ALLOC_CONF=%s\\nNCCL_NVLS_ENABLE=%s\\n\' \\',
    '  "${CUDA_DEVICE_MAX_CONNECTIONS-}" "${PYTORCH_CUDA_ALLOC_CONF-}" "${NCCL_NVLS_ENABLE-}" > "$CAPTURE_DIR/torchrun.env"',
    '',
  ].join('\n'), { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'srun'), [
    '#!/usr/bin/env bash',
    'printf \'%s\\n\' "$@" > "$CAPTURE_DIR/srun.args"',
    'while [[ $# -gt 0 && "$1" == -* ]]; do shift; done',
    'SLURM_NODEID=0 exec "$@"',
    '',
  ].join('\n'), { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'scontrol'), '#!/usr/bin/env bash\nprintf \'gpu-node-017\\ngpu-node-018\\n\'\n', { mode: 0o755 });
  return { dir, bin, megatron };
}

