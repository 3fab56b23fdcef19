/** "Did you mean …?" for misspelt field and GPU names. */

/** Names users bring from other tools, mapped to the job file's names. */
const KNOWN_ALIASES: Readonly<Record<string, string>> = {
  // Hugging Face config.json names.
  num_hidden_layers: 'num_layers',
  intermediate_size: 'ffn_hidden_size',
  num_key_value_heads: 'num_query_groups',
  head_dim: 'kv_channels',
  num_local_experts: 'num_experts',
  n_routed_experts: 'num_experts',
  num_experts_per_tok: 'moe_router_topk',
  moe_intermediate_size: 'moe_ffn_hidden_size',
  shared_expert_intermediate_size: 'moe_shared_expert_intermediate_size',
  tie_word_embeddings: 'untie_embeddings_and_output_weights',
  num_nextn_predict_layers: 'mtp_num_layers',
  // Short names seen in papers and run tables.
  layers: 'num_layers',
  hidden: 'hidden_size',
  heads: 'num_attention_heads',
  ffn: 'ffn_hidden_size',
  vocab: 'vocab_size',
  experts: 'num_experts',
  topk: 'moe_router_topk',
  seq_len: 'seq_length',
  seqlen: 'seq_length',
  gbs: 'global_batch_size',
  num_gpus: 'gpus',
  gpu_type: 'gpu',
};

/** Lower case, `-` as `_`, no leading `--`: so `--num-layers` meets `num_layers`. */
function normalise(name: string): string {
  return name.replace(/^-+/, '').replace(/-/g, '_').toLowerCase();
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/**
 * The known name closest to `name`, or undefined when none is close: equal after normalising, a known alias,
 * the only known name that starts with it, or within an edit distance of about a quarter of the name's length (at least 1, at most 3).
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const n = normalise(name);
  for (const k of known) if (normalise(k) === n) return k;
  const alias = Object.hasOwn(KNOWN_ALIASES, n) ? KNOWN_ALIASES[n] : undefined;
  if (alias !== undefined && known.includes(alias)) return alias;
  if (n.length >= 3) {
    const longer = known.filter((k) => normalise(k).startsWith(n));
    if (longer.length === 1) return longer[0];
  }
  const limit = Math.min(3, Math.max(1, Math.floor(n.length / 4)));
  let best: string | undefined;
  let bestD = limit + 1;
  for (const k of known) {
    const d = editDistance(n, normalise(k));
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}
