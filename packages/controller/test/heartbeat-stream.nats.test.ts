import { subjects } from '@rhi/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LatestOrLive } from '../src/nats/latest-then-live.js';
import { ensureHeartbeatStream, followHeartbeats } from '../src/nats/status-stream.js';

// The heartbeats against a real nats-server 2.9.10: the latest of each node from the heartbeat stream,
// then live over core NATS, and what was published while the controller was away read from the stream
// again when it reconnects.

const decoder = new TextDecoder();
const seqOf = (m: LatestOrLive) => (JSON.parse(decoder.decode(m.data)) as { seq: number }).seq;

describe('heartbeats on a real nats-server', () => {
  let nats: NatsInstance;
  let agentSide: NatsConnection;
  const connections: NatsConnection[] = [];
  const open = async (reconnectTimeWait: number) => {
    const nc = await connect({
      servers: nats.url,
      user: nats.user,
      pass: nats.password,
      reconnectTimeWait,
      maxReconnectAttempts: -1,
    });
    connections.push(nc);
    return nc;
  };
  const beat = (node: string, seq: number) =>
    agentSide.publish(
      subjects.heartbeat(node),
      JSON.stringify({ schema: 'rhi.v1.heartbeat', node, time: new Date().toISOString(), seq }),
    );
  /** A controller's follower: every message it is given, in order. */
  const follow = async (reconnectTimeWait = 200) => {
    const nc = await open(reconnectTimeWait);
    const seen: LatestOrLive[] = [];
    let caughtUp = -1;
    const abort = new AbortController();
    const done = followHeartbeats(
      nc,
      {
        onMessage: (m) => seen.push(m),
        onCaughtUp: () => {
          caughtUp = seen.length;
        },
      },
      abort.signal,
    );
    return { nc, seen, caughtUp: () => caughtUp, stop: async () => (abort.abort(), await done) };
  };

  beforeAll(async () => {
    nats = await startNats();
    agentSide = await open(100);
    await ensureHeartbeatStream(agentSide, { replicas: 1, maxAgeMs: 3_600_000 });
  });

  afterAll(async () => {
    await Promise.allSettled(connections.map((nc) => nc.close()));
    await nats?.destroy();
  });

  it('reads the latest heartbeat of every node from the stream, then each new one live', async () => {
    for (const [node, seq] of [
      ['lb1', 1],
      ['lb2', 1],
      ['lb1', 2],
    ] as const)
      beat(node, seq);
    await agentSide.flush();
    const f = await follow();
    try {
      await waitFor('the read of the stream', () => (f.caughtUp() >= 0 ? true : undefined));
      const read = f.seen.slice(0, f.caughtUp());
      expect(read.map((m) => [m.subject, seqOf(m), m.replayed])).toEqual([
        ['rhi.v1.heartbeat.lb2', 1, true],
        ['rhi.v1.heartbeat.lb1', 2, true],
      ]);
      expect(read[0]!.storedAt).toBeLessThanOrEqual(Date.now());
      beat('lb2', 2);
      const live = await waitFor('the live heartbeat', () => f.seen.find((m) => !m.replayed));
      expect([live.subject, seqOf(live)]).toEqual(['rhi.v1.heartbeat.lb2', 2]);
    } finally {
      await f.stop();
    }
  });

  it('reads the stream again after a reconnect: a heartbeat published while it was away still arrives', async () => {
    // The follower reconnects 4 s after the restart, the agent side within 100 ms: a heartbeat the agent
    // publishes between the two reaches the stream but not the follower's live subscription.
    const f = await follow(4000);
    let reconnected = false;
    void (async () => {
      for await (const s of f.nc.status()) if (s.type === 'reconnect') reconnected = true;
    })();
    try {
      await waitFor('the read of the stream', () => (f.caughtUp() >= 0 ? true : undefined));
      await nats.stop();
      await nats.start();
      await waitFor('the agent side to reconnect', async () =>
        (await agentSide.flush().then(
          () => true,
          () => undefined,
        ))
          ? true
          : undefined,
      );
      beat('lb3', 9);
      await agentSide.flush();
      expect(reconnected, 'the follower was still away when the agent published').toBe(false);
      const got = await waitFor(
        'the heartbeat of lb3 after the follower reconnects',
        () => f.seen.find((m) => m.subject === 'rhi.v1.heartbeat.lb3'),
        20_000,
      );
      expect(seqOf(got)).toBe(9);
      expect(got.replayed).toBe(true);
    } finally {
      await f.stop();
    }
  });
});
