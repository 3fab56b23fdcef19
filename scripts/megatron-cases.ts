/**
 * Dev-time check of the Megatron-LM exports against Megatron-LM's own argument validation (not run by npm test).
 *
 *   node dist/scripts/megatron-cases.js [--top N] [--gpus G] JOB... > cases.jsonl
 *   MEGATRON_TE_VERSION=2.12.0 /usr/bin/python3 ../shared/tools/megatron_validate.py MEGATRON_DIR - < cases.jsonl
 *
 * For each job file (a moefold job or a Hugging Face config.json) it runs `moefold tune JOB --format json --top N`
 * (default 5; `--gpus G` is passed on, for jobs without cluster.gpus) as a child process and writes one line per plan: {"job", "rank", "world", "args", "env"}, the plan's complete
 * Megatron argument list (launch.megatron_args, as every Megatron export writes it) with mock data, a NullTokenizer,
 * a learning rate and an iteration count added so that Megatron's validate_args sees a runnable launch, and the
 * environment the export sets. A job moefold refuses (exit 2) is reported on stderr and skipped.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/moefold.js');

interface TunePlan { rank: number; launch: { megatron_args: string[]; env: Record<string, string> } }

function tune(job: string, top: number, extra: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'tune', job, '--format', 'json', '--top', String(top), '--quiet', '--no-timing', ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status ?? 1, out: r.stdout, err: r.stderr };
}

function run(argv: string[]): void {
  let top = 5;
  const extra: string[] = [];
  const jobs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') top = Number(argv[++i]);
    else if (argv[i] === '--gpus') extra.push('--gpus', argv[++i]);
    else jobs.push(argv[i]);
  }
  for (const job of jobs) {
    const r = tune(job, top, extra);
    if (r.code !== 0) {
      process.stderr.write(`${job}: exit ${r.code}: ${r.err.trim()}\n`);
      continue;
    }
    const result = JSON.parse(r.out) as { cluster: { gpus: number }; model: { vocab_size: number }; plans: TunePlan[] };
    for (const p of result.plans) {
      const args = [...p.launch.megatron_args, '--mock-data', '--tokenizer-type', 'NullTokenizer',
        '--vocab-size', String(result.model.vocab_size), '--lr', '1.0e-4', '--train-iters', '10'];
      process.stdout.write(`${JSON.stringify({ job, rank: p.rank, world: result.cluster.gpus, args, env: p.launch.env })}\n`);
    }
  }
}

run(process.argv.slice(2));
