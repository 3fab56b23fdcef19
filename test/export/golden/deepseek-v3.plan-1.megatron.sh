# shellcheck shell=bash
# moefold plan 1 for DeepSeek-V3 on 1024 x h100-sxm (128 nodes x 8 GPUs)
# attention: TP1 x CP1 x DP64 x PP16, first/last stage 4/1 layers
# experts:   ETP1 x EP64 x EDP1 x PP16, flex token dispatcher
# batch:     micro-batch 1 x 128 microbatches x DP64 = 8192 sequences of 4096 tokens
# recompute selective, fp8, distributed optimizer
#
# Megatron-LM pretrain_gpt.py arguments of this plan, as a bash fragment. Source it, then start
# pretrain_gpt.py with "${MEGATRON_ARGS[@]}" plus your data, tokenizer, checkpoint and optimizer flags:
#   source plan.megatron.sh
#   torchrun ... "$MEGATRON_LM_DIR/pretrain_gpt.py" "${MEGATRON_ARGS[@]}" --data-path ... --tokenizer-type ...
# The run needs 1024 GPUs (torchrun --nnodes x --nproc_per_node); the torchrun and slurm exports are complete launchers.

export PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True  # MoE buffers change size every step: avoid allocator fragmentation
export NCCL_NVLS_ENABLE=0  # no NVLink SHARP buffers (extra memory per communicator, not in the memory model)

# shellcheck disable=SC2034  # used by the script that sources this file
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
