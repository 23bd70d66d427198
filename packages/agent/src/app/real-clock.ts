import type { Clock } from '../loop/ports.js';

/** Wall-clock time and timers (unref'd: timers never keep the process alive on their own). */
export const realClock: Clock = {
  now: () => Date.now(),
  at: (at, fn) => {
    const timer = setTimeout(fn, Math.max(0, at - Date.now()));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
