# shellcheck shell=bash
# moefold plan 1 for Mixtral-8x22B on 128 x h100-sxm (16 nodes x 8 GPUs)
# attention: TP2 x CP1 x DP8 x PP8, 7 virtual stages per PP rank, even split, 7 layers per stage, sequence parallel
# experts:   ETP1 x EP8 x EDP2 x PP8, alltoall token dispatcher
# batch:     micro-batch 1 x 32 microbatches x DP8 = 256 sequences of 4096 tokens
# recompute none, bf16, distributed optimizer
#
# Megatron-LM pretrain_gpt.py arguments of this plan, as a bash fragment. Source it, then start
# pretrain_gpt.py with "${MEGATRON_ARGS[@]}" plus your data, tokenizer, checkpoint and optimizer flags:
#   source plan.megatron.sh
#   torchrun ... "$MEGATRON_LM_DIR/pretrain_gpt.py" "${MEGATRON_ARGS[@]}" --data-path ... --tokenizer-type ...
# The run needs 128 GPUs (torchrun --nnodes x --nproc_per_node); the torchrun and slurm exports are complete launchers.

export CUDA_DEVICE_MAX_CONNECTIONS=1  # required by Megatron with TP > 1 or CP > 1 before Blackwell
export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True  # MoE buffers change size every step: avoid allocator fragmentation
export NCCL_NVLS_ENABLE=0  # no NVLink SHARP buffers (extra memory per communicator, not in the memory model)

# shellcheck disable=SC2034  # used by the script that sources this file
MEGATRON_ARGS=(
  --num-layers 56
  --hidden-size 6144
  --ffn-hidden-size 16384
  --num-attention-heads 48
  --group-query-attention
  --num-query-groups 8
  --kv-channels 128
  --seq-length 4096
  --max-position-embeddings 65536
  --position-embedding-type rope
  --rotary-base 1000000
  --normalization RMSNorm
  --swiglu
  --untie-embeddings-and-output-weights
  --disable-bias-linear
  --make-vocab-size-divisible-by 128
  --num-experts 8
  --moe-router-topk 2
  --moe-ffn-hidden-size 16384
  --moe-layer-freq 1
  --moe-router-score-function softmax
  --moe-router-load-balancing-type aux_loss
  --moe-aux-loss-coeff 0.01
  --moe-token-dispatcher-type alltoall
  --moe-grouped-gemm
  --tensor-model-parallel-size 2
  --context-parallel-size 1
  --pipeline-model-parallel-size 8
  --num-virtual-stages-per-pipeline-rank 7
  --expert-model-parallel-size 8
  --expert-tensor-parallel-size 1
  --sequence-parallel
  --use-distributed-optimizer
  --overlap-grad-reduce
  --overlap-param-gather
  --bf16
  --moe-permute-fusion
  --moe-router-fusion
  --cross-entropy-loss-fusion
  --tp-comm-overlap
  --manual-gc
  --manual-gc-interval 100
  --attention-dropout 0
  --hidden-dropout 0
  --micro-batch-size 1
  --global-batch-size 256
  --log-interval 10
  --log-throughput
)
