import { existsSync } from 'node:fs';
import { chmod, link, lstat, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminSocketInUseError,
  AdminSocketSetupError,
  listenControlSocket,
  resolveGroup,
} from '../src/admin/control-socket.js';
import { AgentMetrics } from '../src/admin/metrics.js';
import { createAdminServer, health, listen, parseListen } from '../src/admin/server.js';
import { NodeStatusSchema } from '@rhi/contracts';
import type { AgentSnapshot } from '../src/loop/ports.js';
import { NodeStatusStamper } from '../src/nats/status-stamper.js';
import { agentSnapshot, plannedRoute, statusOf } from './support/snapshots.js';

let snapshot: AgentSnapshot = agentSnapshot({
  ruleSet: { hash: 'a'.repeat(64), serial: 3, source: 'controller', appliedAt: 0 },
  routes: [
    plannedRoute(),
    plannedRoute({
      table: 'vol2',
      prefix: '198.18.200.2/32',
      decision: false,
      desired: false,
      reason: 'b:be_x down',
    }),
  ],
});

describe('admin HTTP', () => {
  const metrics = new AgentMetrics({ defaultMetrics: false });
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const stamper = new NodeStatusStamper({ node: 'lb-1', labels: {}, agentVersion: '0.0.0' }, () => 0);
    server = createAdminServer(
      { metrics, snapshot: () => snapshot, status: () => stamper.next(snapshot) },
      { controls: true },
    );
    const address = await listen(server, '127.0.0.1:0');
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('serves Prometheus metrics of routes, transitions, dependencies and the rule set', async () => {
    metrics.observe(snapshot);
    metrics.transition({
      event: 'routeAnnounced',
      time: 0,
      table: 'vol1',
      prefix: '198.18.200.1/32',
      reason: 'x',
    });
    metrics.decisionLatency(0.004);
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('rhi_route_advertised{table="vol1",prefix="198.18.200.1/32"} 1');
    expect(text).toContain('rhi_route_advertised{table="vol2",prefix="198.18.200.2/32"} 0');
    expect(text).toContain(
      'rhi_route_transitions_total{table="vol1",prefix="198.18.200.1/32",event="routeAnnounced"} 1',
    );
    expect(text).toContain('rhi_dependency_up{dependency="bird"} 1');
    expect(text).toContain(`rhi_ruleset_info{hash="${'a'.repeat(64)}",serial="3",source="controller"} 1`);
    expect(text).toContain('rhi_decision_latency_seconds_bucket{le="0.005"} 1');
  });

  it('serves the status as JSON and a health check that turns 503 with reasons', async () => {
    const first = NodeStatusSchema.parse(await (await fetch(`${base}/status`)).json());
    const second = NodeStatusSchema.parse(await (await fetch(`${base}/status`)).json());
    // The NodeStatus the agent publishes on NATS, numbered from the same counter.
    expect(first).toEqual(statusOf(snapshot, first.seq));
    expect(first.routes.map((r) => [r.prefix, r.decision, r.explanation.term])).toEqual([
      ['198.18.200.1/32', 'advertise', 'b:be_app'],
      ['198.18.200.2/32', 'withdraw', 'b:be_app'],
    ]);
    expect(second.seq).toBe(first.seq + 1);
    const fine = await fetch(`${base}/healthz`);
    expect(fine.status).toBe(200);
    expect(fine.headers.get('server')).toBe('rhi-agent');
    expect(await fine.json()).toEqual({ ok: true, status: 'pass', problems: [], warnings: [] });
    const before = snapshot;
    snapshot = { ...snapshot, bird: { reachable: false, error: 'connect ENOENT /run/bird/bird.ctl' } };
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ok: false,
      status: 'fail',
      problems: ['bird: connect ENOENT /run/bird/bird.ctl'],
      warnings: [],
    });
    snapshot = before;
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('is 503 while BIRD refuses its configuration, and 200 with a warning while the event ring is refused', () => {
    const refusing = agentSnapshot({ bird: { reachable: true, error: 'bird.conf:3:1 syntax error' } });
    expect(health(refusing)).toEqual({
      status: 'fail',
      problems: ['bird refuses its configuration: bird.conf:3:1 syntax error'],
      warnings: [],
    });
    const slow = agentSnapshot({
      haproxy: {
        reachable: true,
        eventRing: {
          name: 'evnets',
          state: 'unavailable',
          error: 'HAProxy has no ring "evnets" (No such event sink)',
        },
      },
    });
    expect(health(slow)).toEqual({
      status: 'warn',
      problems: [],
      warnings: [
        'haproxy.eventRing: HAProxy has no ring "evnets" (No such event sink): changes are seen at the poll interval only',
      ],
    });
    const pending = agentSnapshot({
      haproxy: { reachable: true, eventRing: { name: 'events', state: 'pending' } },
    });
    expect(health(pending).status).toBe('pass');
  });

  it('counts BIRD failures and drift repairs, and reports BIRD down while it refuses its configuration', async () => {
    const own = new AgentMetrics({ defaultMetrics: false });
    const text = () => own.registry.metrics();
    own.observe(agentSnapshot({ bird: { reachable: true, error: 'bird.conf:3:1 syntax error' } }));
    expect(await text()).toContain('rhi_dependency_up{dependency="bird"} 0');
    own.observe(agentSnapshot());
    expect(await text()).toContain('rhi_dependency_up{dependency="bird"} 1');
    for (const event of [
      'birdUnreachable',
      'birdConfigError',
      'birdConfigError',
      'birdDriftRepaired',
    ] as const)
      own.transition({ event, time: 0, reason: 'x' });
    expect(await text()).toContain('rhi_bird_failures_total{kind="unreachable"} 1');
    expect(await text()).toContain('rhi_bird_failures_total{kind="config"} 2');
    expect(await text()).toContain('rhi_bird_drift_repairs_total 1');
    // The ring: nothing until HAProxy has said, then 1 or 0.
    own.observe(
      agentSnapshot({ haproxy: { reachable: true, eventRing: { name: 'events', state: 'pending' } } }),
    );
    expect(await text()).not.toContain('rhi_event_ring_followed{');
    own.observe(
      agentSnapshot({ haproxy: { reachable: true, eventRing: { name: 'events', state: 'unavailable' } } }),
    );
    expect(await text()).toContain('rhi_event_ring_followed{ring="events"} 0');
    own.observe(
      agentSnapshot({ haproxy: { reachable: true, eventRing: { name: 'events', state: 'following' } } }),
    );
    expect(await text()).toContain('rhi_event_ring_followed{ring="events"} 1');
  });

  it('parses listen addresses', () => {
    expect(parseListen('127.0.0.1:9180')).toEqual({ host: '127.0.0.1', port: 9180 });
    expect(parseListen('[::1]:9180')).toEqual({ host: '::1', port: 9180 });
    expect(() => parseListen('9180')).toThrow(/bad listen address/);
  });
});

/** One HTTP request over a unix socket. */
const overSocket = (socketPath: string, method: string, path: string, body = '') =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('error', reject);
    req.end(body);
  });

describe('admin controls', () => {
  const metrics = new AgentMetrics({ defaultMetrics: false });
  const calls: string[] = [];
  const sources = {
    metrics,
    snapshot: () => snapshot,
    status: () => statusOf(snapshot),
    drain: async (r: { reason?: string }) => void calls.push(`drain ${r.reason ?? ''}`),
    undrain: async () => void calls.push('undrain'),
  };
  let dir: string;
  const servers: Server[] = [];
  const serve = (server: Server) => (servers.push(server), server);
  // As root, the socket gets a group the test process is not in; otherwise the process's own group.
  const gid = process.getuid?.() === 0 ? 1 : (process.getgid?.() ?? 0);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-admin-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses POST /drain and /undrain on TCP with 403, naming the socket, and calls nothing', async () => {
    const tcp = serve(createAdminServer(sources, { controls: false, controlSocket: '/run/rhi/admin.sock' }));
    const { port } = await listen(tcp, '127.0.0.1:0');
    for (const path of ['/drain', '/undrain']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        body: JSON.stringify({ reason: 'ssrf' }),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        ok: false,
        error: `POST ${path} is accepted only on the admin socket /run/rhi/admin.sock, where its file permissions decide who may use it`,
      });
    }
    expect(calls).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${port}/status`)).status).toBe(200);
  });

  it('serves the controls and the reads on the control socket, created with its mode and group', async () => {
    const path = join(dir, 'admin.sock');
    await listenControlSocket(serve(createAdminServer(sources, { controls: true })), path, {
      mode: 0o660,
      gid,
    });
    const stats = await lstat(path);
    expect({ socket: stats.isSocket(), mode: stats.mode & 0o7777, gid: stats.gid }).toEqual({
      socket: true,
      mode: 0o660,
      gid,
    });
    expect(await overSocket(path, 'POST', '/drain', '{"reason":"operator"}')).toEqual({
      status: 200,
      body: `${JSON.stringify({ ok: true, drained: false })}\n`,
    });
    expect((await overSocket(path, 'POST', '/undrain')).status).toBe(200);
    expect((await overSocket(path, 'GET', '/status')).status).toBe(200);
    expect(calls).toEqual(['drain operator', 'undrain']);
  });

  it("replaces a crashed agent's socket, refuses a live one or another file, and removes its own on close", async () => {
    const path = join(dir, 'stale.sock');
    // A socket nobody answers on: what a crashed agent leaves.
    const crashed = createNetServer();
    await new Promise<void>((r) => crashed.listen(path, r));
    await chmod(path, 0o600);
    const { ino } = await lstat(path);
    // libuv removes a socket's path on close: keep the file, as a crash would.
    await link(path, `${path}.kept`);
    await new Promise((r) => crashed.close(r));
    await rename(`${path}.kept`, path);
    expect((await lstat(path)).ino).toBe(ino);

    const first = serve(createAdminServer(sources, { controls: true }));
    await listenControlSocket(first, path, { mode: 0o660, gid });
    expect((await lstat(path)).ino).not.toBe(ino);
    expect((await overSocket(path, 'GET', '/status')).status).toBe(200);

    const second = createAdminServer(sources, { controls: true });
    await expect(listenControlSocket(second, path, { mode: 0o660, gid })).rejects.toThrow(
      AdminSocketInUseError,
    );
    expect((await overSocket(path, 'GET', '/status')).status).toBe(200);

    const config = join(dir, 'agent.yaml');
    await writeFile(config, 'node: { name: lb-1 }\n');
    await expect(listenControlSocket(second, config, { mode: 0o660, gid })).rejects.toMatchObject({
      code: 'ADMIN_SOCKET_SETUP',
      op: 'replace',
      message: `admin.socket: ${config} exists and is not a socket; not replacing it`,
    });

    const missing = join(dir, 'missing', 'admin.sock');
    await expect(listenControlSocket(second, missing, { mode: 0o660, gid })).rejects.toThrow(
      new AdminSocketSetupError(
        missing,
        'bind',
        `cannot create ${missing}: the directory ${join(dir, 'missing')} does not exist (packaging/rhi-agent.tmpfiles.conf creates /run/rhi)`,
      ),
    );

    await new Promise((r) => first.close(r));
    expect(existsSync(path)).toBe(false);
  });

  it('resolves socket groups by name or number', async () => {
    expect(await resolveGroup('root')).toBe(0);
    expect(await resolveGroup('1234')).toBe(1234);
    expect(await resolveGroup(7)).toBe(7);
    expect(await resolveGroup('no-such-group-here')).toBeNull();
  });
});
