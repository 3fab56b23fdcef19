/**
 * Seeded random-job fuzz of the whole CLI path (`moefold tune JOB --format json`), run in-process through the
 * same main() the executable calls. Each job is a random valid-looking model (dense, MoE, MLA, moe_layer_freq
 * lists, shared experts, fp8, odd layer counts) on 8–16,384 GPUs with 4 or 8 GPUs per node and sequences of
 * 1k–128k tokens. For each job it counts:
 *   - crashes: main() threw, or printed an "internal error";
 *   - wrong exits: an exit code other than 0 (plans) or 2 (bad input / nothing can serve the job), or an exit 2
 *     whose stderr is not exactly one line;
 *   - rule violations: a printed plan that Megatron's rules refuse (checkPlan), or whose launch arguments fail
 *     the Megatron flag checks (checkMegatronArgs);
 *   - unfit plans said to fit: a printed plan whose peak memory exceeds the GPU's memory (from its calibration
 *     file), or that does not fit, or has another peak, when scored again alone in a fresh score context.
 * `npm run fuzz [-- --jobs N --seed S]` runs the long form (default 1,000 jobs); test/cli/fuzz.test.ts runs a
 * short seeded subset inside `npm test`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { main } from '../src/cli/main.js';
import { readPlansFile, planFromJson } from '../src/plans/plans-file.js';
import { modelShape } from '../src/job/shape.js';
import { checkPlan } from '../src/enumerate/index.js';
import { loadCalibration } from '../src/cost/calibration.js';
import { makeScoreContext, scorePlan } from '../src/cost/score.js';
import { newEstimate } from '../src/cost/estimate.js';
import { checkMegatronArgs, gpuArchMajor } from '../src/export/index.js';

/** Mulberry32: a small, seedable generator, so a failing job can be rebuilt from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** A random job document (model, training, cluster) as a user could write it. */
export function randomJob(seed: number): Record<string, unknown> {
  const r = rng(seed);
  const heads = pick(r, [8, 12, 16, 32, 40, 48, 64, 96, 128]);
  const headDim = pick(r, [64, 128]);
  const hidden = heads * headDim;
  const layers = pick(r, [2, 7, 12, 24, 27, 32, 47, 48, 61, 80, 94, 126]);
  const model: Record<string, unknown> = {
    name: `fuzz-${seed}`,
    num_layers: layers,
    hidden_size: hidden,
    num_attention_heads: heads,
    num_query_groups: pick(r, [1, 2, 4, 8, heads].filter((g) => heads % g === 0)),
    ffn_hidden_size: pick(r, [2, 3, 4]) * hidden + pick(r, [0, 0, 256]),
    vocab_size: pick(r, [32000, 32768, 50257, 128256, 151936]),
  };
  const kind = pick(r, ['dense', 'moe', 'moe', 'mla']);
  if (kind !== 'dense') {
    const experts = pick(r, [4, 8, 16, 60, 64, 128, 256]);
    model.num_experts = experts;
    model.moe_router_topk = Math.min(experts, pick(r, [1, 2, 4, 6, 8]));
    if (model.moe_router_topk === 1) model.moe_router_pre_softmax = true; // Megatron's rule for top-1 softmax routing
    model.moe_ffn_hidden_size = pick(r, [512, 768, 1408, 2048, 4096]);
    if (r() < 0.4) model.moe_shared_expert_intermediate_size = pick(r, [1408, 2048, 2816]);
    const freq = r();
    if (freq < 0.3 && layers > 3) model.moe_layer_freq = Array.from({ length: layers }, (_, i) => (i < 3 ? 0 : 1));
    else if (freq < 0.45 && layers > 3) model.moe_layer_freq = `([0]*1+[1]*${layers - 1})`;
    else if (freq < 0.6) model.moe_layer_freq = 2;
  }
  if (kind === 'mla') {
    delete model.num_query_groups; // MLA has no query groups
    Object.assign(model, {
      multi_latent_attention: true, q_lora_rank: pick(r, [0, 1536]), kv_lora_rank: 512, qk_head_dim: 128,
      qk_pos_emb_head_dim: 64, v_head_dim: 128, kv_channels: 128,
    });
    if (r() < 0.3) model.mtp_num_layers = 1;
  }
  const gpusPerNode = pick(r, [4, 8, 8]);
  const gpus = pick(r, [8, 16, 64, 128, 256, 1024, 4096, 16384].filter((g) => g % gpusPerNode === 0 || gpusPerNode % g === 0));
  const seq = pick(r, [1024, 2048, 4096, 8192, 32768, 131072]);
  return {
    model,
    training: { seq_length: seq, global_batch_size: pick(r, [64, 256, 1024, 2048, 8192]), precision: pick(r, ['bf16', 'bf16', 'fp8']) },
    cluster: { gpu: pick(r, ['h100-sxm', 'h200-sxm', 'b200']), gpus, gpus_per_node: gpusPerNode },
  };
}

export interface FuzzCounts {
  jobs: number;
  planned: number;
  refused: number;
  crashes: number;
  wrongExits: number;
  ruleViolations: number;
  unfitSaidToFit: number;
  failures: string[];
  /** The first line of each refusal, to see that the generator makes mostly plannable jobs. */
  refusals: string[];
}

/** Captures what main() writes to stdout and stderr. */
async function runMain(argv: string[]): Promise<{ code: number; stdout: string; stderr: string; threw?: unknown }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => { stdout += String(c); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { stderr += String(c); return true; }) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } catch (threw) {
    return { code: -1, stdout, stderr, threw };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/**
 * Runs `jobs` random jobs from `seed` on. `extraArgs` narrows the search (the short test form pins a slice of the
 * space to stay quick).
 */
export async function fuzz(jobs: number, seed: number, extraArgs: string[] = []): Promise<FuzzCounts> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-fuzz-'));
  const c: FuzzCounts = { jobs: 0, planned: 0, refused: 0, crashes: 0, wrongExits: 0, ruleViolations: 0, unfitSaidToFit: 0, failures: [], refusals: [] };
  try {
    for (let i = 0; i < jobs; i++) {
      const s = seed + i;
      const file = path.join(dir, `job-${s}.yaml`);
      fs.writeFileSync(file, yaml.dump(randomJob(s)));
      const outDir = path.join(dir, `out-${s}`);
      const res = await runMain(['tune', file, '--format', 'json', '--quiet', '--workers', '0', '--top', '5', '--no-timing', '--out', outDir, '--export', 'megatron', ...extraArgs]);
      c.jobs++;
      const fail = (kind: string, why: string): void => { c.failures.push(`seed ${s}: ${kind}: ${why}`); };
      if (res.threw !== undefined || /internal error/.test(res.stderr)) {
        c.crashes++;
        fail('crash', res.threw instanceof Error ? res.threw.message : res.stderr.trim().slice(0, 300));
        continue;
      }
      if (res.code === 2) {
        c.refused++;
        // Warnings may come first; then an input error is one line, and "nothing can serve this job" is a
        // headline (`No mapping of …` / `moefold: none of …`) that may carry detail lines.
        const lines = res.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('moefold: warning: '));
        c.refusals.push(`seed ${s}: ${(lines[0] ?? '').slice(0, 200)}`);
        const explained = lines.length > 0 && /^(No mapping of |moefold: none of )/.test(lines[0]);
        if (lines.length === 0 || lines[0].trim() === '' || (!explained && lines.length !== 1)) {
          c.wrongExits++;
          fail('exit 2 without one clear line', JSON.stringify(res.stderr.slice(0, 300)));
        }
        continue;
      }
      if (res.code !== 0) {
        c.wrongExits++;
        fail(`exit ${res.code}`, res.stderr.trim().slice(0, 300));
        continue;
      }
      c.planned++;
      const pf = readPlansFile(path.join(outDir, 'plans.json'));
      const shape = modelShape(pf.job.model);
      // Checked apart from the search that printed the plan: the GPU's physical memory from its calibration file,
      // and the plan scored again, alone, in a fresh score context (the search scores it among millions, through
      // memos shared with other plans and in worker threads).
      const cal = loadCalibration(pf.job.cluster.gpu);
      const fresh = makeScoreContext(pf.job, shape, cal);
      const est = newEstimate();
      pf.result.plans.forEach((pj, k) => {
        const plan = planFromJson(pj, pf.file, `plans[${k}]`, pf.job);
        const broken = checkPlan(pf.job, shape, plan);
        const flags = 'refused' in pj.launch ? [] : checkMegatronArgs(pj.launch.megatron_args, pj.launch.env, pf.job.cluster.gpus,
          { gpuArchMajor: gpuArchMajor(pf.job.cluster.gpu) });
        if (broken.length > 0 || flags.length > 0) {
          c.ruleViolations++;
          fail('rule violation', [...broken.map((b) => b.rule), ...flags].join('; '));
        }
        scorePlan(fresh, plan, est);
        const hbmGib = cal.hbmCapacityBytes / 2 ** 30;
        const why = !pj.estimate.fits ? 'printed as not fitting'
          : pj.estimate.peak_memory_gib > hbmGib ? `peak ${pj.estimate.peak_memory_gib} GiB > the GPU's ${hbmGib.toFixed(1)} GiB`
            : !est.fits ? `scored alone it does not fit (peak ${(est.peakMemBytes / 2 ** 30).toFixed(2)} GiB)`
              : Math.abs(est.peakMemBytes / 2 ** 30 - pj.estimate.peak_memory_gib) > 0.01 ? `peak ${pj.estimate.peak_memory_gib} GiB printed, ${(est.peakMemBytes / 2 ** 30).toFixed(2)} GiB scored alone`
                : null;
        if (why !== null) {
          c.unfitSaidToFit++;
          fail('unfit said to fit', `plan ${k + 1}: ${why}`);
        }
      });
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return c;
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname;
if (isMain) {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const jobs = opt('--jobs', 1000);
  const seed = opt('--seed', 1);
  const t0 = Date.now();
  const c = await fuzz(jobs, seed);
  const wall = (Date.now() - t0) / 1000;
  process.stdout.write(`fuzz: ${c.jobs} jobs from seed ${seed} in ${wall.toFixed(0)} s: ${c.planned} planned, ${c.refused} refused (exit 2)\n`);
  process.stdout.write(`  crashes ${c.crashes} · wrong exits ${c.wrongExits} · rule violations ${c.ruleViolations} · unfit plans said to fit ${c.unfitSaidToFit}\n`);
  for (const f of c.failures.slice(0, 50)) process.stdout.write(`  ${f}\n`);
  if (argv.includes('--verbose')) for (const f of c.refusals) process.stdout.write(`  refused: ${f}\n`);
  process.exitCode = c.crashes + c.wrongExits + c.ruleViolations + c.unfitSaidToFit === 0 ? 0 : 1;
}
