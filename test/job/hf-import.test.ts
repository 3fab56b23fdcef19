/**
 * Hugging Face config.json import: each family's sample in fixtures/hf/ resolves to the same ModelSpec as the
 * YAML fixture for that model, except for the listed fields where the YAML fixture carries a launch choice that
 * an HF config does not hold (each such difference is asserted value by value).
 */
import { defaultFinetune } from '../../src/job/finetune.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { jobFromObject, loadJob } from '../../src/job/load-job.js';
import { countParams } from '../../src/job/params.js';
import { modelShape } from '../../src/job/shape.js';
import type { ModelSpec } from '../../src/job/types.js';
import { makeCostModelsDir } from './cost-models-dir.js';
import { defaultStack } from '../../src/job/stack.js';

process.chdir(REPO_ROOT);
const opts = { costModelsDir: makeCostModelsDir() };
const over = { gpus: 8 };

type Diff = Partial<Record<keyof ModelSpec, [yamlValue: unknown, hfValue: unknown]>>;
const pairs: [hfDir: string, yamlFile: string, differences: Diff][] = [
  // the YAML fixtures carry the zoo's load-balancing coefficient; the import takes the config's router_aux_loss_coef
  ['Mixtral-8x7B', 'mixtral-8x7b.yaml', { moe_aux_loss_coeff: [0.01, 0.02] }],
  ['Mixtral-8x22B', 'mixtral-8x22b.yaml', { moe_aux_loss_coeff: [0.01, 0.001] }],
  // The zoo passes --ffn-hidden-size 2560; HF's intermediate_size (dense layers, of which Qwen2-57B has none) is 18944.
  ['Qwen2-57B-A14B', 'qwen2-57b-a14b.yaml', { ffn_hidden_size: [2560, 18944], moe_aux_loss_coeff: [0.01, 0.001] }],
  ['Qwen3-30B-A3B', 'qwen3-30b-a3b.yaml', {}],
  ['Qwen3-235B-A22B', 'qwen3-235b-a22b.yaml', {}],
  // the zoo's seq_aux_loss coefficient 1e-4 (the paper's); config.json's aux_loss_alpha is 0.001; init std 0.006 (the
  // technical report and Bridge's recipe) where config.json's initializer_range says 0.02
  ['DeepSeek-V3', 'deepseek-v3.yaml', { moe_aux_loss_coeff: [0.0001, 0.001], init_method_std: [0.006, 0.02] }],
  ['Llama3-70B', 'llama3-70b.yaml', {}],
];

for (const [dir, yamlFile, differences] of pairs) {
  test(`HF ${dir} resolves like fixtures/models/${yamlFile}`, () => {
    const fromHf = loadJob(`fixtures/hf/${dir}/config.json`, over, opts).model as unknown as Record<string, unknown>;
    const fromYaml = loadJob(`fixtures/models/${yamlFile}`, over, opts).model as unknown as Record<string, unknown>;
    for (const [field, [y, h]] of Object.entries(differences) as [string, [unknown, unknown]][]) {
      assert.deepEqual(fromYaml[field], y, `yaml ${field}`);
      assert.deepEqual(fromHf[field], h, `hf ${field}`);
      delete fromYaml[field];
      delete fromHf[field];
    }
    assert.deepEqual(fromHf, fromYaml);
  });
}

test('HF DeepSeek-V3: layer mask, MLA and router fields come from their DeepSeek names', () => {
  const m = loadJob('fixtures/hf/DeepSeek-V3/config.json', over, opts).model;
  assert.equal(modelShape(m).numMoeLayers, 58);
  assert.equal(m.moe_shared_expert_intermediate_size, 2048); // n_shared_experts 1 × moe_intermediate_size 2048
  assert.equal(m.moe_router_num_groups, 8);
  assert.equal(m.moe_router_group_topk, 4);
  assert.equal(m.moe_router_enable_expert_bias, true); // topk_method noaux_tc
  assert.equal(m.mtp_num_layers, 1);
  assert.equal(m.qk_head_dim, 128); // qk_nope_head_dim
});

test('HF Qwen2-MoE: qkv bias and pre-softmax routing (norm_topk_prob false)', () => {
  const m = loadJob('fixtures/hf/Qwen2-57B-A14B/config.json', over, opts).model;
  assert.equal(m.add_qkv_bias, true);
  assert.equal(m.moe_router_pre_softmax, true);
  assert.equal(m.moe_shared_expert_intermediate_size, 20480);
});

test('OLMoE (its own family: every layer MoE, experts of intermediate_size) is imported', () => {
  const job = loadJob('fixtures/hf/OLMoE-1B-7B/config.json', over, opts);
  const m = job.model;
  assert.equal(m.name, 'OLMoE-1B-7B');
  assert.equal(m.num_experts, 64);
  assert.equal(m.moe_router_topk, 8);
  assert.equal(m.moe_ffn_hidden_size, 1024); // no moe_intermediate_size: intermediate_size
  assert.equal(m.moe_router_pre_softmax, true); // norm_topk_prob false
  assert.equal(m.moe_layer_freq, 1);
  const p = countParams(m);
  assert.ok(Math.abs(p.total / 6.9e9 - 1) < 0.03, `total ${p.total}`); // OLMoE-1B-7B: 6.9B total, 1.3B active
  assert.ok(Math.abs(p.active / 1.3e9 - 1) < 0.05, `active ${p.active}`);
});

test('an HF config has no cluster: --gpus is required, defaults fill training', () => {
  assert.throws(
    () => loadJob('fixtures/hf/Llama3-70B/config.json', {}, opts),
    (e: unknown) =>
      e instanceof InputError &&
      e.message === 'fixtures/hf/Llama3-70B/config.json: cluster.gpus: missing: set cluster.gpus in the job file or pass --gpus',
  );
  const job = loadJob('fixtures/hf/Llama3-70B', { gpus: 16, seqLength: 16384 }, opts); // a directory holding config.json
  assert.equal(job.source, 'fixtures/hf/Llama3-70B/config.json');
  // the model brings its dropout (config.json attention_dropout 0.0; no hidden dropout) as training defaults
  assert.deepEqual(job.training, { seq_length: 16384, global_batch_size: 1024, precision: 'bf16', ...defaultStack(), ...defaultFinetune(), attention_dropout: 0, hidden_dropout: 0 });
  // Rope model: max_position_embeddings 8192 is raised to the sequence length.
  assert.equal(job.model.max_position_embeddings, 16384);
});

test('a job file may point model: at an HF config', () => {
  const job = jobFromObject(
    { model: '../hf/Mixtral-8x22B/config.json', training: { global_batch_size: 256 }, cluster: '../clusters/h100-128.yaml' },
    'fixtures/models/inline.yaml',
    {},
    opts,
  );
  assert.equal(job.model.name, 'Mixtral-8x22B');
  assert.equal(job.model.num_experts, 8);
  assert.equal(job.cluster.gpus, 128);
  assert.equal(job.training.global_batch_size, 256);
});

const hfBase = {
  model_type: 'qwen2_moe',
  num_hidden_layers: 6,
  hidden_size: 1024,
  num_attention_heads: 8,
  vocab_size: 1000,
  intermediate_size: 4096,
  num_experts: 8,
  num_experts_per_tok: 2,
  moe_intermediate_size: 512,
};

test('Qwen decoder_sparse_step / mlp_only_layers become a layer list', () => {
  const m = jobFromObject({ ...hfBase, decoder_sparse_step: 2, mlp_only_layers: [5] }, 'q.json', over, opts).model;
  // MoE iff (i+1) % 2 == 0 and i not in [5]: layers 1 and 3.
  assert.deepEqual(m.moe_layer_freq, [0, 1, 0, 1, 0, 0]);
  const every2 = jobFromObject({ ...hfBase, mlp_only_layers: [1, 3, 5] }, 'q.json', over, opts).model;
  assert.equal(every2.moe_layer_freq, 2); // layers 0, 2, 4: the int form fits
});

test('DeepSeek-V2-Lite-like config: no q-LoRA, softmax without renormalising, no groups', () => {
  const m = jobFromObject(
    {
      model_type: 'deepseek_v2',
      num_hidden_layers: 27,
      hidden_size: 2048,
      num_attention_heads: 16,
      vocab_size: 102400,
      intermediate_size: 10944,
      moe_intermediate_size: 1408,
      n_routed_experts: 64,
      n_shared_experts: 2,
      num_experts_per_tok: 6,
      first_k_dense_replace: 1,
      moe_layer_freq: 1,
      q_lora_rank: null,
      kv_lora_rank: 512,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
      n_group: 1,
      topk_group: 1,
      topk_method: 'greedy',
      norm_topk_prob: false,
      routed_scaling_factor: 1.0,
      scoring_func: 'softmax',
      tie_word_embeddings: false,
    },
    'v2-lite.json',
    over,
    opts,
  ).model;
  assert.equal(m.q_lora_rank, 0);
  assert.equal(m.multi_latent_attention, true);
  assert.equal(m.moe_shared_expert_intermediate_size, 2816);
  assert.equal(m.moe_router_pre_softmax, true);
  assert.equal(m.moe_router_num_groups, 0);
  assert.equal(m.moe_router_topk_scaling_factor, 0);
  assert.equal(m.mtp_num_layers, 0);
  assert.equal(modelShape(m).numMoeLayers, 26);
});

/** The message of the InputError that importing `obj` as config.json throws. */
function messageOf(obj: Record<string, unknown>): string {
  try {
    jobFromObject(obj, 'config.json', over, opts);
  } catch (e) {
    assert.ok(e instanceof InputError);
    return e.message;
  }
  return assert.fail('no error');
}

test('HF import errors name the HF field', () => {
  assert.equal(
    messageOf({ ...hfBase, num_key_value_heads: 3 }),
    'config.json: num_key_value_heads: must divide num_attention_heads (8) (got 3)',
  );
  assert.equal(messageOf({ ...hfBase, num_experts_per_tok: 9 }), 'config.json: num_experts_per_tok: must be <= num_experts (8) (got 9)');
  assert.equal(messageOf({ ...hfBase, hidden_size: '1024' }), 'config.json: hidden_size: must be an integer from 1 to 131072 (got "1024")');
  assert.equal(
    messageOf({ ...hfBase, num_experts_per_tok: undefined }),
    'config.json: num_experts_per_tok: missing (needed to import a Qwen2-MoE config)',
  );
  // scoring_func is DeepSeek's (Qwen2-MoE's HF code has none and ignores it).
  const deepseekBase = { ...hfBase, model_type: 'deepseek_v3', num_experts: undefined, n_routed_experts: 8 };
  assert.equal(messageOf({ ...deepseekBase, scoring_func: 'relu' }), 'config.json: scoring_func: must be softmax or sigmoid (got "relu")');
  assert.equal(
    messageOf({ model_type: 'llama', num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4, vocab_size: 10 }),
    'config.json: intermediate_size: missing (needed to import a Llama config)',
  );
});

test('HF import: numbers beyond their bounds name the HF field and its range, not a derived product', () => {
  assert.equal(messageOf({ ...hfBase, hidden_size: 1e308 }), 'config.json: hidden_size: must be an integer from 1 to 131072 (got 1e+308)');
  assert.equal(messageOf({ ...hfBase, vocab_size: 1e308 }), 'config.json: vocab_size: must be an integer from 1 to 4194304 (got 1e+308)');
  assert.equal(messageOf({ ...hfBase, max_position_embeddings: 1e308 }),
    'config.json: max_position_embeddings: must be an integer from 1 to 1073741824 (got 1e+308)');
  assert.equal(messageOf({ ...hfBase, decoder_sparse_step: 1e308 }), 'config.json: decoder_sparse_step: must be an integer from 1 to 1024 (got 1e+308)');
  const deepseek = {
    model_type: 'deepseek_v2', num_hidden_layers: 4, hidden_size: 1024, num_attention_heads: 8, vocab_size: 1000,
    intermediate_size: 4096, moe_intermediate_size: 14336, n_routed_experts: 8, num_experts_per_tok: 2,
  };
  assert.equal(messageOf({ ...deepseek, n_shared_experts: 100000000 }),
    'config.json: n_shared_experts: must be an integer from 0 to 16384 (got 100000000)');
  assert.equal(messageOf({ ...deepseek, n_shared_experts: 1000 }),
    'config.json: n_shared_experts: n_shared_experts × moe_intermediate_size must be at most 4194304 (got 1000 × 14336)');
});
