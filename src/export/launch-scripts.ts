/**
 * The shell exports of a plan:
 * - `megatron`: a bash fragment, meant to be sourced: the environment exports and a MEGATRON_ARGS array with
 *   one pretrain_gpt.py flag per line (model, mapping, recompute, precision, batch, logging). Data, tokenizer,
 *   checkpoint and optimizer flags are the caller's.
 * - `torchrun`: a complete per-node launcher: run it once on every node with NODE_RANK set.
 * - `slurm`: an sbatch script: srun starts one task per node, each task runs torchrun for the node's GPUs
 *   (node rank from SLURM_NODEID, rendezvous on the allocation's first node).
 * The two launchers take paths and run settings from variables at the top, each overridable from the
 * environment; the /path/to placeholders must be overridden (the scripts stop with a message otherwise).
 */
import type { Plan } from '../enumerate/plan.js';
import type { Job, ModelShape } from '../job/types.js';
import { ENV_REASONS, megatronLaunch } from './megatron-launch.js';
import { planSummaryLines } from './plan-summary.js';
import { bashArray, comment, oneLine, shellWord } from './shell.js';
import { inputError } from '../job/errors.js';

/** Nodes and GPUs per node of the job's cluster; a world that does not fill whole nodes cannot be launched evenly. */
export function clusterShape(job: Job): { nodes: number; gpusPerNode: number } {
  const { gpus, gpus_per_node: perNode } = job.cluster;
  if (gpus <= perNode) return { nodes: 1, gpusPerNode: gpus };
  if (gpus % perNode !== 0) {
    throw inputError(job.source, 'cluster.gpus', `the launch exports need whole nodes: ${gpus} GPUs is not a multiple of ${perNode} per node`);
  }
  return { nodes: gpus / perNode, gpusPerNode: perNode };
}

function envExports(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([k, v]) => {
    const why = ENV_REASONS[k];
    return `export ${k}=${shellWord(v)}${why ? `  # ${oneLine(why)}` : ''}`;
  });
}

/** `megatron` format: a sourceable fragment. */
export function megatronFragment(job: Job, shape: ModelShape, plan: Plan, rank: number): string {
  const { args, env } = megatronLaunch(job, shape, plan);
  const lines = [
    '# shellcheck shell=bash',
    ...comment([
      ...planSummaryLines(job, shape, plan, rank),
      '',
      'Megatron-LM pretrain_gpt.py arguments of this plan, as a bash fragment. Source it, then start',
      'pretrain_gpt.py with "${MEGATRON_ARGS[@]}" plus your data, tokenizer, checkpoint and optimizer flags:',
      '  source plan.megatron.sh',
      '  torchrun ... "$MEGATRON_LM_DIR/pretrain_gpt.py" "${MEGATRON_ARGS[@]}" --data-path ... --tokenizer-type ...',
      `The run needs ${job.cluster.gpus} GPUs (torchrun --nnodes x --nproc_per_node); the torchrun and slurm exports are complete launchers.`,
    ]),
    '',
    ...envExports(env),
    '',
    '# shellcheck disable=SC2034  # used by the script that sources this file',
    ...bashArray('MEGATRON_ARGS', args),
    '',
  ];
  return lines.join('\n');
}

/** The variables, checks and argument arrays both launchers share. */
function launcherBody(job: Job, shape: ModelShape, plan: Plan): string[] {
  const { args, env } = megatronLaunch(job, shape, plan);
  const { nodes, gpusPerNode } = clusterShape(job);
  return [
    '# --- paths and run settings (override any of them from the environment) ---',
    'MEGATRON_LM_DIR="${MEGATRON_LM_DIR:-/path/to/Megatron-LM}"    # checkout holding pretrain_gpt.py',
    'DATA_PATH="${DATA_PATH:-/path/to/dataset_text_document}"      # indexed-dataset prefix, "W1 P1 W2 P2" for a blend, or mock',
    'DATA_SPLIT="${DATA_SPLIT:-99,1,0}"                            # train,valid,test',
    'TOKENIZER_TYPE="${TOKENIZER_TYPE:-HuggingFaceTokenizer}"      # or NullTokenizer (with DATA_PATH=mock)',
    'TOKENIZER_MODEL="${TOKENIZER_MODEL:-/path/to/tokenizer}"      # tokenizer directory or file',
    'CHECKPOINT_DIR="${CHECKPOINT_DIR:-/path/to/checkpoints}"      # saved to and resumed from; none = no checkpoints',
    'TRAIN_ITERS="${TRAIN_ITERS:-1000}"',
    'LR="${LR:-1.0e-4}"',
    'MIN_LR="${MIN_LR:-1.0e-5}"',
    'LR_WARMUP_ITERS="${LR_WARMUP_ITERS:-100}"                     # must be below TRAIN_ITERS',
    'SAVE_INTERVAL="${SAVE_INTERVAL:-500}"',
    'EVAL_INTERVAL="${EVAL_INTERVAL:-1000}"',
    'EVAL_ITERS="${EVAL_ITERS:-10}"',
    'EXTRA_ARGS="${EXTRA_ARGS:-}"                                  # more pretrain_gpt.py flags, space-separated',
    '',
    '# --- the cluster this plan was made for (fixed: the mapping depends on the world size) ---',
    `NNODES=${nodes}`,
    `GPUS_PER_NODE=${gpusPerNode}`,
    '',
    '# --- environment ---',
    ...envExports(env),
    '',
    '# --- the plan: model, parallel mapping, recompute, precision, batch, logging ---',
    ...bashArray('MEGATRON_ARGS', args),
    '',
    '# --- data, tokenizer, schedule, checkpoints ---',
    'fail() { echo "$(basename "$0"): $*" >&2; exit 1; }',
    '[[ -f "$MEGATRON_LM_DIR/pretrain_gpt.py" ]] || fail "MEGATRON_LM_DIR=$MEGATRON_LM_DIR has no pretrain_gpt.py"',
    'if [[ "$DATA_PATH" == mock ]]; then',
    '  DATA_ARGS=(--mock-data)',
    'else',
    '  [[ "$DATA_PATH" != /path/to/* ]] || fail "set DATA_PATH to your indexed dataset prefix (or to mock)"',
    '  read -r -a DATA_PREFIXES <<< "$DATA_PATH"',
    '  DATA_ARGS=(--data-path "${DATA_PREFIXES[@]}" --split "$DATA_SPLIT")',
    'fi',
    'if [[ "$TOKENIZER_TYPE" == NullTokenizer ]]; then',
    `  TOKENIZER_ARGS=(--tokenizer-type NullTokenizer --vocab-size ${job.model.vocab_size})`,
    'else',
    '  [[ "$TOKENIZER_MODEL" != /path/to/* ]] || fail "set TOKENIZER_MODEL (or TOKENIZER_TYPE=NullTokenizer)"',
    '  TOKENIZER_ARGS=(--tokenizer-type "$TOKENIZER_TYPE" --tokenizer-model "$TOKENIZER_MODEL")',
    'fi',
    'RUN_ARGS=(',
    '  --train-iters "$TRAIN_ITERS"',
    '  --lr "$LR" --min-lr "$MIN_LR" --lr-decay-style cosine --lr-warmup-iters "$LR_WARMUP_ITERS"',
    '  --eval-interval "$EVAL_INTERVAL" --eval-iters "$EVAL_ITERS"',
    ')',
    'if [[ "$CHECKPOINT_DIR" != none ]]; then',
    '  [[ "$CHECKPOINT_DIR" != /path/to/* ]] || fail "set CHECKPOINT_DIR (or CHECKPOINT_DIR=none)"',
    '  RUN_ARGS+=(--save "$CHECKPOINT_DIR" --load "$CHECKPOINT_DIR" --save-interval "$SAVE_INTERVAL")',
    'fi',
    'read -r -a EXTRA <<< "$EXTRA_ARGS"',
    'TRAIN_ARGS=("${MEGATRON_ARGS[@]}" "${DATA_ARGS[@]}" "${TOKENIZER_ARGS[@]}" "${RUN_ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"})',
  ];
}

/** `torchrun` format: run once per node. */
export function torchrunScript(job: Job, shape: ModelShape, plan: Plan, rank: number): string {
  const { nodes } = clusterShape(job);
  const lines = [
    '#!/usr/bin/env bash',
    ...comment([
      ...planSummaryLines(job, shape, plan, rank),
      '',
      `torchrun launcher: start it once on each of the ${nodes} node${nodes > 1 ? 's' : ''}, with NODE_RANK=0..${nodes - 1} and the same`,
      'MASTER_ADDR (the address of node 0) and MASTER_PORT everywhere, e.g.',
      '  MASTER_ADDR=node0 NODE_RANK=0 DATA_PATH=... TOKENIZER_MODEL=... CHECKPOINT_DIR=... ./plan.torchrun.sh',
    ]),
    'set -euo pipefail',
    '',
    '# --- rendezvous (override from the environment) ---',
    'MASTER_ADDR="${MASTER_ADDR:-localhost}"',
    'MASTER_PORT="${MASTER_PORT:-6000}"',
    'NODE_RANK="${NODE_RANK:-0}"',
    '',
    ...launcherBody(job, shape, plan),
    '',
    'exec torchrun \\',
    '  --nnodes "$NNODES" --nproc_per_node "$GPUS_PER_NODE" --node_rank "$NODE_RANK" \\',
    '  --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" \\',
    '  "$MEGATRON_LM_DIR/pretrain_gpt.py" "${TRAIN_ARGS[@]}"',
    '',
  ];
  return lines.join('\n');
}

/** `slurm` format: an sbatch script, one srun task per node, each running torchrun. */
export function slurmScript(job: Job, shape: ModelShape, plan: Plan, rank: number): string {
  const { nodes, gpusPerNode } = clusterShape(job);
  const lines = [
    '#!/usr/bin/env bash',
    `#SBATCH --job-name=moefold-plan-${rank}`,
    `#SBATCH --nodes=${nodes}`,
    '#SBATCH --ntasks-per-node=1',
    `#SBATCH --gpus-per-node=${gpusPerNode}`,
    '#SBATCH --exclusive',
    `#SBATCH --output=moefold-plan-${rank}-%j.log`,
    '## site settings: remove one "#" to enable',
    '##SBATCH --account=CHANGE_ME',
    '##SBATCH --partition=CHANGE_ME',
    '##SBATCH --time=04:00:00',
    ...comment([
      ...planSummaryLines(job, shape, plan, rank),
      '',
      'SLURM launcher: sbatch plan.sbatch (settings below can be passed as environment variables, e.g.',
      'sbatch --export=ALL,DATA_PATH=...,TOKENIZER_MODEL=...,CHECKPOINT_DIR=... plan.sbatch). srun starts one task',
      'per node; each task runs torchrun for the GPUs of its node, with its node rank from SLURM_NODEID and the',
      'rendezvous on the first node of the allocation.',
    ]),
    'set -euo pipefail',
    '',
    ...launcherBody(job, shape, plan),
    '',
    '# --- rendezvous: the first node of the allocation ---',
    '[[ "${SLURM_JOB_NUM_NODES:-}" == "$NNODES" ]] || fail "this plan needs $NNODES nodes (allocation: ${SLURM_JOB_NUM_NODES:-none}); submit it with sbatch"',
    'read -r FIRST_NODE < <(scontrol show hostnames "$SLURM_JOB_NODELIST") || fail "scontrol cannot list the nodes of $SLURM_JOB_NODELIST"',
    'MASTER_ADDR="${MASTER_ADDR:-$FIRST_NODE}"',
    'MASTER_PORT="${MASTER_PORT:-6000}"',
    'export MASTER_ADDR MASTER_PORT',
    '',
    '# One task per node gets all the CPUs of its node (torchrun starts one process per GPU). The single quotes',
    '# are deliberate: SLURM_NODEID must expand inside each task.',
    '# shellcheck disable=SC2016',
    'srun --nodes="$NNODES" --ntasks-per-node=1 --cpus-per-task="$SLURM_CPUS_ON_NODE" --kill-on-bad-exit=1 \\',
    '  bash -c \'exec torchrun --nnodes "$1" --nproc_per_node "$2" --node_rank "$SLURM_NODEID" \\',
    '    --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" "${@:3}"\' moefold-launch \\',
    '  "$NNODES" "$GPUS_PER_NODE" "$MEGATRON_LM_DIR/pretrain_gpt.py" "${TRAIN_ARGS[@]}"',
    '',
  ];
  return lines.join('\n');
}
