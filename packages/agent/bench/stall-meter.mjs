// How long a bench child's main thread stalls while some work runs: shared by the *.child.mjs benches.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { clearInterval, setInterval, setTimeout } from 'node:timers';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The main thread's garbage collections: [start, duration] in ms. */
const collections = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) collections.push([e.startTime, e.duration]);
}).observe({ entryTypes: ['gc'] });

/**
 * While `work` runs and `tailMs` after: the longest gap between the ticks of a 1 ms interval timer, less
 * the 1 ms (`stallMs`, the longest stall); the sum of every gap's excess over 2 ms (`blockedMs`, the time
 * blocked in stalls); and the longest garbage collection of the main thread (`gcMs`). `ms` is the time
 * `work` took, `result` what it returned.
 */
export async function stallDuring(work, tailMs) {
  let last = performance.now();
  let longest = 0;
  let blocked = 0;
  const gap = (now) => {
    const d = now - last;
    longest = Math.max(longest, d);
    if (d > 2) blocked += d - 1;
    last = now;
  };
  const tick = setInterval(() => gap(performance.now()), 1);
  const started = performance.now();
  const result = await work();
  const ms = performance.now() - started;
  await sleep(tailMs);
  clearInterval(tick);
  const ended = performance.now();
  gap(ended);
  // The observer is told of a collection after it: let it catch up.
  await sleep(0);
  const gcMs = Math.max(0, ...collections.filter(([at]) => at >= started && at <= ended).map(([, d]) => d));
  return { result, ms, stallMs: Math.max(0, longest - 1), blockedMs: blocked, gcMs };
}
