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
import type { Dispatcher, Recompute } from '../src/spec/types.js';
import { modelShape } from '../src/spec/shape.js';
import { DEEPSEEK_V3, job, LLAMA3_70B, MIXTRAL_8X22B, plan } from '../test/cost/fixtures.js';

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
  const cases = [
    { model: MIXTRAL_8X22B, gpus: 128, seq: 4096, gbs: 256 },
    { model: DEEPSEEK_V3, gpus: 1024, seq: 4096, gbs: 8192 },
    { model: LLAMA3_70B, gpus: 64, seq: 8192, gbs: 128 },
  ];
  const recomputes: Recompute[] = ['none', 'selective', 'full'];
  const dispatchers: Dispatcher[] = ['alltoall', 'flex'];
  for (const c of cases) {
    const ctx = makeScoreContext(job(c.model, c.gpus, c.seq, c.gbs), modelShape(c.model), cal);
    const L = c.model.num_layers;
    const moe = c.model.num_experts > 0;
    for (const tp of [1, 2, 4, 8]) {
      for (const pp of [1, 2, 4, 8, 16]) {
        const first = Math.floor(L / pp);
        const last = L - first * (pp - 1);
        for (const ep of moe ? divisors(c.model.num_experts, 64) : [1]) {
          for (const etp of moe ? [1, tp] : [1]) {
            if (c.gpus % (tp * pp) !== 0 || c.gpus % (ep * etp * pp) !== 0) continue;
            for (const mbs of [1, 2]) {
              const dp = c.gpus / (tp * pp);
              if (c.gbs % (mbs * dp) !== 0) continue;
              for (const recompute of recomputes) {
                for (const dispatcher of moe ? dispatchers : ['alltoall' as Dispatcher]) {
                  const p = plan({ tp, pp, ep, etp, mbs, recompute, dispatcher, vpp: pp > 1 ? 2 : 1, first, last },
                    c.gpus, L, c.gbs);
                  items.push({ ctx, plan: p });
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
