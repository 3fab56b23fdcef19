/**
 * The shell exports as bash runs them: syntax (bash -n), shellcheck where it is installed, and a dry run with
 * stand-ins for torchrun / srun / scontrol that record what they were given, so the argument list that would
 * reach pretrain_gpt.py is checked against the Megatron rule set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkMegatronArgs, exportPlan, megatronLaunch, type ExportFormat } from '../../src/export/index.js';
import type { Job } from '../../src/job/types.js';
import type { Plan } from '../../src/enumerate/plan.js';
import { deepseekJob, deepseekPlan, GOLDEN_CASES, mixtralJob, mixtralPlan, shapeOf } from './jobs.js';
import { launcherSandbox as sandbox } from './sandbox.js';

const HAS_BASH = spawnSync('bash', ['--version']).status === 0;
const HAS_SHELLCHECK = spawnSync('shellcheck', ['--version']).status === 0;
const SCRIPT_FORMATS: readonly ExportFormat[] = ['megatron', 'torchrun', 'slurm'];

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-export-'));
}

function writeScript(dir: string, format: ExportFormat, job: Job, plan: Plan): string {
  const file = path.join(dir, `plan.${format === 'slurm' ? 'sbatch' : `${format}.sh`}`);
  fs.writeFileSync(file, exportPlan(format, job, shapeOf(job), plan), { mode: 0o755 });
  return file;
}

function run(script: string, sb: { dir: string; bin: string }, env: Record<string, string>): ReturnType<typeof spawnSync> {
  return spawnSync('bash', [script], {
    encoding: 'utf8',
    env: { PATH: `${sb.bin}:${process.env.PATH ?? ''}`, HOME: sb.dir, CAPTURE_DIR: sb.dir, ...env },
  });
}

function readLines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

function readEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readLines(file)) {
    const i = line.indexOf('=');
    if (line.slice(i + 1) !== '') env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

/** Splits what torchrun got into its own flags and the pretrain_gpt.py arguments. */
function splitTorchrun(args: string[]): { torchrun: string[]; script: string; train: string[] } {
  const i = args.findIndex((a) => a.endsWith('/pretrain_gpt.py'));
  assert.ok(i > 0, `pretrain_gpt.py not found in ${args.join(' ')}`);
  return { torchrun: args.slice(0, i), script: args[i], train: args.slice(i + 1) };
}

test('scripts: bash -n accepts every shell export', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const dir = tmpDir();
  for (const c of GOLDEN_CASES) {
    for (const f of SCRIPT_FORMATS) {
      const file = writeScript(dir, f, c.job, c.plan);
      const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${c.name} ${f}: ${r.stderr}`);
    }
  }
});

test('scripts: shellcheck finds nothing', { skip: !HAS_SHELLCHECK && 'shellcheck not installed' }, () => {
  const dir = tmpDir();
  for (const c of GOLDEN_CASES) {
    for (const f of SCRIPT_FORMATS) {
      const file = writeScript(dir, f, c.job, c.plan);
      const r = spawnSync('shellcheck', [file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${c.name} ${f}:\n${r.stdout}${r.stderr}`);
    }
  }
});

test('scripts: the megatron fragment, sourced, holds exactly megatronLaunch\'s arguments and environment', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const dir = tmpDir();
  for (const c of GOLDEN_CASES) {
    const file = writeScript(dir, 'megatron', c.job, c.plan);
    const r = spawnSync('bash', ['-c', 'source "$1"; printf "%s\\n" "${MEGATRON_ARGS[@]}"; env | grep -E "^(CUDA_DEVICE_MAX_CONNECTIONS|PYTORCH_CUDA_ALLOC_CONF|NCCL_NVLS_ENABLE)=" | sort', 'x', file],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(r.status, 0, r.stderr);
    const launch = megatronLaunch(c.job, shapeOf(c.job), c.plan);
    const envLines = Object.entries(launch.env).map(([k, v]) => `${k}=${v}`).sort();
    assert.deepEqual(r.stdout.split('\n').slice(0, -1), [...launch.args, ...envLines]);
  }
});

test('scripts: torchrun launcher with mock data passes the rule set and sets the rendezvous', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const sb = sandbox();
  const file = writeScript(sb.dir, 'torchrun', mixtralJob(), mixtralPlan());
  const r = run(file, sb, {
    MEGATRON_LM_DIR: sb.megatron, DATA_PATH: 'mock', TOKENIZER_TYPE: 'NullTokenizer', CHECKPOINT_DIR: 'none',
    NODE_RANK: '3', MASTER_ADDR: 'node-a', TRAIN_ITERS: '50', LR_WARMUP_ITERS: '5',
  });
  assert.equal(r.status, 0, String(r.stderr));
  const got = splitTorchrun(readLines(path.join(sb.dir, 'torchrun.args')));
  assert.deepEqual(got.torchrun, ['--nnodes', '16', '--nproc_per_node', '8', '--node_rank', '3',
    '--master_addr', 'node-a', '--master_port', '6000']);
  assert.equal(got.script, path.join(sb.megatron, 'pretrain_gpt.py'));
  const env = readEnv(path.join(sb.dir, 'torchrun.env'));
  assert.deepEqual(env, { CUDA_DEVICE_MAX_CONNECTIONS: '1', PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:True', NCCL_NVLS_ENABLE: '0' });
  assert.deepEqual(checkMegatronArgs(got.train, env, 128), []);
  const joined = got.train.join(' ');
  assert.match(joined, /--mock-data --tokenizer-type NullTokenizer --vocab-size 32768 --train-iters 50 /);
  assert.doesNotMatch(joined, /--save|--load|--data-path/);
  // the logging comes with the plan's list, once: a 50-iteration run gets 5 iteration lines
  assert.deepEqual(got.train.filter((a) => a.startsWith('--log-')), ['--log-interval', '--log-throughput']);
  assert.equal(got.train[got.train.indexOf('--log-interval') + 1], '10');
});

test('scripts: torchrun launcher with a data blend, tokenizer, checkpoints and extra flags', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const sb = sandbox();
  const file = writeScript(sb.dir, 'torchrun', deepseekJob(), deepseekPlan());
  const r = run(file, sb, {
    MEGATRON_LM_DIR: sb.megatron, DATA_PATH: '0.3 /data/a_text_document 0.7 /data/b_text_document',
    TOKENIZER_MODEL: '/models/dsv3-tokenizer', CHECKPOINT_DIR: '/ckpt/dsv3', EXTRA_ARGS: '--seed 7',
  });
  assert.equal(r.status, 0, String(r.stderr));
  const got = splitTorchrun(readLines(path.join(sb.dir, 'torchrun.args')));
  assert.deepEqual(got.torchrun.slice(0, 6), ['--nnodes', '128', '--nproc_per_node', '8', '--node_rank', '0']);
  assert.deepEqual(got.train.slice(-2), ['--seed', '7']);
  const train = got.train.slice(0, -2);
  const env = readEnv(path.join(sb.dir, 'torchrun.env'));
  // TP1 CP1: no CUDA_DEVICE_MAX_CONNECTIONS requirement, and none is set
  assert.equal(env.CUDA_DEVICE_MAX_CONNECTIONS, undefined);
  assert.deepEqual(checkMegatronArgs(train, env, 1024), []);
  const joined = train.join(' ');
  assert.match(joined, /--data-path 0\.3 \/data\/a_text_document 0\.7 \/data\/b_text_document --split 99,1,0 /);
  assert.match(joined, /--tokenizer-type HuggingFaceTokenizer --tokenizer-model \/models\/dsv3-tokenizer /);
  assert.match(joined, /--save \/ckpt\/dsv3 --load \/ckpt\/dsv3 --save-interval 500$/);
});

test('scripts: the launchers stop on placeholders with a message', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const sb = sandbox();
  const file = writeScript(sb.dir, 'torchrun', mixtralJob(), mixtralPlan());
  let r = run(file, sb, {});
  assert.equal(r.status, 1);
  assert.match(String(r.stderr), /plan\.torchrun\.sh: MEGATRON_LM_DIR=\/path\/to\/Megatron-LM has no pretrain_gpt\.py/);
  r = run(file, sb, { MEGATRON_LM_DIR: sb.megatron });
  assert.equal(r.status, 1);
  assert.match(String(r.stderr), /set DATA_PATH to your indexed dataset prefix \(or to mock\)/);
  r = run(file, sb, { MEGATRON_LM_DIR: sb.megatron, DATA_PATH: '/data/x' });
  assert.match(String(r.stderr), /set TOKENIZER_MODEL/);
  r = run(file, sb, { MEGATRON_LM_DIR: sb.megatron, DATA_PATH: '/data/x', TOKENIZER_MODEL: '/tok' });
  assert.match(String(r.stderr), /set CHECKPOINT_DIR \(or CHECKPOINT_DIR=none\)/);
  assert.equal(fs.existsSync(path.join(sb.dir, 'torchrun.args')), false, 'torchrun must not have started');
});

test('scripts: slurm launcher runs torchrun per node with the allocation\'s rendezvous', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const sb = sandbox();
  const file = writeScript(sb.dir, 'slurm', mixtralJob(), mixtralPlan());
  const text = fs.readFileSync(file, 'utf8');
  for (const directive of ['#SBATCH --nodes=16', '#SBATCH --ntasks-per-node=1', '#SBATCH --gpus-per-node=8', '#SBATCH --exclusive']) {
    assert.ok(text.includes(`\n${directive}\n`), directive);
  }
  const slurmEnv = { SLURM_JOB_NUM_NODES: '16', SLURM_JOB_NODELIST: 'gpu-node-[017-032]', SLURM_CPUS_ON_NODE: '224' };
  const r = run(file, sb, { ...slurmEnv, MEGATRON_LM_DIR: sb.megatron, DATA_PATH: 'mock', TOKENIZER_TYPE: 'NullTokenizer', CHECKPOINT_DIR: 'none' });
  assert.equal(r.status, 0, String(r.stderr));
  const srun = readLines(path.join(sb.dir, 'srun.args'));
  assert.deepEqual(srun.slice(0, 4), ['--nodes=16', '--ntasks-per-node=1', '--cpus-per-task=224', '--kill-on-bad-exit=1']);
  const got = splitTorchrun(readLines(path.join(sb.dir, 'torchrun.args')));
  assert.deepEqual(got.torchrun, ['--nnodes', '16', '--nproc_per_node', '8', '--node_rank', '0',
    '--master_addr', 'gpu-node-017', '--master_port', '6000']);
  const env = readEnv(path.join(sb.dir, 'torchrun.env'));
  assert.deepEqual(checkMegatronArgs(got.train, env, 128), []);

  const wrong = run(file, sb, { ...slurmEnv, SLURM_JOB_NUM_NODES: '8', MEGATRON_LM_DIR: sb.megatron, DATA_PATH: 'mock', TOKENIZER_TYPE: 'NullTokenizer', CHECKPOINT_DIR: 'none' });
  assert.equal(wrong.status, 1);
  assert.match(String(wrong.stderr), /this plan needs 16 nodes \(allocation: 8\); submit it with sbatch/);
});

/** The `#SBATCH` directives of a script, in order, up to the first line that is not a comment. */
function sbatchDirectives(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    if (!line.startsWith('#')) break;
    if (line.startsWith('#SBATCH ')) out.push(line.slice('#SBATCH '.length));
  }
  return out;
}

test('scripts: the sbatch header asks for whole nodes, all their memory and SIGTERM ahead of the limit', () => {
  const text = exportPlan('slurm', mixtralJob(), shapeOf(mixtralJob()), mixtralPlan());
  assert.deepEqual(sbatchDirectives(text), ['--job-name=moefold-plan-1', '--nodes=16', '--ntasks-per-node=1', '--gpus-per-node=8',
    '--exclusive', '--mem=0', '--signal=TERM@300', '--output=moefold-plan-1-%j.log']);
});

test('scripts: slurm runs without a container by default and with pyxis flags when CONTAINER_IMAGE is set', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const sb = sandbox();
  const file = writeScript(sb.dir, 'slurm', mixtralJob(), mixtralPlan());
  const base = { SLURM_JOB_NUM_NODES: '16', SLURM_JOB_NODELIST: 'gpu-node-[017-032]', SLURM_CPUS_ON_NODE: '224',
    DATA_PATH: 'mock', TOKENIZER_TYPE: 'NullTokenizer', CHECKPOINT_DIR: 'none' };
  let r = run(file, sb, { ...base, MEGATRON_LM_DIR: sb.megatron });
  assert.equal(r.status, 0, String(r.stderr));
  let srun = readLines(path.join(sb.dir, 'srun.args'));
  assert.deepEqual(srun.slice(0, 5), ['--nodes=16', '--ntasks-per-node=1', '--cpus-per-task=224', '--kill-on-bad-exit=1', 'bash']);
  // with a container the Megatron-LM path is the container's: the host does not hold it
  r = run(file, sb, { ...base, MEGATRON_LM_DIR: '/opt/megatron-lm', CONTAINER_IMAGE: 'nvcr.io#nvidia/pytorch:25.09-py3' });
  assert.equal(r.status, 0, String(r.stderr));
  srun = readLines(path.join(sb.dir, 'srun.args'));
  assert.deepEqual(srun.slice(4, 7), ['--container-image=nvcr.io#nvidia/pytorch:25.09-py3', '--no-container-mount-home', 'bash']);
  r = run(file, sb, { ...base, MEGATRON_LM_DIR: '/opt/megatron-lm', CONTAINER_IMAGE: '/images/mlm.sqsh', CONTAINER_MOUNTS: '/data:/data,/ckpt:/ckpt' });
  assert.equal(r.status, 0, String(r.stderr));
  srun = readLines(path.join(sb.dir, 'srun.args'));
  assert.deepEqual(srun.slice(4, 8), ['--container-image=/images/mlm.sqsh', '--no-container-mount-home',
    '--container-mounts=/data:/data,/ckpt:/ckpt', 'bash']);
  const got = splitTorchrun(readLines(path.join(sb.dir, 'torchrun.args')));
  assert.equal(got.script, '/opt/megatron-lm/pretrain_gpt.py');
});

test('scripts: both launchers pass the distributed timeout and the exit signal handler', { skip: !HAS_BASH && 'bash not installed' }, () => {
  const sb = sandbox();
  const file = writeScript(sb.dir, 'torchrun', mixtralJob(), mixtralPlan());
  const env = { MEGATRON_LM_DIR: sb.megatron, DATA_PATH: 'mock', TOKENIZER_TYPE: 'NullTokenizer', CHECKPOINT_DIR: 'none' };
  let r = run(file, sb, env);
  assert.equal(r.status, 0, String(r.stderr));
  let train = splitTorchrun(readLines(path.join(sb.dir, 'torchrun.args'))).train;
  assert.equal(train[train.indexOf('--distributed-timeout-minutes') + 1], '60');
  assert.ok(train.includes('--exit-signal-handler'));
  assert.deepEqual(checkMegatronArgs(train, readEnv(path.join(sb.dir, 'torchrun.env')), 128), []);
  r = run(file, sb, { ...env, DIST_TIMEOUT_MINUTES: '90' });
  train = splitTorchrun(readLines(path.join(sb.dir, 'torchrun.args'))).train;
  assert.equal(train[train.indexOf('--distributed-timeout-minutes') + 1], '90');
  // the network environment: the two Bridge defaults exported, overridable; the site ones as comments
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.includes('\nexport TORCH_NCCL_AVOID_RECORD_STREAMS="${TORCH_NCCL_AVOID_RECORD_STREAMS:-1}"'));
  assert.ok(text.includes('\nexport TORCH_NCCL_HIGH_PRIORITY="${TORCH_NCCL_HIGH_PRIORITY:-1}"'));
  for (const v of ['NCCL_IB_HCA', 'NCCL_SOCKET_IFNAME', 'NCCL_IB_SL', 'NCCL_IB_TIMEOUT']) assert.match(text, new RegExp(`\\n# export ${v}=`));
});

test('scripts: a flex-dispatcher plan warns in the header of both launchers what DeepEP / HybridEP need', () => {
  const flexHeader = (job: Job, plan: Plan, f: ExportFormat): string => {
    const text = exportPlan(f, job, shapeOf(job), plan);
    return text.slice(0, text.indexOf('\nset -euo pipefail'));
  };
  for (const f of ['torchrun', 'slurm'] as const) {
    const deepep = flexHeader(deepseekJob(), deepseekPlan(), f);
    assert.match(deepep, /# WARNING: this plan uses the flex token dispatcher \(--moe-token-dispatcher-type flex\) with DeepEP\./);
    assert.match(deepep, /deep_ep package .* NVSHMEM/);
    assert.match(deepep, /IBGDA/);
    const hybrid = deepseekJob();
    hybrid.training.moe_flex_dispatcher_backend = 'hybridep';
    assert.match(flexHeader(hybrid, deepseekPlan(), f), /with HybridEP\.\n# It needs deep_ep built from DeepEP's hybrid-ep branch/);
    assert.doesNotMatch(flexHeader(mixtralJob(), mixtralPlan(), f), /WARNING/); // alltoall
  }
});
