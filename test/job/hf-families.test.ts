/**
 * Hugging Face import by family (src/job/hf-families.ts): every sample in fixtures/hf is either planned or
 * refused with one line naming the architecture and the feature; the families added with sigmoid routers,
 * expert bias, first dense layers and shared experts import with those fields and close to their published
 * sizes; a field that changes the network in a way moefold cannot represent is refused in any family.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { HF_FAMILIES, familyListMarkdown } from '../../src/job/hf-families.js';
import { jobFromObject, loadJob } from '../../src/job/load-job.js';
import { countParams } from '../../src/job/params.js';
import { modelShape } from '../../src/job/shape.js';
import { moefold } from '../cli/run-cli.js';
import { makeCostModelsDir } from './cost-models-dir.js';

process.chdir(REPO_ROOT);
const opts = { costModelsDir: makeCostModelsDir() };
const over = { gpus: 8 };

const HF = 'fixtures/hf';
const planned = fs.readdirSync(HF).filter((d) => fs.statSync(`${HF}/${d}`).isDirectory()).sort().map((d) => `${HF}/${d}/config.json`);
const refused = fs.readdirSync(HF).filter((f) => f.endsWith('.refused.json')).sort().map((f) => `${HF}/${f}`);

/** The message of the InputError `fn` throws. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e.message;
  }
  return assert.fail('no error');
}
const importError = (obj: Record<string, unknown>): string => messageOf(() => jobFromObject(obj, 'config.json', over, opts));

test('fixtures/hf: every directory is planned, every *.refused.json is refused with one line naming the architecture', () => {
  assert.ok(planned.length >= 12 && refused.length >= 7, `${planned.length} planned, ${refused.length} refused`);
  for (const f of planned) {
    const r = moefold('tune', f, '--gpus', '8', '--dry-run', '--quiet');
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
  for (const f of refused) {
    const cfg = JSON.parse(fs.readFileSync(f, 'utf8')) as { model_type: string };
    const row = HF_FAMILIES.find((x) => x.modelTypes.includes(cfg.model_type));
    assert.ok(row !== undefined && !row.supported, `${f}: model_type ${cfg.model_type} has a refused row`);
    const r = moefold('tune', f, '--gpus', '8', '--dry-run', '--quiet');
    assert.equal(r.status, 2, `${f}: exit ${r.status}`);
    assert.equal(r.stdout, '', f);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `${f}: ${r.stderr}`);
    assert.ok(lines[0].length < 400, `${f}: ${lines[0].length} characters`);
    assert.ok(
      lines[0].startsWith(`${f}: model_type "${cfg.model_type}": not supported: ${row.reason} (supported: mixtral, `),
      lines[0],
    );
  }
});

// Published totals (model cards on the Hugging Face hub), without the multi-token-prediction layer, which the
// published totals leave out: GLM-4.5 "355B total, 32B active", GLM-4.5-Air "106B total, 12B active"
// (zai-org/GLM-4.5, zai-org/GLM-4.5-Air; active without embeddings), dots.llm1 "142B total, 14B active"
// (rednote-hilab/dots.llm1.base; active with embeddings).
const near = (got: number, want: number, what: string): void =>
  assert.ok(Math.abs(got / want - 1) < 0.02, `${what}: ${(got / 1e9).toFixed(2)}B, published ${want / 1e9}B`);

test('GLM-4.5: sigmoid router with expert bias, 3 dense layers, 1 shared expert, MTP 1, 355B total', () => {
  const m = loadJob(`${HF}/GLM-4.5/config.json`, over, opts).model;
  assert.equal(m.moe_router_score_function, 'sigmoid');
  assert.equal(m.moe_router_enable_expert_bias, true);
  assert.equal(m.moe_router_pre_softmax, false);
  assert.equal(m.moe_router_topk_scaling_factor, 2.5);
  assert.equal(m.moe_router_num_groups, 0); // n_group 1
  assert.deepEqual(m.moe_layer_freq, [0, 0, 0, ...Array<number>(89).fill(1)]); // first_k_dense_replace 3
  assert.equal(m.moe_shared_expert_intermediate_size, 1536); // n_shared_experts 1 × moe_intermediate_size
  assert.equal(m.num_experts, 160);
  assert.equal(m.ffn_hidden_size, 12288);
  assert.equal(m.qk_layernorm, true); // use_qk_norm
  assert.equal(m.add_qkv_bias, true); // attention_bias
  assert.equal(m.kv_channels, 128);
  assert.equal(m.mtp_num_layers, 1);
  const p = countParams(m);
  near(p.total - p.mtpTotal, 355e9, 'total');
  near(p.active - p.mtpActive - p.embedding, 32e9, 'active');
});

test('GLM-4.5-Air: 1 dense layer, no qk norm, no scaling, 106B total', () => {
  const m = loadJob(`${HF}/GLM-4.5-Air/config.json`, over, opts).model;
  assert.equal(m.moe_router_score_function, 'sigmoid');
  assert.equal(m.moe_router_enable_expert_bias, true);
  assert.equal(m.moe_router_topk_scaling_factor, 0); // routed_scaling_factor 1.0: unset
  assert.equal(modelShape(m).numDenseLayers, 1);
  assert.equal((m.moe_layer_freq as number[])[0], 0);
  assert.equal(m.moe_shared_expert_intermediate_size, 1408);
  assert.equal(m.qk_layernorm, false);
  const p = countParams(m);
  near(p.total - p.mtpTotal, 106e9, 'total');
  near(p.active - p.mtpActive - p.embedding, 12e9, 'active');
});

test('dots.llm1: sigmoid router with expert bias, 1 dense layer, 2 shared experts, qk norm, 142B total', () => {
  const m = loadJob(`${HF}/dots.llm1/config.json`, over, opts).model;
  assert.equal(m.moe_router_score_function, 'sigmoid');
  assert.equal(m.moe_router_enable_expert_bias, true);
  assert.equal(m.moe_router_topk_scaling_factor, 2.5);
  assert.deepEqual(m.moe_layer_freq, [0, ...Array<number>(61).fill(1)]);
  assert.equal(m.moe_shared_expert_intermediate_size, 2816); // 2 × 1408
  assert.equal(m.moe_router_topk, 6);
  assert.equal(m.qk_layernorm, true);
  assert.equal(m.mtp_num_layers, 0);
  const p = countParams(m);
  near(p.total, 142e9, 'total');
  near(p.active, 14e9, 'active');
});

// MiniMaxAI/MiniMax-M2 model card: "230B total parameters with 10B active" (active without embeddings; the
// published 10B is rounded, hence 3%).
test('MiniMax-M2: sigmoid router with expert bias, every layer MoE, no shared expert, 230B total', () => {
  const m = loadJob(`${HF}/MiniMax-M2/config.json`, over, opts).model;
  assert.equal(m.moe_router_score_function, 'sigmoid');
  assert.equal(m.moe_router_enable_expert_bias, true);
  assert.equal(m.moe_router_pre_softmax, false);
  assert.equal(m.moe_layer_freq, 1);
  assert.equal(m.moe_shared_expert_intermediate_size, 0);
  assert.equal(m.moe_ffn_hidden_size, 1536); // intermediate_size, as Mixtral
  assert.equal(m.num_experts, 256);
  assert.equal(m.qk_layernorm, true);
  const p = countParams(m);
  near(p.total, 230e9, 'total');
  const active = p.active - p.embedding;
  assert.ok(Math.abs(active / 10e9 - 1) < 0.03, `active ${active}`);
});

test('OLMoE is its own family: every layer MoE, experts of intermediate_size, q/k norm', () => {
  const m = loadJob(`${HF}/OLMoE-1B-7B/config.json`, over, opts).model;
  assert.equal(m.qk_layernorm, true); // q_norm / k_norm over the projections
  assert.equal(m.moe_ffn_hidden_size, 1024);
  assert.equal(m.moe_layer_freq, 1);
  assert.equal(m.moe_shared_expert_intermediate_size, 0);
});

const glmBase = {
  model_type: 'glm4_moe',
  num_hidden_layers: 4,
  hidden_size: 256,
  num_attention_heads: 4,
  vocab_size: 1000,
  intermediate_size: 1024,
  n_routed_experts: 8,
  num_experts_per_tok: 2,
  moe_intermediate_size: 128,
};

test('GLM-4-MoE defaults: one shared expert and one dense layer when the config does not say', () => {
  const m = jobFromObject(glmBase, 'glm.json', over, opts).model;
  assert.equal(m.moe_shared_expert_intermediate_size, 128);
  assert.deepEqual(m.moe_layer_freq, [0, 1, 1, 1]);
  assert.equal(m.moe_router_score_function, 'sigmoid');
  assert.equal(m.moe_router_enable_expert_bias, true);
  // Sigmoid scores are always renormalised by Megatron: a config that does not renormalise is refused.
  assert.equal(
    importError({ ...glmBase, norm_topk_prob: false }),
    'config.json: norm_topk_prob: model_type "glm4_moe": not supported: sigmoid routing without renormalising the top-k weights (Megatron renormalises them) cannot be represented',
  );
});

test('dots1 needs n_shared_experts, and its default sliding window applies past max_window_layers', () => {
  const dots = { ...glmBase, model_type: 'dots1', n_shared_experts: 1, first_k_dense_replace: 1, norm_topk_prob: true };
  assert.equal(jobFromObject(dots, 'd.json', over, opts).model.qk_layernorm, true);
  assert.equal(
    importError({ ...dots, n_shared_experts: undefined }),
    'config.json: n_shared_experts: missing (needed to import a dots1 config)',
  );
  assert.equal(
    importError({ ...dots, max_window_layers: 2 }),
    'config.json: max_window_layers: model_type "dots1": not supported: sliding-window attention from layer 2 cannot be represented',
  );
  assert.equal(jobFromObject({ ...dots, max_window_layers: 2, sliding_window: null }, 'd.json', over, opts).model.num_layers, 4);
});

const llama = { model_type: 'llama', num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4, vocab_size: 10, intermediate_size: 128 };

test('sliding windows and non-full layer kinds are refused in the families that apply them', () => {
  assert.equal(
    importError({ ...llama, model_type: 'mistral', sliding_window: 4096 }),
    'config.json: sliding_window: model_type "mistral": not supported: sliding-window attention (sliding_window 4096) cannot be represented',
  );
  assert.equal(jobFromObject({ ...llama, model_type: 'mistral', sliding_window: null }, 'm.json', over, opts).model.num_layers, 2);
  assert.equal(
    importError({ ...llama, model_type: 'qwen2', use_sliding_window: true, sliding_window: 4096, max_window_layers: 1 }),
    'config.json: use_sliding_window: model_type "qwen2": not supported: sliding-window attention (sliding_window 4096) cannot be represented',
  );
  // use_sliding_window false (Qwen2-57B-A14B's config): the stated window is not used.
  assert.equal(jobFromObject({ ...llama, model_type: 'qwen2', use_sliding_window: false, sliding_window: 4096 }, 'q.json', over, opts).model.add_qkv_bias, true);
  assert.equal(
    importError({ ...llama, model_type: 'qwen3', layer_types: ['full_attention', 'sliding_attention'] }),
    'config.json: layer_types: model_type "qwen3": not supported: layers of kind "sliding_attention" cannot be represented',
  );
  assert.equal(jobFromObject({ ...llama, layer_types: ['full_attention', 'full_attention'] }, 'l.json', over, opts).model.num_layers, 2);
});

test('fields of architectures moefold cannot represent are refused whatever the model_type says', () => {
  assert.equal(
    importError({ ...llama, mamba_d_state: 16 }),
    'config.json: mamba_d_state: model_type "llama": not supported: Mamba (state-space) layers cannot be represented',
  );
  assert.equal(
    importError({ ...llama, model_type: 'mixtral', num_local_experts: 8, num_experts_per_tok: 2, parallel_attn_mlp_res: true }),
    'config.json: parallel_attn_mlp_res: model_type "mixtral": not supported: a dense residual MLP beside the MoE cannot be represented',
  );
  assert.equal(
    importError({ ...llama, model_type: 'qwen3', attention_chunk_size: 8192 }),
    'config.json: attention_chunk_size: model_type "qwen3": not supported: chunked local attention cannot be represented',
  );
  // MiniMax's attn_type_list with only full-attention layers (1) is plain attention.
  assert.equal(jobFromObject({ ...llama, attn_type_list: [1, 1] }, 'f.json', over, opts).model.num_layers, 2);
  // An architecture with no import rules is refused, not guessed as Llama-like.
  assert.match(importError({ ...llama, model_type: 'kimi_k2' }), /^config\.json: model_type "kimi_k2": not supported: moefold has no import rules for this architecture \(supported: mixtral, /);
});

test('families are matched exactly: llama4 is not Llama, a refused architecture without model_type is named', () => {
  assert.match(importError({ ...llama, model_type: 'llama4_text' }), /^config\.json: model_type "llama4_text": not supported: chunked local attention/);
  assert.match(importError({ ...llama, model_type: 'llama4' }), /^config\.json: model_type "llama4": not supported: /);
  const { model_type: _t, ...noType } = llama;
  assert.match(
    importError({ ...noType, architectures: ['JambaForCausalLM'] }),
    /^config\.json: architectures\[0\] "JambaForCausalLM": not supported: Mamba \(state-space\) layers cannot be represented \(supported: mixtral, /,
  );
  // A supported model_type with a refused class name: the class decides what HF builds, so it is refused.
  assert.match(importError({ ...llama, architectures: ['ArcticForCausalLM'] }), /^config\.json: architectures\[0\] "ArcticForCausalLM": not supported: the dense residual MLP/);
  // A field name from another family is not read: Mixtral's HF code has no decoder_sparse_step.
  const mixtral = { ...llama, model_type: 'mixtral', num_local_experts: 4, num_experts_per_tok: 2, decoder_sparse_step: 2 };
  assert.equal(jobFromObject(mixtral, 'x.json', over, opts).model.moe_layer_freq, 1);
});

test('the README list names every family once, supported first', () => {
  const md = familyListMarkdown();
  for (const f of HF_FAMILIES) {
    assert.equal(md.split(`- ${f.title} (`).length, 2, f.title);
    assert.ok(f.supported ? f.reads !== undefined : f.reason !== undefined, f.title);
  }
  assert.ok(md.indexOf('- Jamba') > md.indexOf('Refused'));
  // The README shows this list as the table states it (regenerate it from familyListMarkdown() when a row changes).
  assert.ok(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').includes(md), 'README.md holds familyListMarkdown()');
});
