import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseChange } from '../src/lease/lease-machine.js';
import { ensureLeaseBucket, KvLease } from '../src/nats/kv-lease.js';

// The lease on a real nats-server 2.9.10: the bucket's TTL is the only expiry (no per-key TTL, no expiry
// event); exactly one candidate holds it, and a holder that dies is replaced once its entry ages out.

const TTL = 2000;

describe('the KV lease on a real nats-server', () => {
  let nats: NatsInstance;
  const conns: NatsConnection[] = [];
  const leases: KvLease[] = [];

  const candidate = async (name: string) => {
    const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    conns.push(nc);
    const kv = await ensureLeaseBucket(nc, { ttlMs: TTL, replicas: 1 });
    const changes: LeaseChange[] = [];
    const lease = new KvLease(kv, {
      ttlMs: TTL,
      replicas: 1,
      holderId: name,
      logger: pino({ level: 'silent' }),
      onChange: (c) => changes.push(c),
    });
    leases.push(lease);
    lease.start();
    return { lease, changes, nc };
  };

  beforeAll(async () => {
    nats = await startNats();
  });

  afterAll(async () => {
    await Promise.allSettled(leases.map((l) => l.stop()));
    await Promise.allSettled(conns.map((c) => c.close()));
    await nats?.destroy();
  });

  it('is held by exactly one of two candidates, and taken by the other within the TTL when its holder dies', async () => {
    const a = await candidate('a');
    const b = await candidate('b');
    const [holder, other] = await waitFor('one holder', () =>
      a.lease.held ? [a, b] : b.lease.held ? [b, a] : undefined,
    );
    // Renewals go on past several TTLs, and the other never holds it meanwhile.
    const revision = holder.lease.revision!;
    await waitFor(
      'three renewals',
      () => (holder.lease.revision! >= revision + 3 ? true : undefined),
      4 * TTL,
    );
    expect(other.lease.held).toBe(false);
    expect(other.changes).toEqual([]);
    expect(holder.changes).toEqual([{ kind: 'acquired', revision }]);

    // The holder dies: it neither renews nor releases.
    await holder.lease.stop(false);
    await holder.nc.close();
    const died = Date.now();
    await waitFor('the other to take the lease', () => (other.lease.held ? true : undefined), 3 * TTL);
    // Its entry ages out TTL after its last renewal (at most 0.75 TTL before it died); the other tries
    // every TTL/4: it holds the lease within the TTL (plus one try, and the server's expiry sweep).
    expect(Date.now() - died).toBeLessThan(TTL + TTL / 4 + 1000);
    expect(other.changes).toEqual([{ kind: 'acquired', revision: other.lease.revision }]);
  });

  it('goes at once to the other candidate when its holder releases it', async () => {
    const holder = leases.find((l) => l.held)!;
    const next = await candidate('c');
    await holder.stop(true);
    await waitFor('the newcomer to take the released lease', () => (next.lease.held ? true : undefined), TTL);
  });
});
