/**
 * `torchtitan` format: a torchtitan job file (TOML, `--job.config_file`) with the model flavour, the plan's
 * parallelism, batch and activation checkpointing.
 *
 * Targets torchtitan v0.2.2, pinned (tag v0.2.2, 2026-02-20), its last release with TOML job files; main's
 * Python configs are not targeted. Key names and constraints were read from pytorch/torchtitan at v0.2.2:
 * torchtitan/config/job_config.py (sections [job], [model], [training], [parallelism], [activation_checkpoint]),
 * torchtitan/distributed/parallel_dims.py (mesh: pp × dp_replicate × dp_shard × cp × tp with TP innermost and
 * PP outermost, as Megatron's tp-cp-dp-pp; experts pp × dp_replicate × efsdp × ep × etp; ETP is 1 or TP;
 * seq_len divisible by TP × 2·CP), torchtitan/distributed/pipeline_parallel.py (module_fqns_per_model_part,
 * looped stage order rank + k·PP for Interleaved1F1B, microbatches = local_batch_size / microbatch size),
 * torchtitan/train.py (gradient accumulation = global_batch_size / (local_batch_size · DP)) and
 * torchtitan/models/deepseek_v3/infra/parallelize.py (DeepEP needs EP > 1 and ETP 1; DDP is 1-D only).
 * Checked with torchtitan v0.2.2's own ConfigManager and ParallelDims by scripts/torchtitan-validate.py.
 * torchtitan's main branch (checked at b5bcd76) replaced TOML files with Python config functions chosen by
 * --module/--config (pytorch/torchtitan#2386, 2026-02-23), where 7 of these keys no longer exist.
 * [model] name/flavor come from src/export/torchtitan-models.ts (the flavours v0.2.2 ships); a model that is
 * none of them is refused. data/upstream/torchtitan-v0.2.2.config.json is the snapshot of v0.2.2's JobConfig
 * that test/export/torchtitan-config-snapshot.test.ts checks every written key against.
 *
 * What torchtitan cannot express is refused with the reason (InputError `…: export: torchtitan cannot express …`).
 */
import type { Plan } from '../enumerate/plan.js';
import { inputError } from '../job/errors.js';
import type { Job, ModelShape } from '../job/types.js';
import { megatronLaunch } from './megatron-launch.js';
import { planSummaryLines } from './plan-summary.js';
import { comment, oneLine } from './shell.js';
import { virtualStageLayers } from '../plan/layout.js';
import { hyperDifferences, matchFlavour, noFlavourText, type TitanFlavour } from './torchtitan-models.js';

function refuse(job: Job, what: string): never {
  throw inputError(job.source, 'export', `torchtitan cannot express ${what}`);
}

const TOML_SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r',
};

/**
 * A TOML basic string (TOML 1.0 "Strings"): the quote and the backslash escaped, every control character (C0,
 * DEL; C1 and U+2028/U+2029 too, to keep the line readable) as \b \t \n \f \r or \uXXXX. A lone UTF-16
 * surrogate is no Unicode scalar value, which TOML cannot hold: `refuse` throws.
 */
export function tomlString(s: string, refuse: (why: string) => never): string {
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)) {
    refuse(`the text ${oneLine(JSON.stringify(s))}: it holds a lone UTF-16 surrogate, which a TOML file cannot hold`);
  }
  const body = s.replace(/["\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => TOML_SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  return `"${body}"`;
}

/**
 * Module names of each pipeline stage for torchtitan's decoder models (tok_embeddings, layers.N, norm, output),
 * in global stage order. Decoder layers per virtual stage are Megatron's (virtualStageLayers: even, uneven,
 * accounted embedding/loss split, or an explicit layout, whose E is always in the first stage and L in the last,
 * src/plan/pipeline-layout.ts parseLayout); the embedding goes to the first stage and the norm and output head
 * to the last, as in Megatron. torchtitan v0.2.2's pipeline_module_split (distributed/pipeline_parallel.py) keeps
 * a stage's listed modules and empties the rest, so a stage of only tok_embeddings or only norm/output is fine.
 */
function stageModules(plan: Plan, numLayers: number): string[][] {
  const counts = virtualStageLayers(plan, numLayers);
  const stages: string[][] = [];
  let next = 0;
  counts.forEach((n, s) => {
    const mods: string[] = [];
    if (s === 0) mods.push('tok_embeddings');
    for (let i = 0; i < n; i++) mods.push(`layers.${next++}`);
    if (s === counts.length - 1) mods.push('norm', 'output');
    stages.push(mods);
  });
  return stages;
}

export function torchtitanToml(job: Job, shape: ModelShape, plan: Plan, rank: number): string {
  const m = job.model;
  const str = (s: string): string => tomlString(s, (why) => refuse(job, why));
  const description = str(`moefold plan ${rank} for ${m.name}`);
  megatronLaunch(job, shape, plan); // refuses what Megatron itself would refuse
  const seq = job.training.seq_length;

  if (plan.precision === 'fp8') {
    refuse(job, "fp8 training as planned (Megatron's Transformer Engine blockwise/MXFP8 recipes; torchtitan's float8 converters are torchao recipes with other numerics)");
  }
  if (plan.vpp > 1 && plan.mbGroup !== plan.pp) {
    refuse(job, `a micro-batch group of ${plan.mbGroup} per virtual stage (torchtitan's interleaved schedule runs groups of PP ${plan.pp})`);
  }
  if (plan.tp > 1 && !plan.sequenceParallel) refuse(job, 'TP without sequence parallel (torchtitan\'s TP plan always shards the norms over the sequence)');
  if (m.mtp_num_layers > 0) refuse(job, `multi-token prediction (mtp_num_layers ${m.mtp_num_layers}): torchtitan's models have no MTP layers`);
  // sliding windows, attention sinks, biases, qk norm, MLA, shared experts and dense first layers are features of
  // the flavour: the job's model must be one torchtitan v0.2.2 ships
  const match = matchFlavour(m, shape);
  if (!('ok' in match)) throw inputError(job.source, 'export', noFlavourText(m.name, match));
  const flavour = match.ok;
  if (plan.pp > 1 && !flavour.pipelining) {
    refuse(job, `PP ${plan.pp} with torchtitan's ${flavour.model} model (v0.2.2 registers no pipelining function for it)`);
  }
  if (plan.cp > 1 && !flavour.contextParallel) {
    refuse(job, `CP ${plan.cp} with torchtitan's ${flavour.model} "${flavour.flavor}" (its attention is not SDPA, which CP needs)`);
  }
  if (plan.recompute === 'selective') {
    refuse(job, "Megatron's selective recompute of core attention (torchtitan's selective modes are per-op policies or every n-th layer)");
  }
  const pureDp = plan.tp === 1 && plan.cp === 1 && plan.pp === 1 && plan.ep === 1;
  if (!plan.distributedOptimizer && !pureDp) {
    refuse(job, 'replicated optimizer state with TP/CP/PP/EP (torchtitan combines those with FSDP only; its DDP is 1-D)');
  }
  if (seq % (plan.tp * 2 * plan.cp) !== 0) {
    refuse(job, `seq_length ${seq} with TP ${plan.tp} and CP ${plan.cp} (torchtitan needs seq_len divisible by TP x 2 x CP = ${plan.tp * 2 * plan.cp})`);
  }
  const stages = plan.pp > 1 ? stageModules(plan, m.num_layers) : [];
  const empty = stages.findIndex((mods) => mods.length === 0);
  if (empty >= 0) refuse(job, `pipeline stage ${empty} with no layer (torchtitan builds every stage from the modules it lists)`);
  if (shape.isMoe) {
    if (plan.dispatcher === 'allgather') refuse(job, "the allgather token dispatcher (torchtitan dispatches with all-to-all, 'standard', or DeepEP)");
    if (plan.ep > 1 && plan.etp !== 1 && plan.etp !== plan.tp) {
      refuse(job, `expert TP ${plan.etp} with TP ${plan.tp} (torchtitan supports ETP = 1 or ETP = TP)`);
    }
    if (plan.ep === 1 && plan.etp !== plan.tp) refuse(job, `expert TP ${plan.etp} != TP ${plan.tp} without EP (torchtitan shards experts with TP then)`);
    if (plan.dispatcher === 'flex' && (plan.ep === 1 || plan.etp !== 1)) {
      refuse(job, `the DeepEP dispatcher with EP ${plan.ep} and ETP ${plan.etp} (torchtitan's DeepEP needs EP > 1 and ETP 1)`);
    }
  }

  const lines: string[] = [
    ...comment([
      ...planSummaryLines(job, shape, plan, rank),
      '',
      'torchtitan job file for torchtitan v0.2.2, pinned (--job.config_file); torchtitan main takes Python',
      'config functions (--module/--config) and is not targeted. Launch it on all',
      `${job.cluster.gpus} GPUs (NGPU x nodes = ${job.cluster.gpus}), e.g. with torchtitan's run_train.sh or torchrun -m torchtitan.train.`,
      'Data parallelism is FSDP2 (data_parallel_shard_degree): it shards parameters, gradients and optimizer state,',
      "where Megatron's distributed optimizer shards optimizer state only, so memory is at most the plan's and",
      'the data-parallel traffic differs. Keys checked against torchtitan v0.2.2, see src/export/torchtitan-toml.ts.',
      ...hyperNote(m, flavour),
    ]),
    '',
    '[job]',
    `description = ${description}`,
    '',
    '[model]',
    `# the flavour of torchtitan v0.2.2 with this model's architecture and sizes (src/export/torchtitan-models.ts)`,
    `name = ${str(flavour.model)}`,
    `flavor = ${str(flavour.flavor)}`,
    '',
    '[training]',
    `# with PP the local batch is split into pipeline microbatches; without PP it is one micro-batch and`,
    `# global_batch_size / (local_batch_size x DP) steps are accumulated`,
    `local_batch_size = ${plan.pp > 1 ? plan.microBatchSize * plan.numMicroBatches : plan.microBatchSize}`,
    `global_batch_size = ${job.training.global_batch_size}`,
    `seq_len = ${seq}`,
    'mixed_precision_param = "bfloat16"',
    '',
    '[parallelism]',
    `data_parallel_replicate_degree = ${plan.distributedOptimizer ? 1 : plan.dp}`,
    `data_parallel_shard_degree = ${plan.distributedOptimizer ? plan.dp : 1}`,
    `tensor_parallel_degree = ${plan.tp}`,
    `context_parallel_degree = ${plan.cp}`,
    `pipeline_parallel_degree = ${plan.pp}`,
  ];
  if (plan.pp > 1) {
    lines.push(`pipeline_parallel_schedule = ${str(plan.vpp > 1 ? 'Interleaved1F1B' : '1F1B')}`);
    lines.push(`pipeline_parallel_microbatch_size = ${plan.microBatchSize}`);
    lines.push(`# ${plan.pp * plan.vpp} stages; rank r runs stages r, r + ${plan.pp}, ... (Megatron's virtual-stage layer assignment)`);
    lines.push('module_fqns_per_model_part = [');
    for (const mods of stages) lines.push(`  [${mods.map(str).join(', ')}],`);
    lines.push(']');
  }
  if (shape.isMoe) {
    if (m.moe_router_load_balancing_type !== 'none') {
      // torchtitan/models/moe/moe.py at v0.2.2: MoEArgs.load_balance_coeff 1e-3 (no flavour changes it) registers
      // an expert_bias updated outside the model; there is no auxiliary balancing loss
      lines.push(`# torchtitan v0.2.2 balances experts with a routing bias (load_balance_coeff 1e-3), not with Megatron's`);
      lines.push(`# ${m.moe_router_load_balancing_type} (coefficient ${m.moe_aux_loss_coeff}) of the planned run`);
    }
    lines.push(`expert_parallel_degree = ${plan.ep}`);
    lines.push(`expert_tensor_parallel_degree = ${plan.etp}`);
    lines.push(`expert_parallel_comm_backend = ${str(plan.dispatcher === 'flex' ? 'deepep' : 'standard')}`);
  }
  lines.push('', '[activation_checkpoint]', `mode = ${str(plan.recompute === 'full' ? 'full' : 'none')}`, '');
  return lines.join('\n');
}

/**
 * The flavour's fixed hyper-parameters that differ from the job's model (hyperDifferences), as header lines: the
 * sizes are the model's, but torchtitan trains with its own rotary base, rope scaling and norm epsilon (no job-file
 * key sets them), so the difference is stated, not left silent.
 */
function hyperNote(m: Job['model'], f: TitanFlavour): string[] {
  const d = hyperDifferences(m, f);
  if (d.length === 0) return [];
  return ['', `WARNING: torchtitan's ${f.model} "${f.flavor}" fixes in code what this job's model sets otherwise (job vs`,
    `torchtitan): ${d.join(', ')}. No job-file key changes them: the run trains with torchtitan's values.`];
}
