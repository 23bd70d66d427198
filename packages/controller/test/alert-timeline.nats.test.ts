import type { AlertEvent, HealthReport, NodeStatus } from '@rhi/contracts';
import { subjects } from '@rhi/contracts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControllerRuntime } from '../src/runtime.js';
import { API_TOKEN, apiGet, startReplica } from './support/replicas.js';
import { healthReport } from './support/health.js';
import { route, withdrawn } from './support/statuses.js';

// Two controller replicas on a real nats-server, fed by simulated agents: the replica holding the lease
// writes each alert opening and closing into the timeline once, a replica taking over (its holder gone
// without a word) writes the rest once, and the nodes' health reports reach every replica, cold ones too.

const HEARTBEAT = 1000;
const LEASE_TTL = 2000;
const VIP = 'vol1%198.18.200.1/32';

describe('alerts in the timeline, once, from controller replicas on a real nats-server', () => {
  let nats: NatsInstance;
  let agents: NatsConnection;
  const replicas: ControllerRuntime[] = [];
  const seqs = new Map<string, number>();
  const beating: NodeJS.Timeout[] = [];
  let up = true;

  const publish = (node: string) => {
    const seq = (seqs.get(node) ?? 0) + 1;
    seqs.set(node, seq);
    const prefix = '198.18.200.1/32';
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
      routes: [up ? route(prefix) : withdrawn(prefix)],
    };
    agents.publish(subjects.status(node), JSON.stringify(status));
  };
  const start = async () => {
    const r = await startReplica(nats, { heartbeatMs: HEARTBEAT, leaseTtlMs: LEASE_TTL });
    replicas.push(r);
    return r;
  };
  const get = apiGet;
  /** The alert events about the VIP in the timeline, as a replica's API returns them. */
  const alertEvents = async (r: ControllerRuntime) =>
    ((await get(r, `/api/v1/events?vip=${encodeURIComponent(VIP)}`)).body.events as { event: AlertEvent }[])
      .map((e) => e.event)
      .filter((e) => e.schema === 'rhi.v1.alert');
  const openAlert = async (r: ControllerRuntime) =>
    ((await get(r, '/api/v1/alerts')).body.alerts as { key: string }[]).some(
      (a) => a.key === `vipNoAdvertiser:${VIP}`,
    );
  const holder = () => waitFor('a lease holder', () => replicas.find((r) => r.leaseHeld), 4 * LEASE_TTL);

  beforeAll(async () => {
    nats = await startNats();
    agents = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    for (const node of ['lb1', 'lb2']) {
      publish(node);
      beating.push(setInterval(() => publish(node), HEARTBEAT));
    }
  });

  afterAll(async () => {
    for (const t of beating) clearInterval(t);
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await agents?.close();
    await nats?.destroy();
  });

  it('writes an alert opening and its closing once, with two replicas watching', async () => {
    const [a, b] = [await start(), await start()];
    const lead = await holder();
    expect([a, b].filter((r) => r.leaseHeld)).toHaveLength(1);
    up = false;
    await waitFor('both replicas to see the VIP unadvertised', async () =>
      (await openAlert(a)) && (await openAlert(b)) ? true : undefined,
    );
    const [opened] = await waitFor('the opening in the timeline', async () => {
      const events = await alertEvents(b);
      return events.length > 0 ? events : undefined;
    });
    expect(opened).toMatchObject({ event: 'alertOpened', kind: 'vipNoAdvertiser', vip: VIP, subject: VIP });
    expect(opened?.reason).toMatch(/no node advertises/);
    up = true;
    const events = await waitFor('the closing in the timeline', async () => {
      const got = await alertEvents(a);
      return got.some((e) => e.event === 'alertClosed') ? got : undefined;
    });
    // Both replicas saw the alert close before anyone looks again: nothing more can come of it.
    await waitFor('both replicas to see it closed', async () =>
      !(await openAlert(a)) && !(await openAlert(b)) ? true : undefined,
    );
    expect((await alertEvents(lead)).map((e) => [e.event, e.id])).toEqual([
      ['alertOpened', opened!.id],
      ['alertClosed', opened!.id],
    ]);
    expect(events).toHaveLength(2);
  });

  it('hands the lease over within the TTL when its holder dies, and a takeover writes no alert twice', async () => {
    const lead = await holder();
    const other = replicas.find((r) => r !== lead)!;
    up = false;
    const opening = await waitFor('a second opening', async () => {
      const got = await alertEvents(other);
      return got.length === 3 ? got[2] : undefined;
    });
    await waitFor('the other replica to see it open', async () =>
      (await openAlert(other)) ? true : undefined,
    );
    // The holder dies with the alert open: it neither closes it nor releases the lease.
    await lead.stop({ releaseLease: false });
    const died = Date.now();
    await waitFor(
      'the other replica to take the lease',
      () => (other.leaseHeld ? true : undefined),
      3 * LEASE_TTL,
    );
    expect(Date.now() - died).toBeLessThan(LEASE_TTL + LEASE_TTL / 4 + 1000);
    up = true;
    const events = await waitFor('the closing from the new holder', async () => {
      const got = await alertEvents(other);
      return got.some((e, i) => i > 2 && e.event === 'alertClosed') ? got : undefined;
    });
    await waitFor('the new holder to see it closed', async () =>
      !(await openAlert(other)) ? true : undefined,
    );
    // The new holder saw the alert open later than the old one, but closes the same occurrence, once.
    expect(events.slice(2).map((e) => [e.event, e.id])).toEqual([
      ['alertOpened', opening!.id],
      ['alertClosed', opening!.id],
    ]);
    expect(await alertEvents(other)).toHaveLength(4);
  });

  it('keeps each node’s latest health report, and gives it to a cold replica', async () => {
    const report = (seq: number, serversUp: number): HealthReport => ({
      ...healthReport('lb1', { seq, time: new Date().toISOString() }),
      backends: { be_app: { up: serversUp > 0, serversUp, serversTotal: 3 } },
    });
    const warm = replicas.find((r) => r.leaseHeld) ?? (await holder());
    agents.publish(subjects.health('lb1'), JSON.stringify(report(1, 3)));
    agents.publish(subjects.health('lb1'), JSON.stringify(report(2, 1)));
    agents.publish(subjects.health('lb2'), JSON.stringify({ ...report(1, 3), node: 'lb1' }));
    const health = await waitFor('lb1’s second report', async () => {
      const body = (await get(warm, '/api/v1/nodes/lb1')).body;
      return (body.health as HealthReport | null)?.seq === 2 ? body.health : undefined;
    });
    expect(health).toMatchObject({ backends: { be_app: { serversUp: 1, serversTotal: 3 } } });
    expect((await get(warm, '/api/v1/nodes/lb2')).body.health).toBeNull();
    const cold = await start();
    const coldHealth = await waitFor('the cold replica to have lb1’s report', async () => {
      const body = (await get(cold, '/api/v1/nodes/lb1')).body;
      return body.health ?? undefined;
    });
    expect(coldHealth).toEqual(health);
    expect((await get(cold, '/api/v1/nodes/lb2')).body.health).toBeNull();
    const metrics = await fetch(`http://127.0.0.1:${cold.address?.port}/metrics`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    }).then((r) => r.text());
    expect(metrics).toMatch(/rhi_controller_health_reports_total\{result="accepted"\} 1/);
    expect(metrics).toMatch(/rhi_controller_health_reports_total\{result="subject"\} 1/);
  });
});
