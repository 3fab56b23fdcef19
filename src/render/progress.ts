import type { SearchProgress } from '../search/pool.js';

/**
 * A counting line on stderr while the pool scores: shards done, candidates, rate and ETA. Only when stderr is a
 * TTY (and not --quiet); redraws at most every 100 ms.
 */
export function makeProgressPrinter(stream: NodeJS.WriteStream, enabled: boolean): {
  update: (p: SearchProgress) => void;
  done: () => void;
} {
  if (!enabled || !stream.isTTY) return { update: () => {}, done: () => {} };
  let lastDraw = 0;
  let drawn = false;
  const update = (p: SearchProgress) => {
    const now = Date.now();
    if (now - lastDraw < 100 && p.shardsDone < p.shardCount) return;
    lastDraw = now;
    const frac = p.shardsDone / p.shardCount;
    const rate = p.elapsedS > 0 ? p.enumerated / p.elapsedS : 0;
    const etaS = frac > 0 ? (p.elapsedS * (1 - frac)) / frac : NaN;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const line = `scoring [${bar}] ${p.shardsDone}/${p.shardCount} shards · ${p.enumerated.toLocaleString('en-US')} candidates`
      + ` · ${formatRate(rate)}/s · ETA ${Number.isFinite(etaS) ? `${etaS.toFixed(1)} s` : '?'}`;
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  const done = () => {
    if (drawn) stream.write('\r\x1b[K');
  };
  return { update, done };
}

function formatRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(0)}k`;
  return x.toFixed(0);
}
