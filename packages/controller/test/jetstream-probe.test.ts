import { describe, expect, it } from 'vitest';
import { jetstreamFailure, QuorumState } from '../src/nats/jetstream-probe.js';

describe('QuorumState', () => {
  it('calls the quorum lost only after writes failed for the whole window, and back at the first success', () => {
    const q = new QuorumState(15_000);
    const fail = { ok: false as const, reason: 'a write timed out' };
    // An election after one server's loss: failures for 10 s, then a success.
    for (let t = 0; t <= 10_000; t += 2000) expect(q.record(fail, t)).toBeNull();
    expect(q.record({ ok: true }, 12_000)).toBeNull();
    expect(q.lost).toBeNull();
    // The window starts again at the next failure.
    expect(q.record(fail, 14_000)).toBeNull();
    expect(q.record(fail, 28_000)).toBeNull();
    expect(q.record(fail, 29_000)).toBe('lost');
    expect(q.lost).toBe('a write timed out');
    expect(q.record({ ok: false, reason: 'no responders' }, 31_000)).toBeNull();
    expect(q.lost).toBe('no responders');
    expect(q.record({ ok: true }, 33_000)).toBe('back');
    expect(q.lost).toBeNull();
  });
});

describe('jetstreamFailure', () => {
  it("translates 2.9's misleading answer to a write without quorum", () => {
    expect(jetstreamFailure(new Error('jetstream is not enabled'))).toMatch(/no JetStream quorum/);
    expect(jetstreamFailure(new Error('TIMEOUT'))).toBe('a write timed out');
    expect(jetstreamFailure(new Error('something else'))).toBe('something else');
  });
});
