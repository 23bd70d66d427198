import { describe, expect, it } from 'vitest';
import { LeaseMachine } from '../src/lease/lease-machine.js';

// The lease's state machine on a fake clock: times are plain numbers (ms), nothing waits.

const TTL = 10_000;

function holder(at = 0): LeaseMachine {
  const m = new LeaseMachine({ ttlMs: TTL }, at);
  expect(m.next(at).step).toEqual({ do: 'create' });
  m.created(7, at);
  return m;
}

describe('LeaseMachine', () => {
  it('waits for its first try, then creates the entry and holds the lease', () => {
    const m = new LeaseMachine({ ttlMs: TTL }, 1_500);
    expect(m.next(0)).toEqual({ step: { do: 'wait', until: 1_500 }, change: null });
    expect(m.next(1_500).step).toEqual({ do: 'create' });
    expect(m.created(3, 1_500)).toEqual({ kind: 'acquired', revision: 3 });
    expect(m.holds(1_500)).toBe(true);
    expect(m.revision).toBe(3);
  });

  it('retries a refused create every TTL/4', () => {
    const m = new LeaseMachine({ ttlMs: TTL }, 0);
    m.createFailed(0);
    expect(m.holds(0)).toBe(false);
    expect(m.next(2_499).step).toEqual({ do: 'wait', until: 2_500 });
    expect(m.next(2_500).step).toEqual({ do: 'create' });
  });

  it('renews at 0.75 TTL with the last revision, counting from when the write was sent', () => {
    const m = holder();
    expect(m.next(7_499).step).toEqual({ do: 'wait', until: 7_500 });
    expect(m.next(7_500).step).toEqual({ do: 'update', revision: 7 });
    m.renewed(12, 7_500);
    expect(m.next(7_600).step).toEqual({ do: 'wait', until: 15_000 });
    expect(m.next(15_000).step).toEqual({ do: 'update', revision: 12 });
    expect(m.holds(17_499)).toBe(true);
    expect(m.holds(17_500)).toBe(false);
  });

  it('steps down at once when a renewal fails, and tries to take it again later', () => {
    const m = holder();
    expect(m.renewFailed(7_500, 'wrong last sequence: 9')).toEqual({
      kind: 'lost',
      reason: 'renewal failed: wrong last sequence: 9',
    });
    expect(m.holds(7_500)).toBe(false);
    expect(m.revision).toBeNull();
    expect(m.next(7_500).step).toEqual({ do: 'wait', until: 10_000 });
    expect(m.next(10_000).step).toEqual({ do: 'create' });
    expect(m.renewFailed(10_000, 'again')).toBeNull();
  });

  it('gives up a lease whose renewal did not come back within the TTL', () => {
    const m = holder();
    expect(m.holds(9_999)).toBe(true);
    expect(m.next(10_000)).toEqual({
      step: { do: 'wait', until: 12_500 },
      change: { kind: 'lost', reason: 'not renewed within its 10000 ms TTL' },
    });
    expect(m.holds(10_000)).toBe(false);
    // A renewal answered after that changes nothing: the lease was given up.
    m.renewed(20, 10_001);
    expect(m.holds(10_001)).toBe(false);
  });

  it('releases the lease once', () => {
    const m = holder();
    expect(m.release(100)).toEqual({ kind: 'lost', reason: 'released' });
    expect(m.release(100)).toBeNull();
    expect(m.holds(100)).toBe(false);
  });

  it('refuses timings that cannot work, naming them', () => {
    expect(() => new LeaseMachine({ ttlMs: 0 }, 0)).toThrow(/ttlMs must be positive/);
    expect(() => new LeaseMachine({ ttlMs: 1000, renewMs: 1000 }, 0)).toThrow(/renewMs \(1000\)/);
  });
});
