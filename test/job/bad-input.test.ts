/**
 * Every bad-input case gives exactly one line: `<file>: <field>: <what is allowed> (got …)`, as an InputError
 * (exit code 2), never a stack trace. Files live in fixtures/bad/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { loadJob, type JobOverrides } from '../../src/job/load-job.js';
import { makeCostModelsDir } from './cost-models-dir.js';

process.chdir(REPO_ROOT);
const costModelsDir = makeCostModelsDir();

function errorOf(file: string, overrides: JobOverrides = {}): InputError {
  try {
    loadJob(file, overrides, { costModelsDir });
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e;
  }
  assert.fail(`${file} loaded without an error`);
}

const B = 'fixtures/bad';
const cases: [file: string, message: string][] = [
  [`${B}/does-not-exist.yaml`, `${B}/does-not-exist.yaml: file not found`],
  [`${B}/yaml-syntax.yaml`, `${B}/yaml-syntax.yaml: YAML syntax error at line 4, column 15: bad indentation of a mapping entry`],
  [`${B}/duplicate-key.yaml`, `${B}/duplicate-key.yaml: YAML syntax error at line 3, column 3: duplicated mapping key`],
  [`${B}/not-a-mapping.yaml`, `${B}/not-a-mapping.yaml: must be a mapping of fields (got a list)`],
  [`${B}/empty.yaml`, `${B}/empty.yaml: is empty (expected a mapping of fields)`],
  [`${B}/clusters`, `${B}/clusters: is a directory without a config.json, not a job file`],
  [`${B}/wrong-type.yaml`, `${B}/wrong-type.yaml: model.num_layers: must be an integer from 1 to 1024 (got "32")`],
  [`${B}/out-of-range.yaml`, `${B}/out-of-range.yaml: model.num_layers: must be an integer >= 1 (got -3)`],
  [`${B}/bad-precision.yaml`, `${B}/bad-precision.yaml: training.precision: must be one of bf16, fp8 (got "fp16")`],
  [`${B}/unknown-field.yaml`, `${B}/unknown-field.yaml: model.num_layer: unknown field (did you mean num_layers?)`],
  [`${B}/unknown-field-flat.yaml`, `${B}/unknown-field-flat.yaml: seq_length: unknown field (a training field: put it under training:)`],
  [
    `${B}/model-field-beside-model.yaml`,
    `${B}/model-field-beside-model.yaml: num_experts: unknown top-level field (this file has a model: mapping, so model fields go under model:)`,
  ],
  [`${B}/missing-required.yaml`, `${B}/missing-required.yaml: model.vocab_size: missing (required; must be an integer from 1 to 4194304)`],
  [
    `${B}/unknown-gpu.yaml`,
    `${B}/unknown-gpu.yaml: cluster.gpu: unknown GPU "h300" (did you mean h200? available: b200, h100-sxm, h200, or the path of a calibration file)`,
  ],
  [
    `${B}/gpus-not-multiple.yaml`,
    `${B}/gpus-not-multiple.yaml: cluster.gpus: must be a multiple of gpus_per_node (8), or a divisor of it for one partial node (got 100)`,
  ],
  [`${B}/missing-gpus.yaml`, `${B}/missing-gpus.yaml: cluster.gpus: missing: set cluster.gpus in the job file or pass --gpus`],
  [`${B}/query-groups.yaml`, `${B}/query-groups.yaml: model.num_query_groups: must divide num_attention_heads (48) (got 7)`],
  [
    `${B}/layer-freq-length.yaml`,
    `${B}/layer-freq-length.yaml: model.moe_layer_freq: list must have one entry per layer: 61 for num_layers 61 (got 60)`,
  ],
  [
    `${B}/layer-freq-values.yaml`,
    `${B}/layer-freq-values.yaml: model.moe_layer_freq: list entries must be 0 (dense layer) or 1 (MoE layer) (got 2 at index 2)`,
  ],
  [
    `${B}/layer-freq-expression.yaml`,
    `${B}/layer-freq-expression.yaml: model.moe_layer_freq: must be an integer >= 1, a 0/1 list or a list expression such as "([0]*3+[1]*58)" using only digits , [ ] ( ) + * (got "([0]*3+[1]*x)")`,
  ],
  [`${B}/topk-over-experts.yaml`, `${B}/topk-over-experts.yaml: model.moe_router_topk: must be <= num_experts (8) (got 10)`],
  [`${B}/mla-without-flag.yaml`, `${B}/mla-without-flag.yaml: model.q_lora_rank: only valid with multi_latent_attention: true`],
  [
    `${B}/kv-channels-needed.yaml`,
    `${B}/kv-channels-needed.yaml: model.kv_channels: missing: required when hidden_size (1000) is not divisible by num_attention_heads (24)`,
  ],
  [
    `${B}/max-pos-below-seq.yaml`,
    `${B}/max-pos-below-seq.yaml: model.max_position_embeddings: must be >= training.seq_length (4096) (got 2048)`,
  ],
  [`${B}/group-topk.yaml`, `${B}/group-topk.yaml: model.moe_router_group_topk: must be <= moe_router_num_groups (8) (got 9)`],
  [
    `${B}/expert-bias-softmax.yaml`,
    `${B}/expert-bias-softmax.yaml: model.moe_router_enable_expert_bias: needs moe_router_score_function: sigmoid (got softmax)`,
  ],
  [`${B}/cluster-file-missing.yaml`, `${B}/cluster-file-missing.yaml: cluster: cluster file not found: fixtures/clusters/h100-9999.yaml`],
  [
    `${B}/cluster-file-bad.yaml`,
    // The value is wrong in the cluster file, so the message names that file and its field.
    `${B}/clusters/twelve-gpus.yaml: gpus: must be a multiple of gpus_per_node (8), or a divisor of it for one partial node (got 12)`,
  ],
  [
    `${B}/cluster-not-mapping.yaml`,
    `${B}/cluster-not-mapping.yaml: cluster: must be a mapping with gpu, gpus, gpus_per_node, or the path of a cluster file (got the number 128)`,
  ],
  [
    `${B}/hf-missing-layers/config.json`,
    `${B}/hf-missing-layers/config.json: num_hidden_layers: missing (needed to import a Llama config)`,
  ],
  [
    `${B}/hf-unknown-type/config.json`,
    `${B}/hf-unknown-type/config.json: model_type "foo": not supported: moefold has no import rules for this architecture `
      + '(supported: mixtral, qwen2_moe, qwen3_moe, deepseek_v2, deepseek_v3, llama, mistral, qwen2, qwen3, olmoe, glm4_moe, dots1, minimax_m2)',
  ],
  [
    `${B}/hf-head-dim/config.json`,
    `${B}/hf-head-dim/config.json: head_dim: missing: required when hidden_size (2000) is not divisible by num_attention_heads (24)`,
  ],
  // Hostile input (see also hostile-input.test.ts, which runs these through the CLI with a time limit).
  [
    `${B}/alias-bomb-int.yaml`,
    `${B}/alias-bomb-int.yaml: model.num_layers: must be an integer from 1 to 1024 (got [[a list of 8, a list of 8, a list of 8, a list of 8, a list of 8, a list of 8, a list of 8, a list of 8], …])`,
  ],
  [
    `${B}/alias-bomb-layer-freq.yaml`,
    `${B}/alias-bomb-layer-freq.yaml: model.moe_layer_freq: list entries must be 0 (dense layer) or 1 (MoE layer) (got [[a list of 8, a list of 8, a list of 8, a list of 8, a list of 8, a list of 8, a list of 8, a list of 8], …] at index 0)`,
  ],
  [
    `${B}/layer-freq-huge.yaml`,
    `${B}/layer-freq-huge.yaml: model.moe_layer_freq: list must have one entry per layer: 4 for num_layers 4 (the expression gives 1000000000)`,
  ],
  [`${B}/proto-key.yaml`, `${B}/proto-key.yaml: model.__proto__: key not allowed (__proto__, constructor, prototype are refused in every input file)`],
  [
    `${B}/constructor-key.yaml`,
    `${B}/constructor-key.yaml: cluster.constructor: key not allowed (__proto__, constructor, prototype are refused in every input file)`,
  ],
  [`${B}/too-many-layers.yaml`, `${B}/too-many-layers.yaml: model.num_layers: must be an integer from 1 to 1024 (got 1e+308)`],
  [`${B}/too-many-experts.yaml`, `${B}/too-many-experts.yaml: model.num_experts: must be an integer from 0 to 16384 (got 1000000)`],
  [`${B}/too-many-gpus.yaml`, `${B}/too-many-gpus.yaml: cluster.gpus: must be an integer from 1 to 1048576 (got 2147483648)`],
  [`${B}/seq-too-long.yaml`, `${B}/seq-too-long.yaml: training.seq_length: must be an integer from 1 to 16777216 (got 1000000000)`],
  // 2^53 + 1 reads as 2^53 in JavaScript: refused by the bound, never rounded silently.
  [`${B}/unsafe-integer.yaml`, `${B}/unsafe-integer.yaml: model.ffn_hidden_size: must be an integer from 1 to 1048576 (got a number of 2^53 or more)`],
  [`${B}/nan.yaml`, `${B}/nan.yaml: model.num_layers: must be an integer from 1 to 1024 (got NaN)`],
  [`${B}/float-for-int.yaml`, `${B}/float-for-int.yaml: model.ffn_hidden_size: must be an integer from 1 to 1048576 (got 4096.5)`],
  [`${B}/number-too-large.yaml`, `${B}/number-too-large.yaml: model.moe_aux_loss_coeff: must be a number from 0 to 1000 (got 1000000000)`],
  // The named file is a token, not YAML: the message says what it is, never what it holds.
  [`${B}/model-is-text.yaml`, `${B}/clusters/token.txt: must be a mapping of fields (got a text of 78 characters)`],
  [`${B}/not-utf8.yaml`, `${B}/not-utf8.yaml: is not UTF-8 text (save it as UTF-8)`],
];

for (const [file, message] of cases) {
  test(`bad input: ${file}`, () => {
    const e = errorOf(file);
    assert.equal(e.message, message);
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes('\n'), 'one line');
  });
}

test('every file in fixtures/bad has a case (none is left untested)', async () => {
  const fs = await import('node:fs');
  const tested = new Set(cases.map(([f]) => f));
  for (const name of fs.readdirSync(B)) {
    const p = `${B}/${name}`;
    if (name === 'clusters') continue; // referenced by cluster-file-bad.yaml
    const file = fs.statSync(p).isDirectory() ? `${p}/config.json` : p;
    assert.ok(tested.has(file), `${file} has no test case`);
  }
});
