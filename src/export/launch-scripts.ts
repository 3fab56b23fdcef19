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
 *
 * What a cluster run needs besides the plan (sources at the commits of shared/reference/megatron.md):
 * - container (slurm): CONTAINER_IMAGE / CONTAINER_MOUNTS become pyxis's srun flags --container-image,
 *   --container-mounts and --no-container-mount-home (pyxis wiki "Usage"; NeMo's Slurm executor passes the last
 *   one too, Megatron-Bridge scripts/performance/utils/executors.py); MEGATRON_LM_DIR is then a path inside it.
 * - network: TORCH_NCCL_AVOID_RECORD_STREAMS=1 and TORCH_NCCL_HIGH_PRIORITY=1 are in every Megatron-Bridge recipe's
 *   environment (recipes/utils/environment_utils.py COMMON_RECIPE_ENV_VARS at 067f987); the InfiniBand and
 *   interface variables depend on the site and are left as comments.
 * - --distributed-timeout-minutes DIST_TIMEOUT_MINUTES (60; Megatron's default is 10, common_config.py L77 at
 *   d98e8a6): the first collectives wait for every rank's start-up and checkpoint load.
 * - signals: SLURM sends SIGTERM ahead of the time limit (#SBATCH --signal, to every process of the job step);
 *   --exit-signal-handler makes Megatron save a checkpoint at the end of the iteration and exit (training.py
 *   L4056–4068 at d98e8a6). torchrun forwards SIGTERM to its workers and kills them 30 s later (PyTorch
 *   torchelastic), so the save must finish within that.
 * - flex dispatcher: the header says what DeepEP / HybridEP need on the cluster (flexDispatcherNotes).
 * - rack-scale NVLink (cluster nvlink_domain larger than a node, GB200 NVL72): nodes are the compute trays
 *   (gpus / gpus_per_node); the sbatch script asks for `--segment=<trays per domain>` so that every domain's trays
 *   come from one NVLink block (Slurm topology/block plugin, slurm.schedmd.com/topology.html; NVIDIA's GB200 NVL72
 *   Slurm block-scheduling blog: segment 16 for large jobs). Megatron lays ranks out contiguously over the node
 *   list, which srun gives in block order, so each domain of ranks is one rack. NCCL finds the multi-node NVLink by
 *   itself (NCCL >= 2.25.2 with the IMEX service running: NVIDIA MNNVL tuning guide), so no NCCL variable is set.
 */
import type { Plan } from '../enumerate/plan.js';
import { nvlinkDomainOf, type Job, type ModelShape } from '../job/types.js';
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

/** Seconds before the time limit at which SLURM sends SIGTERM (#SBATCH --signal=TERM@…): a few iterations and a save. */
export const SLURM_SIGNAL_LEAD_S = 300;

/** Megatron's process-group timeout the launchers pass by default (--distributed-timeout-minutes; Megatron: 10). */
export const DIST_TIMEOUT_MINUTES = 60;

/**
 * What the flex dispatcher needs from the cluster, for the header of both launchers ([] for other dispatchers).
 * Megatron imports deep_ep's Buffer (DeepEP) or HybridEPBuffer (HybridEP) and fails without them
 * (megatron/core/transformer/moe/fused_a2a.py L12–17, L272–276 at d98e8a6); the MoE README's dispatcher table
 * (L310–311) names DeepEP for cross-node EP and HybridEP (TMA and IBGDA, MNNVL) for NVLink domains.
 */
export function flexDispatcherNotes(job: Job, plan: Plan): string[] {
  if (plan.dispatcher !== 'flex') return [];
  const backend = job.training.moe_flex_dispatcher_backend;
  const common = 'WARNING: this plan uses the flex token dispatcher (--moe-token-dispatcher-type flex) with';
  if (backend === 'deepep') {
    return [
      `${common} DeepEP.`,
      'It needs the deep_ep package (github.com/deepseek-ai/DeepEP) built against NVSHMEM in the Python environment',
      'or container of every node; across nodes it needs InfiniBand (or RoCE) with GPUDirect RDMA and IBGDA',
      '(NVSHMEM InfiniBand GPUDirect Async) enabled in the NIC driver. Without them the first MoE layer fails.',
    ];
  }
  return [
    `${common} HybridEP.`,
    'It needs deep_ep built from DeepEP\'s hybrid-ep branch (it provides HybridEPBuffer) on every node; across nodes it',
    'uses IBGDA on InfiniBand (or multi-node NVLink, MNNVL, on GB200 NVL72). Without it the first MoE layer fails.',
  ];
}

/** The variables, checks and argument arrays both launchers share; `slurm`: the container variables and checks. */
function launcherBody(job: Job, shape: ModelShape, plan: Plan, slurm: boolean): string[] {
  const { args, env } = megatronLaunch(job, shape, plan);
  const { nodes, gpusPerNode } = clusterShape(job);
  const container = slurm ? [
    'CONTAINER_IMAGE="${CONTAINER_IMAGE:-}"                        # pyxis/enroot image (e.g. nvcr.io#nvidia/pytorch:TAG or a .sqsh); empty = none',
    'CONTAINER_MOUNTS="${CONTAINER_MOUNTS:-}"                      # SRC:DST[,SRC:DST...] bind mounts (data, checkpoints, Megatron-LM)',
  ] : [];
  const megatronCheck = '[[ -f "$MEGATRON_LM_DIR/pretrain_gpt.py" ]] || fail "MEGATRON_LM_DIR=$MEGATRON_LM_DIR has no pretrain_gpt.py"';
  return [
    '# --- paths and run settings (override any of them from the environment) ---',
    ...container,
    `MEGATRON_LM_DIR="\${MEGATRON_LM_DIR:-/path/to/Megatron-LM}"    # checkout holding pretrain_gpt.py${slurm ? ' (inside the container when CONTAINER_IMAGE is set)' : ''}`,
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
    `DIST_TIMEOUT_MINUTES="\${DIST_TIMEOUT_MINUTES:-${DIST_TIMEOUT_MINUTES}}"                 # --distributed-timeout-minutes (Megatron's default: 10)`,
    'EXTRA_ARGS="${EXTRA_ARGS:-}"                                  # more pretrain_gpt.py flags, space-separated',
    '',
    '# --- the cluster this plan was made for (fixed: the mapping depends on the world size) ---',
    `NNODES=${nodes}`,
    `GPUS_PER_NODE=${gpusPerNode}`,
    '',
    '# --- environment ---',
    ...envExports(env),
    '',
    '# --- network (override from the environment; the site-specific ones are yours to set) ---',
    'export TORCH_NCCL_AVOID_RECORD_STREAMS="${TORCH_NCCL_AVOID_RECORD_STREAMS:-1}"  # free NCCL buffers by stream events, not recordStream (Megatron-Bridge recipes)',
    'export TORCH_NCCL_HIGH_PRIORITY="${TORCH_NCCL_HIGH_PRIORITY:-1}"                # NCCL on high-priority CUDA streams (Megatron-Bridge recipes)',
    '# export NCCL_IB_HCA=mlx5_0,mlx5_1        # the InfiniBand adapters NCCL may use (site)',
    '# export NCCL_SOCKET_IFNAME=eth0          # the interface of NCCL\'s bootstrap and socket traffic (site)',
    '# export NCCL_IB_SL=1                     # InfiniBand service level (site QoS)',
    '# export NCCL_IB_TIMEOUT=22               # InfiniBand verbs timeout, 4.096 us * 2^N (site)',
    '# export NCCL_DEBUG=WARN                  # NCCL\'s log level (INFO to debug the network set-up)',
    '',
    '# --- the plan: model, parallel mapping, recompute, precision, batch, logging ---',
    ...bashArray('MEGATRON_ARGS', args),
    '',
    '# --- data, tokenizer, schedule, checkpoints ---',
    'fail() { echo "$(basename "$0"): $*" >&2; exit 1; }',
    ...(slurm ? [
      '# with a container, MEGATRON_LM_DIR is a path inside it: only the container can check it',
      'if [[ -z "$CONTAINER_IMAGE" ]]; then',
      `  ${megatronCheck}`,
      'fi',
    ] : [megatronCheck]),
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
    '  --distributed-timeout-minutes "$DIST_TIMEOUT_MINUTES"',
    '  --exit-signal-handler  # on SIGTERM: save a checkpoint (with CHECKPOINT_DIR) at the end of the iteration and exit',
    ')',
    'if [[ "$CHECKPOINT_DIR" != none ]]; then',
    '  [[ "$CHECKPOINT_DIR" != /path/to/* ]] || fail "set CHECKPOINT_DIR (or CHECKPOINT_DIR=none)"',
    '  RUN_ARGS+=(--save "$CHECKPOINT_DIR" --load "$CHECKPOINT_DIR" --save-interval "$SAVE_INTERVAL")',
    'fi',
    'read -r -a EXTRA <<< "$EXTRA_ARGS"',
    'TRAIN_ARGS=("${MEGATRON_ARGS[@]}" "${DATA_ARGS[@]}" "${TOKENIZER_ARGS[@]}" "${RUN_ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"})',
  ];
}

/**
 * Trays (nodes) per NVLink domain the allocation must keep together, or 0 where each node is its own domain or the
 * job is one node. A job inside one partial domain keeps all its nodes together.
 */
export function segmentNodes(job: Job): number {
  const { nodes } = clusterShape(job);
  const perNode = job.cluster.gpus_per_node;
  const domain = nvlinkDomainOf(job.cluster);
  if (domain <= perNode || nodes <= 1) return 0;
  return Math.min(domain / perNode, nodes);
}

/** Header lines on the NVLink domains (a blank line before them), or nothing. */
function nvlinkDomainNoteBlock(job: Job, slurm: boolean): string[] {
  const seg = segmentNodes(job);
  if (seg === 0) return [];
  const domain = Math.min(nvlinkDomainOf(job.cluster), job.cluster.gpus);
  const where = slurm
    ? `--segment=${seg} keeps each ${seg} nodes in one NVLink block (needs the Slurm topology/block plugin with the racks as blocks).`
    : `Number the nodes so that node ranks ${seg}k..${seg}k+${seg - 1} are the trays of one NVLink domain (one rack).`;
  return ['', `NVLink domains of ${domain} GPUs (${seg} nodes of ${job.cluster.gpus_per_node}): the plan keeps its fast groups inside one.`, where,
    'NCCL (>= 2.25.2) uses multi-node NVLink inside a domain by itself where the IMEX service runs on the trays.'];
}

/** The flex-dispatcher warning as header lines (a blank line before it), or nothing. */
function flexNoteBlock(job: Job, plan: Plan): string[] {
  const notes = flexDispatcherNotes(job, plan);
  return notes.length > 0 ? ['', ...notes] : [];
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
      'torchrun replaces this shell (exec): a SIGTERM sent to it reaches every worker, and Megatron saves and exits.',
      ...nvlinkDomainNoteBlock(job, false),
      ...flexNoteBlock(job, plan),
    ]),
    'set -euo pipefail',
    '',
    '# --- rendezvous (override from the environment) ---',
    'MASTER_ADDR="${MASTER_ADDR:-localhost}"',
    'MASTER_PORT="${MASTER_PORT:-6000}"',
    'NODE_RANK="${NODE_RANK:-0}"',
    '',
    ...launcherBody(job, shape, plan, false),
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
    ...(segmentNodes(job) > 0 ? [`#SBATCH --segment=${segmentNodes(job)}`] : []),
    '#SBATCH --exclusive',
    '#SBATCH --mem=0',
    `#SBATCH --signal=TERM@${SLURM_SIGNAL_LEAD_S}`,
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
      'rendezvous on the first node of the allocation. --exclusive --mem=0: whole nodes with all their memory.',
      `--signal=TERM@${SLURM_SIGNAL_LEAD_S}: SIGTERM reaches every process ${SLURM_SIGNAL_LEAD_S} s before the time limit; Megatron`,
      '(--exit-signal-handler) saves a checkpoint and exits. Set --time (below) for the signal to come before the kill.',
      'torchrun kills its workers 30 s after it forwards SIGTERM: a save that takes longer (large models) is cut',
      'off, so keep SAVE_INTERVAL checkpoints as the safety net.',
      'With CONTAINER_IMAGE set, each task runs in that container (pyxis); CONTAINER_MOUNTS binds the paths it needs.',
      ...nvlinkDomainNoteBlock(job, true),
      ...flexNoteBlock(job, plan),
    ]),
    'set -euo pipefail',
    '',
    ...launcherBody(job, shape, plan, true),
    '',
    '# --- rendezvous: the first node of the allocation ---',
    '[[ "${SLURM_JOB_NUM_NODES:-}" == "$NNODES" ]] || fail "this plan needs $NNODES nodes (allocation: ${SLURM_JOB_NUM_NODES:-none}); submit it with sbatch"',
    'read -r FIRST_NODE < <(scontrol show hostnames "$SLURM_JOB_NODELIST") || fail "scontrol cannot list the nodes of $SLURM_JOB_NODELIST"',
    'MASTER_ADDR="${MASTER_ADDR:-$FIRST_NODE}"',
    'MASTER_PORT="${MASTER_PORT:-6000}"',
    'export MASTER_ADDR MASTER_PORT',
    '',
    '# --- container (pyxis): none when CONTAINER_IMAGE is empty ---',
    'CONTAINER_ARGS=()',
    'if [[ -n "$CONTAINER_IMAGE" ]]; then',
    '  CONTAINER_ARGS=(--container-image="$CONTAINER_IMAGE" --no-container-mount-home)',
    '  if [[ -n "$CONTAINER_MOUNTS" ]]; then CONTAINER_ARGS+=(--container-mounts="$CONTAINER_MOUNTS"); fi',
    'fi',
    '',
    '# One task per node gets all the CPUs of its node (torchrun starts one process per GPU). The single quotes',
    '# are deliberate: SLURM_NODEID must expand inside each task.',
    '# shellcheck disable=SC2016',
    'srun --nodes="$NNODES" --ntasks-per-node=1 --cpus-per-task="$SLURM_CPUS_ON_NODE" --kill-on-bad-exit=1 \\',
    '  ${CONTAINER_ARGS[@]+"${CONTAINER_ARGS[@]}"} \\',
    '  bash -c \'exec torchrun --nnodes "$1" --nproc_per_node "$2" --node_rank "$SLURM_NODEID" \\',
    '    --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" "${@:3}"\' moefold-launch \\',
    '  "$NNODES" "$GPUS_PER_NODE" "$MEGATRON_LM_DIR/pretrain_gpt.py" "${TRAIN_ARGS[@]}"',
    '',
  ];
  return lines.join('\n');
}
