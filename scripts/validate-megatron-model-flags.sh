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
for spec in deepseek-v3.yaml: qwen3-235b-a22b.yaml: llama3.1-405b.yaml: qwen2-57b-a14b.yaml:256 mixtral-8x22b.yaml:; do
  f=${spec%%:*}; gpus=${spec#*:}
  dir=$out/${f%.yaml}
  node "$here/bin/moefold.js" tune "$here/fixtures/models/$f" ${gpus:+--gpus "$gpus"} --top "$top" --out "$dir" --export megatron >/dev/null
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
MEGATRON_TE_VERSION=${MEGATRON_TE_VERSION:-2.12.0} /usr/bin/python3 "$here/../shared/tools/megatron_validate.py" "$mlm" - <"$cases"
