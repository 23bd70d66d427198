import type { NodeStatus, RouteStatus } from '@rhi/contracts';
import { subjects } from '@rhi/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControllerRuntime } from '../src/runtime.js';
import { apiGet, startReplica } from './support/replicas.js';

// Controller replicas against a real nats-server with JetStream, fed by simulated agents (real NATS
// clients publishing the contract's messages as rhi-agent does: a status when it changes, a heartbeat
// every interval): the view, a node lost, a cold replica, NATS going away and coming back.

const HEARTBEAT = 1000;

const route = (prefix: string, up: boolean): RouteStatus => ({
  table: 'vol1',
  prefix,
  family: 'ipv4',
  decision: up ? 'advertise' : 'withdraw',
  desired: up,
  damping: 'stable',
  allowed: true,
  reason: up ? 'b:be_app up' : 'b:be_app down',
  explanation: { term: 'b:be_app', value: up, detail: up ? 'up (UP)' : 'down (DOWN)', children: [] },
  inBird: up,
  since: new Date().toISOString(),
});

describe('rhi-controller replicas on a real nats-server', () => {
  let nats: NatsInstance;
  let agents: NatsConnection;
  const replicas: ControllerRuntime[] = [];
  const seqs = new Map<string, number>();
  const beating = new Map<string, NodeJS.Timeout>();

  const publish = (node: string, up: boolean) => {
    const seq = (seqs.get(node) ?? 0) + 1;
    seqs.set(node, seq);
    const status: NodeStatus = {
      schema: 'rhi.v1.status',
      node,
      labels: { site: 'par1' },
      agentVersion: '0.1.0',
      time: new Date().toISOString(),
      seq,
      ruleSet: null,
      haproxy: { reachable: true },
      bird: { reachable: true },
      drain: { drained: false },
      routes: [route('198.18.200.1/32', up)],
    };
    agents.publish(subjects.status(node), JSON.stringify(status));
  };
  const heartbeat = (node: string) =>
    agents.publish(
      subjects.heartbeat(node),
      JSON.stringify({
        schema: 'rhi.v1.heartbeat',
        node,
        time: new Date().toISOString(),
        seq: seqs.get(node) ?? 0,
      }),
    );
  /**
   * An agent: its status now, when `up` (deciding its one route) changes and when a controller asks for
   * it (these first ones go out before any controller made the status stream), else a heartbeat.
   */
  const agent = (node: string, up: () => boolean) => {
    let last = up();
    publish(node, last);
    agents.subscribe(subjects.resend(node), { callback: () => publish(node, last) });
    beating.set(
      node,
      setInterval(() => {
        if (up() === last) return heartbeat(node);
        last = up();
        publish(node, last);
      }, HEARTBEAT),
    );
  };
  const silence = (node: string) => clearInterval(beating.get(node));
  const start = async () => {
    const r = await startReplica(nats, { heartbeatMs: HEARTBEAT }, 'info');
    replicas.push(r);
    return r;
  };
  const get = apiGet;
  const vip = async (r: ControllerRuntime) =>
    ((await get(r, `/api/v1/vips/${encodeURIComponent('vol1%198.18.200.1/32')}`)).body.vip ?? null) as {
      advertisers: number;
      nodes: { node: string; state: string; reason: string }[];
    } | null;

  let lb2Up = true;

  beforeAll(async () => {
    nats = await startNats();
    agents = await connect({
      servers: nats.url,
      user: nats.user,
      pass: nats.password,
      reconnectTimeWait: 200,
    });
    agent('lb1', () => true);
    agent('lb2', () => lb2Up);
    agent('lb3', () => true);
  });

  afterAll(async () => {
    for (const t of beating.values()) clearInterval(t);
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await agents?.close();
    await nats?.destroy();
  });

  it('shows which nodes advertise a VIP, and one losing it with the reason', async () => {
    const r = await start();
    await waitFor('three advertisers', async () => ((await vip(r))?.advertisers === 3 ? true : undefined));
    lb2Up = false;
    const v = await waitFor('lb2 to withdraw', async () => {
      const got = await vip(r);
      return got?.advertisers === 2 ? got : undefined;
    });
    expect(v.nodes.find((n) => n.node === 'lb2')).toMatchObject({
      state: 'withdrawn',
      reason: 'b:be_app down',
    });
  });

  it('turns a node that stops reporting lost (after 3 heartbeats: the unit tests pin the time), and no longer counts it', async () => {
    const r = replicas[0]!;
    silence('lb3');
    await waitFor(
      'lb3 lost',
      async () => {
        const nodes = (await get(r, '/api/v1/nodes')).body.nodes as { name: string; state: string }[];
        return nodes.find((n) => n.name === 'lb3')?.state === 'lost' ? true : undefined;
      },
      10_000,
    );
    const v = await vip(r);
    expect(v?.advertisers).toBe(1);
    expect(v?.nodes.find((n) => n.node === 'lb3')?.state).toBe('stale');
    await waitFor('the nodeLost alert', async () => {
      const alerts = (await get(r, '/api/v1/alerts')).body.alerts as { key: string }[];
      return alerts.some((a) => a.key === 'nodeLost:lb3') ? true : undefined;
    });
  });

  it('gives a cold replica the same view from JetStream, lost node included, at once', async () => {
    const first = replicas[0]!;
    const cold = await start();
    await waitFor('the cold replica to know all three nodes', async () =>
      ((await get(cold, '/api/v1/nodes')).body.nodes as unknown[]).length === 3 ? true : undefined,
    );
    const states = async (r: ControllerRuntime) =>
      ((await get(r, '/api/v1/nodes')).body.nodes as { name: string; state: string }[]).map((n) => [
        n.name,
        n.state,
      ]);
    expect(await states(cold)).toEqual(await states(first));
    expect(await states(cold)).toContainEqual(['lb3', 'lost']);
    // lb1 published one status, long before: the heartbeat stream says it was heard since.
    const lb1 = (await get(cold, '/api/v1/nodes/lb1')).body as {
      node: { state: string; lastHeard: string };
      status: { time: string };
    };
    expect(lb1.node.state).toBe('up');
    expect(Date.parse(lb1.status.time)).toBeLessThan(Date.now() - 3 * HEARTBEAT);
    expect(Date.parse(lb1.node.lastHeard)).toBeGreaterThan(Date.now() - 3 * HEARTBEAT);
    // And the first replica stopping changes nothing for the other.
    await first.stop();
    expect((await vip(cold))?.advertisers).toBe(1);
  });

  it('serves the last view marked stale with 503 while NATS is away, and recovers when it is back', async () => {
    const r = replicas[1]!;
    await nats.stop();
    const stale = await waitFor('a 503', async () => {
      const res = await get(r, '/api/v1/vips');
      return res.status === 503 ? res : undefined;
    });
    expect(stale.body).toMatchObject({
      stale: true,
      error: { code: 'NATS_UNAVAILABLE' },
      vips: [{ id: 'vol1%198.18.200.1/32' }],
    });
    lb2Up = true;
    await nats.start();
    await waitFor(
      'the view to recover: two advertisers again (lb2 back up)',
      async () => {
        const res = await get(r, '/api/v1/vips');
        const vips = res.body.vips as { advertisers: number }[] | undefined;
        return res.status === 200 && vips?.[0]?.advertisers === 2 ? true : undefined;
      },
      20_000,
    );
  });
});
