import type { NodeStatus } from '@rhi/contracts';
import { subjects } from '@rhi/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../src/index.js';
import { ensureStatusStream, followStatuses, type StoredStatus } from '../src/nats/status-stream.js';

// The status stream against a real nats-server 2.9.10 with JetStream: agents publish their status on
// core NATS as they do today, and a controller that starts later, or again, gets every node's latest
// status from JetStream without waiting for anyone to speak.

const status = (node: string, seq: number): NodeStatus => ({
  schema: 'rhi.v1.status',
  node,
  labels: {},
  agentVersion: '0.1.0',
  time: new Date(Date.now() + seq).toISOString(),
  seq,
  ruleSet: null,
  haproxy: { reachable: true },
  bird: { reachable: true },
  drain: { drained: false },
  routes: [],
});

describe('the status stream on a real nats-server', () => {
  let nats: NatsInstance;
  let agentSide: NatsConnection;
  const connections: NatsConnection[] = [];
  const open = async () => {
    const nc = await connect({
      servers: nats.url,
      user: nats.user,
      pass: nats.password,
      reconnectTimeWait: 200,
    });
    connections.push(nc);
    return nc;
  };
  /** A controller replica: follows the stream into a Fleet until aborted. */
  const replica = async () => {
    const nc = await open();
    const fleet = new Fleet();
    const seen: StoredStatus[] = [];
    const abort = new AbortController();
    const done = followStatuses(
      nc,
      (s) => {
        seen.push(s);
        fleet.ingest(s.subject, JSON.parse(new TextDecoder().decode(s.data)), s.storedAt);
      },
      abort.signal,
    );
    return { fleet, seen, stop: async () => (abort.abort(), await done) };
  };
  const publish = (node: string, seq: number) =>
    agentSide.publish(subjects.status(node), JSON.stringify(status(node, seq)));

  beforeAll(async () => {
    nats = await startNats();
    agentSide = await open();
    await ensureStatusStream(await open(), { replicas: 1, maxAgeMs: 3_600_000 });
  });

  afterAll(async () => {
    await Promise.allSettled(connections.map((nc) => nc.close()));
    await nats?.destroy();
  });

  it('is created once and left as it is by the next replica', async () => {
    await expect(
      ensureStatusStream(await open(), { replicas: 1, maxAgeMs: 3_600_000 }),
    ).resolves.toBeUndefined();
  });

  it('gives a cold replica the latest status of every node, and then each new one', async () => {
    for (const [node, seq] of [
      ['lb1', 1],
      ['lb2', 1],
      ['lb1', 2],
      ['lb3', 1],
      ['lb1', 3],
    ] as const)
      publish(node, seq);
    await agentSide.flush();
    const cold = await replica();
    try {
      await waitFor('the cold replica to hold all three nodes', () =>
        cold.fleet.size === 3 ? true : undefined,
      );
      // Only the last status per node comes back, not the history.
      expect(cold.seen.map((s) => s.subject).sort()).toEqual([
        'rhi.v1.status.lb1',
        'rhi.v1.status.lb2',
        'rhi.v1.status.lb3',
      ]);
      expect(cold.fleet.get('lb1')?.status.seq).toBe(3);
      expect(cold.seen.at(-1)?.pending).toBe(0);
      // receivedAt is when the server stored it: a node silent since before the restart looks silent.
      const storedAt = cold.fleet.get('lb2')?.receivedAt ?? 0;
      expect(storedAt).toBeGreaterThan(Date.now() - 60_000);
      expect(storedAt).toBeLessThanOrEqual(Date.now());
      publish('lb2', 2);
      await waitFor('the new status of lb2', () =>
        cold.fleet.get('lb2')?.status.seq === 2 ? true : undefined,
      );
    } finally {
      await cold.stop();
    }
  });

  it('keeps following across a nats-server restart', async () => {
    const follower = await replica();
    try {
      await waitFor('the replica to catch up', () => (follower.fleet.size === 3 ? true : undefined));
      await nats.stop();
      await nats.start();
      await waitFor(
        'lb3 published again after the restart',
        async () => {
          publish('lb3', 7);
          await agentSide.flush().catch(() => undefined);
          return follower.fleet.get('lb3')?.status.seq === 7 ? true : undefined;
        },
        20_000,
      );
    } finally {
      await follower.stop();
    }
  });
});
