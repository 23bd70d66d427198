import {
  AckSchema,
  AgentEventSchema,
  HEALTH_REPORT_MAX_BYTES,
  HealthReportSchema,
  HeartbeatSchema,
  NodeStatusSchema,
  subjects,
} from '@rhi/contracts';
import type { HealthReport } from '@rhi/contracts';
import type { HealthState } from '@rhi/rules-dsl';
import { holdPort, waitFor } from '@rhi/test-support';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '@rhi/contracts';
import { NatsLink, parsedCommands } from '../src/nats/nats-link.js';
import type { AgentSnapshot, HealthEvent } from '../src/loop/ports.js';
import { recordingLogger } from './support/fakes.js';
import { agentSnapshot, plannedRoute } from './support/snapshots.js';
import { NatsServer } from './support/nats-server.js';

const snapshot = (drained: boolean): AgentSnapshot =>
  agentSnapshot({
    time: 1,
    haproxy: { reachable: true, pid: 7 },
    drained,
    routes: [plannedRoute({ desired: !drained, reason: drained ? 'node drained' : 'b:be_app up' })],
    inBird: drained ? [] : [{ table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' }],
  });

const reading = (appUp: boolean, extra: HealthState['backends'] = {}): HealthEvent => ({
  type: 'snapshot',
  pid: 7,
  state: {
    frontends: { fe_web: { up: true } },
    backends: { be_app: { up: appUp, serversUp: appUp ? 2 : 0, serversTotal: 2 }, ...extra },
  },
});
const named = () => ({ frontends: ['fe_web'], backends: ['be_app'] });

const isDrained = (s: unknown) => (s as { drain: { drained: boolean } }).drain.drained;

describe('NATS link against a real nats-server', () => {
  let server: NatsServer;
  let observer: NatsConnection;
  let link: NatsLink;
  const statuses: unknown[] = [];
  const events: unknown[] = [];
  /** Health reports as received, with their size on the wire. */
  const healths: { report: HealthReport; bytes: number }[] = [];
  const commands: Command[] = [];
  const { logger, records } = recordingLogger();
  let observerReconnects = 0;

  beforeAll(async () => {
    server = await NatsServer.start();
    observer = await connect({
      servers: server.url,
      user: server.user,
      pass: server.password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    void (async () => {
      for await (const s of observer.status()) if (s.type === 'reconnect') observerReconnects++;
    })();
    observer.subscribe(subjects.allStatus, { callback: (_e, m) => void statuses.push(m.json()) });
    observer.subscribe(subjects.allEvents, { callback: (_e, m) => void events.push(m.json()) });
    observer.subscribe(subjects.allHealth, {
      callback: (_e, m) =>
        void healths.push({ report: HealthReportSchema.parse(m.json()), bytes: m.data.length }),
    });
    await observer.flush();
    link = new NatsLink({
      node: 'lb-1',
      labels: { site: 'par1' },
      agentVersion: '0.1.0-test',
      servers: [server.url],
      user: server.user,
      password: server.password,
      heartbeatMs: 60_000,
      logger,
      readCommand: parsedCommands(async (command) => {
        commands.push(command);
        return command.type === 'drain' ? { result: 'applied' } : { result: 'rejected', reason: 'not today' };
      }),
    });
    link.start();
    await waitFor('the link to connect', () => (link.connected ? true : undefined));
    // The link subscribes before it publishes: once the observer has its status, the server has the
    // link's command subscriptions too, whichever test runs first.
    link.status(snapshot(true));
    await waitFor('the first status', () => (statuses.length > 0 ? true : undefined));
    statuses.length = 0;
  });

  afterAll(async () => {
    await link?.close();
    await observer?.close();
    await server?.destroy();
  });

  it('publishes status and events that match the wire contracts', async () => {
    link.status(snapshot(false));
    link.event({
      event: 'routeAnnounced',
      time: 5,
      table: 'vol1',
      prefix: '198.18.200.1/32',
      reason: 'b:be_app up',
    });
    const status = await waitFor('a status', () => statuses.at(-1));
    const parsed = NodeStatusSchema.parse(status);
    expect(parsed).toMatchObject({ node: 'lb-1', labels: { site: 'par1' }, drain: { drained: false } });
    expect(parsed.routes[0]).toMatchObject({
      prefix: '198.18.200.1/32',
      decision: 'advertise',
      desired: true,
      inBird: true,
    });
    const event = AgentEventSchema.parse(await waitFor('an event', () => events.at(-1)));
    expect(event).toMatchObject({
      event: 'routeAnnounced',
      prefix: '198.18.200.1/32',
      time: '1970-01-01T00:00:00.005Z',
    });
  });

  it('publishes the HAProxy health when it changes, never for an unchanged reading or a heartbeat', async () => {
    const from = healths.length;
    link.health(reading(true), named);
    const first = await waitFor('a health report', () => healths[from]?.report);
    expect(first).toMatchObject({
      schema: 'rhi.v1.health',
      node: 'lb-1',
      reachable: true,
      pid: 7,
      frontends: { fe_web: { up: true } },
      backends: { be_app: { up: true, serversUp: 2, serversTotal: 2 } },
      omitted: { frontends: 0, backends: 0 },
    });
    // The same reading again, and a status heartbeat: no report. The change after them is the very next one.
    const mark = records.length;
    link.health(reading(true), named);
    link.status(snapshot(false));
    await waitFor('the status', () => statuses.at(-1));
    await waitFor('the unchanged reading to be compared', () =>
      records.slice(mark).some((r) => r['event'] === 'healthUnchanged') ? true : undefined,
    );
    link.health(reading(false), named);
    const next = await waitFor('the next health report', () => healths[from + 1]?.report);
    expect(next.seq).toBe(first.seq + 1);
    expect(next.backends['be_app']).toEqual({ up: false, serversUp: 0, serversTotal: 2 });
    link.health({ type: 'unreachable', error: 'HAPROXY_CONNECTION: ECONNREFUSED' }, named);
    const away = await waitFor('the unreachable report', () => healths[from + 2]?.report);
    expect(away).toMatchObject({ reachable: false, frontends: {}, backends: {}, seq: next.seq + 1 });
    expect(healths).toHaveLength(from + 3);
  });

  it('keeps a report for a node with many proxies under the limit, the named proxies in it', async () => {
    const from = healths.length;
    const extra: Record<string, { up: boolean; serversUp: number; serversTotal: number }> = {};
    for (let i = 0; i < 3000; i++)
      extra[`be_${String(i).padStart(5, '0')}_${'z'.repeat(120)}`] = {
        up: true,
        serversUp: 1,
        serversTotal: 1,
      };
    link.health(reading(true, extra), named);
    const { report, bytes } = await waitFor('the bounded report', () => healths[from]);
    expect(bytes).toBeLessThanOrEqual(HEALTH_REPORT_MAX_BYTES);
    expect(report.backends['be_app']).toEqual({ up: true, serversUp: 2, serversTotal: 2 });
    expect(report.frontends['fe_web']).toEqual({ up: true });
    expect(report.omitted.backends).toBeGreaterThan(0);
    expect(Object.keys(report.backends).length + report.omitted.backends).toBe(3001);
  });

  it('answers commands to its node and its labels with acks; refuses malformed ones', async () => {
    const ack1 = AckSchema.parse(
      (
        await observer.request(
          subjects.nodeCommand('lb-1'),
          JSON.stringify({ schema: 'rhi.v1.command', id: 'c1', type: 'drain' }),
          { timeout: 5000 },
        )
      ).json(),
    );
    expect(ack1).toEqual({ schema: 'rhi.v1.ack', id: 'c1', node: 'lb-1', result: 'applied' });
    const ack2 = AckSchema.parse(
      (
        await observer.request(
          subjects.labelCommand('site', 'par1'),
          JSON.stringify({ schema: 'rhi.v1.command', id: 'c2', type: 'undrain' }),
          { timeout: 5000 },
        )
      ).json(),
    );
    expect(ack2).toMatchObject({ id: 'c2', result: 'rejected', reason: 'not today' });
    const ack3 = AckSchema.parse(
      (
        await observer.request(subjects.nodeCommand('lb-1'), JSON.stringify({ id: 'c3', type: 'reboot' }), {
          timeout: 5000,
        })
      ).json(),
    );
    expect(ack3).toMatchObject({ id: 'c3', result: 'rejected' });
    expect(ack3.reason).toContain('malformed command');
    expect(commands.map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('does not block while NATS is down, and republishes the current status when it returns', async () => {
    // The link republishes as it reconnects. The observer hears that only if the server already had its
    // subscription, so an outage after which the link was back first proves nothing: it is run again.
    for (let attempt = 1; ; attempt++) {
      const reconnects = observerReconnects;
      const mark = records.length;
      const healthSeq = Math.max(-1, ...healths.map((h) => h.report.seq));
      await server.stop();
      // Kept from other processes until nats-server starts on it again.
      const hold = await holdPort(server.port);
      try {
        // Sinks return at once, without a promise to wait for and without throwing.
        expect(link.status(snapshot(true))).toBeUndefined();
        expect(link.event({ event: 'drained', time: 6, reason: 'maintenance' })).toBeUndefined();
        statuses.length = 0;
      } finally {
        await hold.release();
        await server.start();
      }
      await waitFor('the observer to reconnect', () => (observerReconnects > reconnects ? true : undefined));
      // The server has the observer's subscriptions once it answers the observer's PING.
      await observer.flush();
      const linkBack = records
        .slice(mark)
        .some((r) => r['event'] === 'natsReconnected' || r['event'] === 'natsConnected');
      if (linkBack && !statuses.some(isDrained)) {
        if (attempt === 5) throw new Error('the link reconnected before the observer after 5 outages');
        continue;
      }
      const status = NodeStatusSchema.parse(
        await waitFor('the republished status', () => statuses.find(isDrained)),
      );
      expect(status.routes[0]).toMatchObject({ desired: false, reason: 'node drained', inBird: false });
      // The health report goes out again on the new connection too, changed or not (after the status).
      const report = await waitFor(
        'the republished health',
        () => healths.find((h) => h.report.seq > healthSeq)?.report,
      );
      expect(report.reachable).toBe(true);
      return;
    }
  }, 60_000);

  it('vouches for an unchanged status with small heartbeats, and republishes it whole when due or asked', async () => {
    // Each message of lb-hb in arrival order: which subject, what it carried, its size on the wire.
    const seen: { kind: 'status' | 'heartbeat'; body: { seq: number }; bytes: number }[] = [];
    const subs = [
      observer.subscribe(subjects.status('lb-hb'), {
        callback: (_e, m) => void seen.push({ kind: 'status', body: m.json(), bytes: m.data.length }),
      }),
      observer.subscribe(subjects.heartbeat('lb-hb'), {
        callback: (_e, m) =>
          void seen.push({ kind: 'heartbeat', body: HeartbeatSchema.parse(m.json()), bytes: m.data.length }),
      }),
    ];
    await observer.flush();
    const beating = new NatsLink({
      node: 'lb-hb',
      labels: {},
      agentVersion: '0.1.0-test',
      servers: [server.url],
      user: server.user,
      password: server.password,
      heartbeatMs: 200,
      statusRefreshMs: 1500,
      logger,
      readCommand: parsedCommands(async () => ({ result: 'rejected', reason: 'not here' })),
    });
    try {
      beating.start();
      await waitFor('the link to connect', () => (beating.connected ? true : undefined));
      const exports = (checkedAt: number) => ({
        checkedAt,
        routes: [
          { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' as const, to: ['r1'], problems: [] },
        ],
      });
      beating.status({ ...snapshot(false), exports: exports(1) });
      // An export check that found the same: not a change.
      beating.status({ ...snapshot(false), time: 9, exports: exports(2) });
      await waitFor('the refresh', () =>
        seen.filter((m) => m.kind === 'status').length >= 2 ? true : undefined,
      );
      const [first, ...rest] = seen;
      expect(first?.kind).toBe('status');
      const refresh = rest.findIndex((m) => m.kind === 'status');
      const beats = rest.slice(0, refresh);
      expect(beats.length).toBeGreaterThanOrEqual(3);
      for (const b of beats) {
        expect(b.kind).toBe('heartbeat');
        expect(b.body.seq).toBe(first!.body.seq);
        expect(b.bytes).toBeLessThan(120);
      }
      expect(first!.bytes).toBeGreaterThan(beats[0]!.bytes * 3);
      const refreshed = NodeStatusSchema.parse(rest[refresh]!.body);
      expect(refreshed.seq).toBeGreaterThan(first!.body.seq);
      // Heartbeats after the refresh vouch for the refreshed status.
      const after = () => seen.slice(refresh + 2);
      await waitFor('a heartbeat after the refresh', () => after().find((m) => m.kind === 'heartbeat'));
      expect(after().every((m) => m.body.seq === refreshed.seq)).toBe(true);
      // Two controller replicas asking for the status at once: it goes out once.
      const asked = seen.length;
      observer.publish(subjects.resend('lb-hb'));
      observer.publish(subjects.resend('lb-hb'));
      await observer.flush();
      const beatsAfter = () => seen.slice(asked).filter((m) => m.kind === 'heartbeat').length;
      await waitFor('two heartbeats after the requests', () => (beatsAfter() >= 2 ? true : undefined));
      const resent = seen.slice(asked).filter((m) => m.kind === 'status');
      expect(resent).toHaveLength(1);
      expect(resent[0]!.body.seq).toBeGreaterThan(refreshed.seq);
    } finally {
      await beating.close();
      for (const sub of subs) sub.unsubscribe();
    }
  });

  it('refuses to connect with wrong credentials (the server requires auth)', async () => {
    await expect(
      connect({ servers: server.url, user: 'rhi', pass: 'wrong', reconnect: false }),
    ).rejects.toThrow(/Authorization/i);
  });
});
