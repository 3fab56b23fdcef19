/**
 * A run's Megatron-LM argument list read back into what moefold plans with: the plan (the same reading
 * checkMegatronArgs runs the rule table on, megatronArgsLayout), the software-stack fields the list states
 * (STACK_FIELDS' flags: a switch present is true, absent is Megatron's default false; a value flag absent takes the
 * field's default, which is Megatron's for every such field), and the model and run facts the list states, for
 * checking against the job. A launch script is read for its Megatron flags: shell words (quotes, `\` line
 * continuations, comments), each known Megatron flag with the values its kind takes; other words (the launcher's
 * own flags, `torchrun`, paths) are passed over.
 */
import { inputError } from '../job/errors.js';
import { STACK_FIELDS, STACK_KEYS } from '../job/stack.js';
import type { StackSpec } from '../job/types.js';
import { MEGATRON_FLAGS, megatronArgsLayout, parseMegatronArgs } from '../export/megatron-flags.js';
import type { Plan } from '../enumerate/plan.js';

/** Flags a plan or a job check reads: a shell variable in their value cannot be read back. */
const PLAN_FLAGS = new Set([
  '--tensor-model-parallel-size', '--pipeline-model-parallel-size', '--context-parallel-size',
  '--expert-model-parallel-size', '--expert-tensor-parallel-size', '--micro-batch-size', '--global-batch-size',
  '--num-layers-per-virtual-pipeline-stage', '--num-virtual-stages-per-pipeline-rank',
  '--pipeline-model-parallel-layout', '--decoder-first-pipeline-num-layers', '--decoder-last-pipeline-num-layers',
  '--recompute-granularity', '--moe-token-dispatcher-type', '--seq-length', '--num-layers', '--hidden-size',
  '--num-experts',
]);

/** Splits shell text into words: '…' and "…" quoting, backslash escapes and line continuations, # comments. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < n) {
      if (text[i + 1] === '\n') { i += 2; continue; } // continuation
      cur += text[i + 1]; inWord = true; i += 2; continue;
    }
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? n : end;
      cur += text.slice(i + 1, stop); inWord = true; i = stop + 1; continue;
    }
    if (ch === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n && '"\\$`'.includes(text[i + 1])) { cur += text[i + 1]; i += 2; continue; }
        cur += text[i++];
      }
      i++; inWord = true; continue;
    }
    if (ch === '#' && !inWord) {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === ';' || ch === '(' || ch === ')' || ch === '|' || ch === '&') {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      i++;
      continue;
    }
    cur += ch; inWord = true; i++;
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * The Megatron flags of a list of words, each with the values its kind takes (a switch none, a value flag one, a
 * list flag every word up to the next flag); `--flag=value` is split. Unknown words are passed over. A flag met
 * twice (a script's branches, e.g. mock or real data) keeps its last values, as argparse does.
 */
export function megatronArgsOf(words: readonly string[]): string[] {
  const groups = new Map<string, string[]>();
  const out: string[] = [];
  const flush = (): void => {
    if (out.length === 0) return;
    groups.delete(out[0]);
    groups.set(out[0], [...out]);
    out.length = 0;
  };
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    let inline: string | undefined;
    const eq = w.indexOf('=');
    if (w.startsWith('--') && eq > 2) { inline = w.slice(eq + 1); w = w.slice(0, eq); }
    const spec = MEGATRON_FLAGS[w];
    if (!spec) continue;
    flush();
    out.push(w);
    if (inline !== undefined) { out.push(inline); continue; }
    if (spec.kind === 'switch') continue;
    if (spec.kind === 'value') {
      if (i + 1 < words.length && !words[i + 1].startsWith('--')) out.push(words[++i]);
      continue;
    }
    while (i + 1 < words.length && !words[i + 1].startsWith('--')) out.push(words[++i]);
  }
  flush();
  return [...groups.values()].flat();
}

/** What a run's argument list states. */
export interface ArgsReading {
  plan: Plan;
  /** The stack fields as the list sets them (for the job loader's overrides). */
  stack: Partial<Record<keyof StackSpec, unknown>>;
  /** Model and run facts the list states: Megatron flag → number. */
  facts: Map<string, number>;
}

/**
 * Reads `args` (a Megatron argument list) on `world` GPUs. `file` and `field` name the list in messages: a flag
 * Megatron does not know, a value it would refuse, or a plan flag set from a shell variable is one InputError.
 */
export function readMegatronArgs(given: readonly string[], world: number, file: string, field: string): ArgsReading {
  // --flag=value as argparse reads it
  let args = given.flatMap((a) => {
    const eq = a.indexOf('=');
    return a.startsWith('--') && eq > 2 ? [a.slice(0, eq), a.slice(eq + 1)] : [a];
  });
  for (let i = 0; i < args.length; i++) {
    if (args[i].includes('$') && i > 0 && PLAN_FLAGS.has(args[i - 1])) {
      throw inputError(file, field, `${args[i - 1]} is set from a shell variable (${args[i]}): give the run's plan with its values (plan: or megatron_args:)`);
    }
  }
  // other flags set from shell variables (data paths, tokenizer) say nothing about the plan: left out
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith('--') && MEGATRON_FLAGS[args[i]]?.kind !== 'switch' && i + 1 < args.length && args[i + 1].includes('$')) {
      i++;
      while (i + 1 < args.length && !args[i + 1].startsWith('--')) i++;
      continue;
    }
    kept.push(args[i]);
  }
  args = kept;
  for (const f of ['--num-layers', '--seq-length']) {
    if (!args.includes(f)) throw inputError(file, field, `missing ${f}: Megatron needs it, and the run's plan cannot be read without it`);
  }
  const problems: string[] = [];
  const parsed = parseMegatronArgs(args, problems);
  if (problems.length > 0) throw inputError(file, field, problems[0]);
  const layout = megatronArgsLayout(args, world);
  const stack: Partial<Record<keyof StackSpec, unknown>> = {};
  for (const k of STACK_KEYS) {
    const f = STACK_FIELDS[k];
    if (f.flag === null) continue;
    const v = parsed.get(f.flag);
    switch (f.rule.kind) {
      case 'bool':
        stack[k] = v !== undefined;
        break;
      case 'number':
        stack[k] = v !== undefined ? Number(v[0]) : f.dflt;
        break;
      case 'enumList':
        stack[k] = v !== undefined ? [...v] : f.dflt;
        break;
      default:
        stack[k] = v !== undefined ? v[0] : f.dflt;
    }
  }
  const facts = new Map<string, number>();
  for (const flag of ['--num-layers', '--hidden-size', '--num-attention-heads', '--seq-length', '--global-batch-size',
    '--num-experts', '--moe-router-topk', '--ffn-hidden-size']) {
    const v = parsed.get(flag)?.[0];
    if (v !== undefined && Number.isFinite(Number(v))) facts.set(flag, Number(v));
  }
  return { plan: layout.plan, stack, facts };
}
