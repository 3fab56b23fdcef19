/**
 * Scorer benchmark: scores a fixed set of plans (Mixtral-8x22B on 128 GPUs, DeepSeek-V3 on 1,024, Llama3-70B on 64;
 * mixed TP/PP/VPP/EP/ETP, micro-batch sizes, recompute, dispatchers, precisions) in a loop on one core, reusing one
 * Estimate, and prints the median plans scored per second over several runs (target >= 1 million/s).
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/score.js [runs]
 */
import { pathToFileURL } from 'node:url';
import { loadCalibration } from '../src/cost/calibration.js';
import { makeScoreContext, scorePlan, type ScoreContext } from '../src/cost/score.js';
import { newEstimate } from '../src/cost/estimate.js';
import type { Plan } from '../src/enumerate/plan.js';
import { parsePlanSpec } from '../src/enumerate/plan-spec.js';
import type { Dispatcher, Recompute } from '../src/job/types.js';
import { modelShape } from '../src/job/shape.js';
import { benchJob, DEEPSEEK_V3_FILE, LLAMA3_70B_FILE, MIXTRAL_8X22B_FILE } from './fixtures.js';

interface Item { ctx: ScoreContext; plan: Plan }

function divisors(n: number, max: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= max; d *= 2) if (n % d === 0) out.push(d);
  return out;
}

/** The fixed plan set: every combination below that divides cleanly (deterministic). */
function buildItems(): Item[] {
  const cal = loadCalibration('h100-sxm');
  const items: Item[] = [];
  // the fixtures' models and runs, every job in bf16 (the fixtures run DeepSeek-V3 and Llama3-70B in fp8)
  const jobs = [
    benchJob(MIXTRAL_8X22B_FILE), // 128 GPUs, seq 4096, GBS 256
    benchJob(DEEPSEEK_V3_FILE, { precision: 'bf16' }), // 1024 GPUs, seq 4096, GBS 8192
    benchJob(LLAMA3_70B_FILE, { precision: 'bf16' }), // 64 GPUs, seq 8192, GBS 128
  ];
  const recomputes: Recompute[] = ['none', 'selective', 'full'];
  const dispatchers: Dispatcher[] = ['alltoall', 'flex'];
  for (const job of jobs) {
    const ctx = makeScoreContext(job, modelShape(job.model), cal);
    const L = job.model.num_layers;
    const E = job.model.num_experts;
    const W = job.cluster.gpus;
    const gbs = job.training.global_batch_size;
    const moe = E > 0;
    for (const tp of [1, 2, 4, 8]) {
      for (const pp of [1, 2, 4, 8, 16]) {
        const first = Math.floor(L / pp);
        const last = L - first * (pp - 1);
        for (const ep of moe ? divisors(E, 64) : [1]) {
          for (const etp of moe ? [1, tp] : [1]) {
            if (W % (tp * pp) !== 0 || W % (ep * etp * pp) !== 0) continue;
            for (const mbs of [1, 2]) {
              const dp = W / (tp * pp);
              if (gbs % (mbs * dp) !== 0) continue;
              for (const recompute of recomputes) {
                for (const dispatcher of moe ? dispatchers : ['alltoall' as Dispatcher]) {
                  // the CLI's --plan parser: dp, edp and the micro-batch count follow from the job
                  const spec = `tp=${tp},pp=${pp},vpp=${pp > 1 ? 2 : 1},ep=${ep},etp=${etp},mbs=${mbs},` +
                    `recompute=${recompute},dispatcher=${dispatcher},first=${first},last=${last}`;
                  items.push({ ctx, plan: parsePlanSpec(spec, job, modelShape(job.model), 'bench') });
                }
              }
            }
          }
        }
      }
    }
  }
  return items;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Runs the benchmark and returns its report lines. */
export async function benchScore(runs = 5, minSeconds = 1): Promise<string[]> {
  const items = buildItems();
  const out = newEstimate();
  let checksum = 0;
  // warm-up (JIT)
  for (let i = 0; i < 20; i++) for (const it of items) checksum += scorePlan(it.ctx, it.plan, out).stepTimeS;
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < minSeconds) {
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        checksum += scorePlan(it.ctx, it.plan, out).stepTimeS;
      }
      n += items.length;
      elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    }
    rates.push(n / elapsed);
  }
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  return [
    `score: ${items.length} fixed plans (Mixtral-8x22B/128, DeepSeek-V3/1024, Llama3-70B/64), one core, ${runs} runs`,
    `  median ${fmt(median(rates))} plans/s (min ${fmt(Math.min(...rates))}, max ${fmt(Math.max(...rates))})` +
      `  [checksum ${checksum.toExponential(3)}]`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = Number(process.argv[2] ?? 5);
  for (const line of await benchScore(runs)) console.log(line);
}
