import { describe, expect, it } from 'vitest';
import type { DampingConfig, DampState } from '../src/core/damping.js';
import { DEFAULT_DAMPING, initialDampState, step } from '../src/core/damping.js';

const run = (config: DampingConfig, start: boolean, inputs: [number, boolean, boolean?][]) => {
  let state: DampState = initialDampState(start, 0);
  return inputs.map(([now, input, reading]) => {
    const r = step(state, input, now, config, reading ?? true);
    state = r.state;
    return { now, value: r.state.value, changed: r.changed, phase: r.phase, recheckAt: r.recheckAt };
  });
};

describe('damping', () => {
  it('withdraws on the first bad reading by default', () => {
    expect(run(DEFAULT_DAMPING, true, [[100, false]])[0]).toMatchObject({ value: false, changed: true });
  });

  it('announces only after the rise time of good readings, and asks for a recheck', () => {
    const out = run(DEFAULT_DAMPING, false, [
      [0, true],
      [400, true],
      [999, true],
      [1000, true, false],
    ]);
    expect(out.map((o) => o.value)).toEqual([false, false, false, true]);
    expect(out[0]).toMatchObject({ phase: 'rising', recheckAt: 1000 });
    expect(out[3]).toMatchObject({ changed: true, phase: 'stable' });
  });

  it('restarts the rise when a bad reading interrupts it', () => {
    const out = run(DEFAULT_DAMPING, false, [
      [0, true],
      [600, false],
      [700, true],
      [1200, true],
      [1700, true],
    ]);
    expect(out.map((o) => o.value)).toEqual([false, false, false, false, true]);
  });

  it('counts readings, not timer rechecks, for count thresholds', () => {
    const config: DampingConfig = { rise: { count: 3, ms: 0 }, fall: { count: 2, ms: 0 }, holdDown: null };
    const out = run(config, true, [
      [0, false],
      [1, false, false],
      [2, false],
      [3, true],
      [4, true],
      [5, true, false],
      [6, true],
    ]);
    expect(out.map((o) => o.value)).toEqual([true, true, false, false, false, false, true]);
  });

  it('holds a flapping route down, then lets it rise once the hold ends', () => {
    const config: DampingConfig = {
      rise: { count: 1, ms: 0 },
      fall: { count: 1, ms: 0 },
      holdDown: { flaps: 3, windowMs: 10_000, holdMs: 5_000 },
    };
    const out = run(config, true, [
      [0, false],
      [1, true],
      [2, false],
      [3, true],
      [4, false],
      [5, true],
      [4_000, true],
      [5_004, true, false],
    ]);
    expect(out.map((o) => o.value)).toEqual([false, true, false, true, false, false, false, true]);
    expect(out[5]).toMatchObject({ phase: 'held', recheckAt: 5_004 });
  });

  it('forgets withdrawals older than the flap window', () => {
    const config: DampingConfig = {
      rise: { count: 1, ms: 0 },
      fall: { count: 1, ms: 0 },
      holdDown: { flaps: 2, windowMs: 1_000, holdMs: 60_000 },
    };
    const out = run(config, true, [
      [0, false],
      [1, true],
      [5_000, false],
      [5_001, true],
    ]);
    expect(out.map((o) => o.value)).toEqual([false, true, false, true]);
  });
});
