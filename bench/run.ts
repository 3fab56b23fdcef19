/** `npm run bench`: every benchmark, medians of several runs. BENCH_RUNS sets the run count (default 5). */
import { benchEnumerate } from './enumerate.js';
import { benchScore } from './score.js';
import { benchTune } from './tune.js';
import { benchSweep } from './sweep.js';
import { benchCold } from './cold.js';

const runs = Number(process.env.BENCH_RUNS ?? 5);
for (const line of await benchCold(runs)) console.log(line);
for (const line of await benchEnumerate()) console.log(line);
for (const line of await benchScore()) console.log(line);
for (const line of await benchTune(runs)) console.log(line);
for (const line of await benchSweep(runs)) console.log(line);
