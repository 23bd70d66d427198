import { jetstream as names, rolloutKeys } from '@rhi/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeRolloutRecord,
  ensureRolloutBucket,
  JetStreamRolloutStore,
  RolloutActiveError,
  RolloutConflictError,
  RolloutExistsError,
  RolloutUnreadableError,
} from '../src/nats/rollout-store.js';
import { applyRolloutEvent, createRollout } from '../src/rollout/rollout-machine.js';
import { newRollout, T } from './support/rollout.js';

// The rollouts in a real nats-server's JetStream KV: one under way at a time, records written only over
// the revision read, so that two replicas never both move one.

describe('the rollout store on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let nc2: NatsConnection;
  let kv: KV;
  let store: JetStreamRolloutStore;
  let other: JetStreamRolloutStore;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    kv = await ensureRolloutBucket(nc, { replicas: 1 });
    store = new JetStreamRolloutStore(kv);
    // A second replica's store, on its own connection.
    nc2 = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    other = new JetStreamRolloutStore(await new Kvm(nc2).open(names.rolloutBucket));
  }, 30_000);

  afterAll(async () => {
    await nc?.close();
    await nc2?.close();
    await nats?.stop();
  });

  it('stores a new rollout as the one under way, and reads it back as written', async () => {
    const { state } = createRollout(newRollout({ id: 'r-1' }));
    const stored = await store.create(state);
    expect(await other.active()).toBe('r-1');
    expect(await other.get('r-1')).toEqual({ record: state, revision: stored.revision });
    expect(await other.get('r-none')).toBeNull();
  });

  it('refuses a second rollout while one is under way, naming it', async () => {
    const { state } = createRollout(newRollout({ id: 'r-2' }));
    await expect(other.create(state)).rejects.toThrow(RolloutActiveError);
    await expect(other.create(state)).rejects.toMatchObject({ code: 'ROLLOUT_ACTIVE', active: 'r-1' });
    expect(await other.get('r-2')).toBeNull();
  });

  it('lets exactly one of two replicas write over the same revision', async () => {
    const read = (await store.get('r-1'))!;
    const started = applyRolloutEvent(read.record, { type: 'start', now: T + 1, by: 'alice' }).state;
    const paused = applyRolloutEvent(read.record, {
      type: 'abort',
      now: T + 1,
      by: 'bob',
      reason: 'no',
    }).state;
    const results = await Promise.allSettled([
      store.update(started, read.revision),
      other.update(paused, read.revision),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(RolloutConflictError);
    expect(lost.reason).toMatchObject({ code: 'ROLLOUT_CONFLICT', id: 'r-1', revision: read.revision });
    const now = (await store.get('r-1'))!;
    expect(now.revision).toBeGreaterThan(read.revision);
    expect([started.status, paused.status]).toContain(now.record.status);
  });

  it('gives the claim back when the id is taken, and once the rollout ended; another may then start', async () => {
    await store.release('r-1');
    expect(await store.active()).toBeNull();
    const again = createRollout(newRollout({ id: 'r-1' })).state;
    await expect(store.create(again)).rejects.toThrow(RolloutExistsError);
    expect(await store.active()).toBeNull();
    const next = createRollout(newRollout({ id: 'r-3' })).state;
    await other.create(next);
    // A release by a replica that still thinks of r-1 leaves r-3's claim alone.
    await store.release('r-1');
    expect(await store.active()).toBe('r-3');
    expect(await store.ids()).toEqual(['r-1', 'r-3']);
  });

  it('writes the record before the claim: a runner that sees the claim always finds the record', async () => {
    await store.release((await store.active()) ?? '');
    const seen: ('claim without record' | 'ok')[] = [];
    let done = false;
    // Another replica's runner, reading as fast as it can while the rollout is created.
    const reader = (async () => {
      while (!done) {
        const id = await other.active();
        if (id === 'r-race') seen.push((await other.get(id)) ? 'ok' : 'claim without record');
      }
    })();
    await store.create(createRollout(newRollout({ id: 'r-race' })).state);
    await new Promise((r) => setTimeout(r, 50));
    done = true;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain('claim without record');
  });

  it('names a stored record that is not one, and never returns it', async () => {
    await kv.put(rolloutKeys.record('r-bad'), new TextEncoder().encode('{"not":"gzip"}'));
    await expect(store.get('r-bad')).rejects.toThrow(RolloutUnreadableError);
    const wrong = { ...createRollout(newRollout({ id: 'r-odd' })).state, status: 'exploded' };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a record no schema takes, on purpose
    await kv.put(rolloutKeys.record('r-odd'), encodeRolloutRecord(wrong as any));
    await expect(store.get('r-odd')).rejects.toMatchObject({
      code: 'ROLLOUT_UNREADABLE',
      key: 'rollout.r-odd',
      reason: expect.stringMatching(/^status: /),
    });
  });
});
