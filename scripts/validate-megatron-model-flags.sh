#!/usr/bin/env bash
# Dev-time check (not run by `npm test`): the Megatron-LM argument lists of the top plans of the model fixtures,
# with their rotary / norm / init / shared-gate / dropout flags, through Megatron-LM's own parser and
# validate_args (../shared/tools/megatron_validate.py), plus Megatron's TransformerConfig built from the parsed
# arguments (core_transformer_config_from_args: MLA YaRN fields, norm epsilon, init std, shared-expert gate).
# Usage: scripts/validate-megatron-model-flags.sh MEGATRON_DIR [TOP]
#   MEGATRON_DIR: a work tree of NVIDIA/Megatron-LM (e.g. `git archive d98e8a6 | tar -x -C DIR`).
# Needs /usr/bin/python3 with python3-torch and python3-packaging; run after `npx tsc -p tsconfig.json`.
set -euo pipefail
mlm=$1
top=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
cases=$out/cases.jsonl
# a YaRN model on standard attention (Qwen3-30B-A3B with a Qwen-style yarn rope_scaling), written here
cat >"$out/qwen3-yarn.yaml" <<YAML
model: $here/fixtures/models/qwen3-30b-a3b.yaml
training: {seq_length: 4096, global_batch_size: 512, precision: bf16}
cluster: {gpu: h100-sxm, gpus: 16}
YAML
sed 's/^  norm_epsilon: .*/&\n  rope_scaling: {type: yarn, factor: 4, original_max_position_embeddings: 32768}/' \
  "$here/fixtures/models/qwen3-30b-a3b.yaml" >"$out/qwen3-30b-a3b-yarn.yaml"
sed -i "s|$here/fixtures/models/qwen3-30b-a3b.yaml|$out/qwen3-30b-a3b-yarn.yaml|" "$out/qwen3-yarn.yaml"
for spec in models/deepseek-v3.yaml: models/qwen3-235b-a22b.yaml: models/llama3.1-405b.yaml: models/qwen2-57b-a14b.yaml:256 \
  models/mixtral-8x22b.yaml: hf/GLM-4.5-Air/config.json:64 "$out/qwen3-yarn.yaml":; do
  f=${spec%%:*}; gpus=${spec#*:}
  case $f in /*) path=$f ;; *) path=$here/fixtures/$f ;; esac
  dir=$out/$(echo "$f" | tr '/.' '__')
  node "$here/bin/moefold.js" tune "$path" ${gpus:+--gpus "$gpus"} --top "$top" --out "$dir" --export megatron >/dev/null
  for sh in "$dir"/plan-*.megatron.sh; do
    # shellcheck disable=SC1090
    ( source "$sh"
      world=$(sed -n 's/^# moefold plan .* on \([0-9]*\) x .*/\1/p' "$sh")
      vocab=$(node -e "const j=require('$dir/plans.json');console.log(j.model.vocab_size)")
      node -e 'const [w,v,...a]=process.argv.slice(1);const env={};for(const k of ["CUDA_DEVICE_MAX_CONNECTIONS","PYTORCH_CUDA_ALLOC_CONF","NCCL_NVLS_ENABLE","NCCL_GRAPH_REGISTER"]) if(process.env[k]!==undefined) env[k]=process.env[k];
        console.log(JSON.stringify({world:Number(w),args:[...a,"--mock-data","--tokenizer-type","NullTokenizer","--vocab-size",v,"--lr","1.0e-4","--train-iters","10"],env}))' \
        "$world" "$vocab" "${MEGATRON_ARGS[@]}" ) >>"$cases"
  done
done
echo "$(wc -l <"$cases") launches"
export MEGATRON_TE_VERSION=${MEGATRON_TE_VERSION:-2.12.0}
/usr/bin/python3 "$here/../shared/tools/megatron_validate.py" "$mlm" - <"$cases"
# the configs Megatron builds from them (the first plan of each model)
awk 'NR % '"$top"' == 1' "$cases" >"$out/first.jsonl"
/usr/bin/python3 "$here/scripts/megatron-model-config.py" "$here/../shared/tools/megatron_validate.py" "$mlm" "$out/first.jsonl" 2>/dev/null | grep '^{'

