import { describe, expect, it } from 'vitest';
import { drainOrder, drainRecord, restoredDrainReason } from '../src/core/drain-state.js';
import { PersistedDrainSchema } from '../src/core/state-files.js';

const now = new Date('2026-12-02T10:00:00.000Z');

describe('drain state', () => {
  it('a drain without a reason gets one; only the options given reach the loop', () => {
    expect(drainOrder({})).toEqual({ reason: 'drain requested', options: {} });
    expect(drainOrder({ reason: 'kernel', waitSessions: 0, timeoutMs: 0 })).toEqual({
      reason: 'kernel',
      options: { waitSessions: 0, timeoutMs: 0 },
    });
  });

  it('writes drained with its reason, undrained without one, both valid state files', () => {
    const drained = drainRecord('kernel', now);
    const undrained = drainRecord(undefined, now);
    expect(drained).toEqual({
      schema: 'rhi.v1.drain',
      drained: true,
      reason: 'kernel',
      since: now.toISOString(),
    });
    expect(undrained).toEqual({ schema: 'rhi.v1.drain', drained: false, since: now.toISOString() });
    expect(PersistedDrainSchema.parse(drained)).toEqual(drained);
    expect(PersistedDrainSchema.parse(undrained)).toEqual(undrained);
  });

  it('reads back a drain at boot, with a reason even when the file has none', () => {
    expect(restoredDrainReason(null)).toBeNull();
    expect(restoredDrainReason(drainRecord(undefined, now))).toBeNull();
    expect(restoredDrainReason(drainRecord('kernel', now))).toBe('kernel');
    expect(restoredDrainReason({ schema: 'rhi.v1.drain', drained: true, since: now.toISOString() })).toBe(
      'drained before restart',
    );
  });
});
