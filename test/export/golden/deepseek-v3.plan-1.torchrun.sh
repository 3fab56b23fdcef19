#!/usr/bin/env bash
# moefold plan 1 for DeepSeek-V3 on 1024 x h100-sxm (128 nodes x 8 GPUs)
# attention: TP1 x CP1 x DP64 x PP16, first/last stage 4/1 layers
# experts:   ETP1 x EP64 x EDP1 x PP16, flex token dispatcher
# batch:     micro-batch 1 x 128 microbatches x DP64 = 8192 sequences of 4096 tokens
# recompute selective, fp8, distributed optimizer
#
# torchrun launcher: start it once on each of the 128 nodes, with NODE_RANK=0..127 and the same
# MASTER_ADDR (the address of node 0) and MASTER_PORT everywhere, e.g.
#   MASTER_ADDR=node0 NODE_RANK=0 DATA_PATH=... TOKENIZER_MODEL=... CHECKPOINT_DIR=... ./plan.torchrun.sh
# torchrun replaces this shell (exec): a SIGTERM sent to it reaches every worker, and Megatron saves and exits.
#
# WARNING: this plan uses the flex token dispatcher (--moe-token-dispatcher-type flex) with DeepEP.
# It needs the deep_ep package (github.com/deepseek-ai/DeepEP) built against NVSHMEM in the Python environment
# or container of every node; across nodes it needs InfiniBand (or RoCE) with GPUDirect RDMA and IBGDA
# (NVSHMEM InfiniBand GPUDirect Async) enabled in the NIC driver. Without them the first MoE layer fails.
set -euo pipefail

# --- rendezvous (override from the environment) ---
MASTER_ADDR="${MASTER_ADDR:-localhost}"
MASTER_PORT="${MASTER_PORT:-6000}"
NODE_RANK="${NODE_RANK:-0}"

# --- paths and run settings (override any of them from the environment) ---
MEGATRON_LM_DIR="${MEGATRON_LM_DIR:-/path/to/Megatron-LM}"    # checkout holding pretrain_gpt.py
DATA_PATH="${DATA_PATH:-/path/to/dataset_text_document}"      # indexed-dataset prefix, "W1 P1 W2 P2" for a blend, or mock
DATA_SPLIT="${DATA_SPLIT:-99,1,0}"                            # train,valid,test
TOKENIZER_TYPE="${TOKENIZER_TYPE:-HuggingFaceTokenizer}"      # or NullTokenizer (with DATA_PATH=mock)
TOKENIZER_MODEL="${TOKENIZER_MODEL:-/path/to/tokenizer}"      # tokenizer directory or file
CHECKPOINT_DIR="${CHECKPOINT_DIR:-/path/to/checkpoints}"      # saved to and resumed from; none = no checkpoints
TRAIN_ITERS="${TRAIN_ITERS:-1000}"
LR="${LR:-1.0e-4}"
MIN_LR="${MIN_LR:-1.0e-5}"
LR_WARMUP_ITERS="${LR_WARMUP_ITERS:-100}"                     # must be below TRAIN_ITERS
SAVE_INTERVAL="${SAVE_INTERVAL:-500}"
EVAL_INTERVAL="${EVAL_INTERVAL:-1000}"
EVAL_ITERS="${EVAL_ITERS:-10}"
DIST_TIMEOUT_MINUTES="${DIST_TIMEOUT_MINUTES:-60}"                 # --distributed-timeout-minutes (Megatron's default: 10)
EXTRA_ARGS="${EXTRA_ARGS:-}"                                  # more pretrain_gpt.py flags, space-separated

# --- the cluster this plan was made for (fixed: the mapping depends on the world size) ---
NNODES=128
GPUS_PER_NODE=8

# --- environment ---
export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True  # MoE buffers change size every step: avoid allocator fragmentation
export NCCL_NVLS_ENABLE=0  # no NVLink SHARP buffers (extra memory per communicator, not in the memory model)

# --- network (override from the environment; the site-specific ones are yours to set) ---
export TORCH_NCCL_AVOID_RECORD_STREAMS="${TORCH_NCCL_AVOID_RECORD_STREAMS:-1}"  # free NCCL buffers by stream events, not recordStream (Megatron-Bridge recipes)
export TORCH_NCCL_HIGH_PRIORITY="${TORCH_NCCL_HIGH_PRIORITY:-1}"                # NCCL on high-priority CUDA streams (Megatron-Bridge recipes)
# export NCCL_IB_HCA=mlx5_0,mlx5_1        # the InfiniBand adapters NCCL may use (site)
# export NCCL_SOCKET_IFNAME=eth0          # the interface of NCCL's bootstrap and socket traffic (site)
# export NCCL_IB_SL=1                     # InfiniBand service level (site QoS)
# export NCCL_IB_TIMEOUT=22               # InfiniBand verbs timeout, 4.096 us * 2^N (site)
# export NCCL_DEBUG=WARN                  # NCCL's log level (INFO to debug the network set-up)

# --- the plan: model, parallel mapping, recompute, precision, batch, logging ---
MEGATRON_ARGS=(
  --num-layers 61
  --hidden-size 7168
  --ffn-hidden-size 18432
  --num-attention-heads 128
  --kv-channels 128
  --seq-length 4096
  --max-position-embeddings 163840
  --position-embedding-type rope
  --rotary-scaling-factor 40
  --mscale-all-dim 1
  --normalization RMSNorm
  --norm-epsilon 0.000001
  --init-method-std 0.006
  --swiglu
  --untie-embeddings-and-output-weights
  --disable-bias-linear
  --qk-layernorm
  --make-vocab-size-divisible-by 128
  --multi-latent-attention
  --q-lora-rank 1536
  --kv-lora-rank 512
  --qk-head-dim 128
  --qk-pos-emb-head-dim 64
  --v-head-dim 128
  --mtp-num-layers 1
  --num-experts 256
  --moe-router-topk 8
  --moe-ffn-hidden-size 2048
  --moe-shared-expert-intermediate-size 2048
  --moe-layer-freq '([0]*3+[1]*58)'
  --moe-router-score-function sigmoid
  --moe-router-num-groups 8
  --moe-router-group-topk 4
  --moe-router-topk-scaling-factor 2.5
  --moe-router-enable-expert-bias
  --moe-router-load-balancing-type seq_aux_loss
  --moe-aux-loss-coeff 0.0001
  --moe-token-dispatcher-type flex
  --moe-flex-dispatcher-backend deepep
  --moe-grouped-gemm
  --tensor-model-parallel-size 1
  --context-parallel-size 1
  --pipeline-model-parallel-size 16
  --decoder-first-pipeline-num-layers 4
  --decoder-last-pipeline-num-layers 1
  --expert-model-parallel-size 64
  --expert-tensor-parallel-size 1
  --use-distributed-optimizer
  --overlap-grad-reduce
  --overlap-param-gather
  --recompute-granularity selective
  --recompute-modules core_attn layernorm moe_act mla_up_proj
  --bf16
  --fp8-format e4m3
  --fp8-recipe blockwise
  --moe-permute-fusion
  --moe-router-fusion
  --moe-router-padding-for-fp8
  --cross-entropy-loss-fusion
  --manual-gc
  --manual-gc-interval 100
  --attention-dropout 0
  --hidden-dropout 0
  --micro-batch-size 1
  --global-batch-size 8192
  --log-interval 10
  --log-throughput
)

# --- data, tokenizer, schedule, checkpoints ---
fail() { echo "$(basename "$0"): $*" >&2; exit 1; }
[[ -f "$MEGATRON_LM_DIR/pretrain_gpt.py" ]] || fail "MEGATRON_LM_DIR=$MEGATRON_LM_DIR has no pretrain_gpt.py"
if [[ "$DATA_PATH" == mock ]]; then
  DATA_ARGS=(--mock-data)
else
  [[ "$DATA_PATH" != /path/to/* ]] || fail "set DATA_PATH to your indexed dataset prefix (or to mock)"
  read -r -a DATA_PREFIXES <<< "$DATA_PATH"
  DATA_ARGS=(--data-path "${DATA_PREFIXES[@]}" --split "$DATA_SPLIT")
fi
if [[ "$TOKENIZER_TYPE" == NullTokenizer ]]; then
  TOKENIZER_ARGS=(--tokenizer-type NullTokenizer --vocab-size 129280)
else
  [[ "$TOKENIZER_MODEL" != /path/to/* ]] || fail "set TOKENIZER_MODEL (or TOKENIZER_TYPE=NullTokenizer)"
  TOKENIZER_ARGS=(--tokenizer-type "$TOKENIZER_TYPE" --tokenizer-model "$TOKENIZER_MODEL")
fi
RUN_ARGS=(
  --train-iters "$TRAIN_ITERS"
  --lr "$LR" --min-lr "$MIN_LR" --lr-decay-style cosine --lr-warmup-iters "$LR_WARMUP_ITERS"
  --eval-interval "$EVAL_INTERVAL" --eval-iters "$EVAL_ITERS"
  --distributed-timeout-minutes "$DIST_TIMEOUT_MINUTES"
  --exit-signal-handler  # on SIGTERM: save a checkpoint (with CHECKPOINT_DIR) at the end of the iteration and exit
)
if [[ "$CHECKPOINT_DIR" != none ]]; then
  [[ "$CHECKPOINT_DIR" != /path/to/* ]] || fail "set CHECKPOINT_DIR (or CHECKPOINT_DIR=none)"
  RUN_ARGS+=(--save "$CHECKPOINT_DIR" --load "$CHECKPOINT_DIR" --save-interval "$SAVE_INTERVAL")
fi
read -r -a EXTRA <<< "$EXTRA_ARGS"
TRAIN_ARGS=("${MEGATRON_ARGS[@]}" "${DATA_ARGS[@]}" "${TOKENIZER_ARGS[@]}" "${RUN_ARGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"})

exec torchrun \
  --nnodes "$NNODES" --nproc_per_node "$GPUS_PER_NODE" --node_rank "$NODE_RANK" \
  --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" \
  "$MEGATRON_LM_DIR/pretrain_gpt.py" "${TRAIN_ARGS[@]}"
