import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthBook } from '../src/fleet/health.js';
import { tokenHash } from '../src/http/auth.js';
import { buildApp } from '../src/http/app.js';
import type { NatsHealth, TimelineQuery } from '../src/ports.js';
import type { DrainService } from '../src/rollouts/drain-service.js';
import type { RolloutService } from '../src/rollouts/rollout-service.js';
import type { RuleSetService } from '../src/rulesets/rule-set-service.js';
import { FleetView } from '../src/view/fleet-view.js';
import { healthReport } from './support/health.js';
import { iso, route, status, T0, withdrawn } from './support/statuses.js';

const VIEWER = 'viewer-token-0123456789';

function setup() {
  let now = T0;
  let nats: NatsHealth = { up: true };
  const queries: TimelineQuery[] = [];
  const view = new FleetView({ heartbeatMs: 5000, minimum: () => 2, now: () => now });
  view.ingest('rhi.v1.status.lb1', status('lb1'), T0);
  view.ingest('rhi.v1.status.lb2', status('lb2', { routes: [withdrawn('198.18.200.1/32')] }), T0);
  const health = new HealthBook();
  health.ingest('rhi.v1.health.lb1', healthReport('lb1'));
  const app = buildApp({
    view,
    health,
    timeline: {
      query: async (q) => {
        queries.push(q);
        return {
          entries: [
            { seq: 7, time: iso(T0), subject: 'rhi.v1.events.lb1', event: { event: 'routeWithdrawn' } },
          ],
          truncated: false,
        };
      },
    },
    nats: () => nats,
    tokens: [{ name: 'dashboard', role: 'viewer', sha256: tokenHash(VIEWER) }],
    metrics: async () => ({ contentType: 'text/plain', text: 'rhi_controller_nodes 2\n' }),
    logger: pino({ level: 'silent' }),
    version: '0.1.0',
  });
  const get = (url: string, token: string | null = VIEWER) =>
    app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return {
    app,
    view,
    get,
    queries,
    setNow: (t: number) => (now = t),
    setNats: (h: NatsHealth) => (nats = h),
  };
}

let current: ReturnType<typeof setup> | null = null;
afterEach(async () => {
  await current?.app.close();
  current = null;
});
const start = () => (current = setup());

/** Every route an app serves, as `METHOD /path/{param}`, from Fastify's route tree (HEAD left out). */
function servedRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD'))
      out.push(`${method} ${path}`);
  }
  return out.sort();
}

describe('controller API', () => {
  it('documents in its OpenAPI document every route it serves, and serves every route documented', async () => {
    const { app } = start();
    const full = buildApp({
      view: new FleetView({ heartbeatMs: 5000, minimum: () => 1, now: () => T0 }),
      timeline: { query: async () => ({ entries: [], truncated: false }) },
      nats: () => ({ up: true }),
      tokens: [],
      metrics: async () => ({ contentType: 'text/plain', text: '' }),
      logger: pino({ level: 'silent' }),
      version: '0.1.0',
      // Only routes are listed: no handler runs.
      rulesets: {} as RuleSetService,
      rollouts: {} as RolloutService,
      drains: {} as DrainService,
    });
    await full.ready();
    const served = servedRoutes(full.printRoutes({ commonPrefix: false }));
    const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(served).toContain('POST /api/v1/rollouts/{id}/abort');
    expect(served.filter((r) => r !== 'GET /api/v1/openapi.json')).toEqual(documented);
    await full.close();
  });

  it('refuses every read without a known bearer token, with one error shape', async () => {
    const { get } = start();
    for (const [token, code] of [
      [null, 'AUTH_REQUIRED'],
      ['wrong-token', 'AUTH_INVALID'],
    ] as const) {
      const res = await get('/api/v1/vips', token);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code, message: expect.any(String) } });
    }
    expect((await get('/metrics', null)).statusCode).toBe(401);
    expect((await get('/healthz', null)).statusCode).toBe(200);
    expect((await get('/api/v1/openapi.json', null)).json()).toMatchObject({ openapi: '3.1.0' });
  });

  it('lists VIPs with their advertisers against the minimum, and one VIP with each node and why', async () => {
    const { get } = start();
    const list = await get('/api/v1/vips');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({
      stale: false,
      vips: [
        {
          id: 'vol1%198.18.200.1/32',
          advertisers: 1,
          minimum: 2,
          nodes: 2,
          states: { advertising: 1, withdrawn: 1 },
        },
      ],
    });
    const one = await get(`/api/v1/vips/${encodeURIComponent('vol1%198.18.200.1/32')}`);
    expect(
      one
        .json()
        .vip.nodes.map((n: { node: string; state: string; reason: string }) => [n.node, n.state, n.reason]),
    ).toEqual([
      ['lb1', 'advertising', 'b:be_app up'],
      ['lb2', 'withdrawn', 'b:be_app down'],
    ]);
    expect((await get(`/api/v1/vips/${encodeURIComponent('vol1%198.18.9.9/32')}`)).json()).toEqual({
      error: { code: 'VIP_NOT_FOUND', message: 'no node has a rule for vol1%198.18.9.9/32', field: 'id' },
    });
    expect((await get('/api/v1/vips/nonsense')).statusCode).toBe(400);
  });

  it('serves the VIP x node matrix, whole or for some columns, and refuses a bad node list', async () => {
    const { get, view, setNow } = start();
    view.ingest(
      'rhi.v1.status.lb3',
      status('lb3', {
        drain: { drained: true, since: iso(T0), mode: 'withdraw' },
        routes: [
          withdrawn('198.18.200.1/32', { reason: 'drained', decision: 'advertise' }),
          route('198.18.200.2/32', { desired: false, inBird: false, reason: 'drained' }),
        ],
      }),
      T0,
    );
    const whole = (await get('/api/v1/matrix')).json();
    expect(whole.nodes.map((n: { name: string }) => n.name)).toEqual(['lb1', 'lb2', 'lb3']);
    expect(
      whole.vips.map((v: { id: string; cells: string; advertisers: number }) => [
        v.id,
        v.cells,
        v.advertisers,
      ]),
    ).toEqual([
      ['vol1%198.18.200.1/32', 'AWN', 1],
      ['vol1%198.18.200.2/32', '..N', 0],
    ]);
    expect(whole).toMatchObject({ stale: false, changeId: expect.any(Number) });
    const some = (await get('/api/v1/matrix?nodes=lb3,nope,lb1')).json();
    expect(some.nodes.map((n: { name: string }) => n.name)).toEqual(['lb3', 'lb1']);
    expect(some.vips.map((v: { cells: string }) => v.cells)).toEqual(['NA', 'N.']);
    setNow(T0 + 16_000);
    expect((await get('/api/v1/matrix')).json().vips[0].cells).toBe('LLL');
    const bad = await get('/api/v1/matrix?nodes=lb1,no%20spaces');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'BAD_QUERY', field: 'nodes.1' });
    expect((await get('/api/v1/matrix', null)).statusCode).toBe(401);
  });

  it('lists nodes, shows one with its last status, and a lost node as lost', async () => {
    const { get, setNow } = start();
    setNow(T0 + 16_000);
    const nodes = (await get('/api/v1/nodes')).json().nodes;
    expect(nodes.map((n: { name: string; state: string }) => [n.name, n.state])).toEqual([
      ['lb1', 'lost'],
      ['lb2', 'lost'],
    ]);
    const one = (await get('/api/v1/nodes/lb1')).json();
    expect(one.node).toMatchObject({ name: 'lb1', desired: 1, routes: 1, lastHeard: iso(T0) });
    expect(one.status.routes).toHaveLength(1);
    expect((await get('/api/v1/nodes/lb9')).json().error.code).toBe('NODE_NOT_FOUND');
  });

  it('shows a node with its last health report, and null for a node that sent none', async () => {
    const { get } = start();
    const lb1 = (await get('/api/v1/nodes/lb1')).json();
    expect(lb1.health).toEqual(healthReport('lb1'));
    expect((await get('/api/v1/nodes/lb2')).json()).toMatchObject({ health: null, node: { name: 'lb2' } });
    const doc = (await get('/api/v1/openapi.json', null)).json();
    expect(doc.components.schemas.NodeDetail.required).toContain('health');
  });

  it('shows the open alerts with their first time', async () => {
    const { get, view } = start();
    view.evaluateAlerts();
    expect((await get('/api/v1/alerts')).json().alerts).toEqual([
      expect.objectContaining({ kind: 'vipBelowMinimum', subject: 'vol1%198.18.200.1/32', since: iso(T0) }),
    ]);
  });

  it('checks timeline queries and names the bad field', async () => {
    const { get, queries } = start();
    const ok = await get(
      `/api/v1/events?node=lb1&vip=${encodeURIComponent('vol1%198.18.200.1/32')}&since=${iso(T0)}&until=${T0 + 1000}`,
    );
    expect(ok.statusCode).toBe(200);
    expect(ok.json().events).toHaveLength(1);
    expect(queries).toEqual([
      { node: 'lb1', vip: 'vol1%198.18.200.1/32', since: T0, until: T0 + 1000, limit: 1000 },
    ]);
    for (const [query, field] of [
      ['node=a.b', 'node'],
      ['vip=198.18.200.1', 'vip'],
      ['since=yesterday', 'since'],
      ['limit=0', 'limit'],
      [`since=${T0 + 1}&until=${T0}`, 'until'],
      ['colour=red', undefined],
    ] as const) {
      const res = await get(`/api/v1/events?${query}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('BAD_QUERY');
      expect(res.json().error.field).toBe(field);
    }
  });

  it('serves the last view marked stale with 503 while NATS is unreachable', async () => {
    const { get, setNats } = start();
    setNats({ up: false, reason: 'connection refused' });
    const res = await get('/api/v1/vips');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      stale: true,
      vips: [{ id: 'vol1%198.18.200.1/32' }],
      error: { code: 'NATS_UNAVAILABLE', message: expect.stringContaining('connection refused') },
    });
    expect((await get('/healthz', null)).json()).toEqual({ ok: false, reason: 'connection refused' });
    expect((await get('/api/v1/events')).statusCode).toBe(503);
  });

  it('streams view changes, and resumes after the last id it gave', async () => {
    const { app, view } = start();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const read = async (lastId?: string) => {
      const abort = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/stream`, {
        headers: { authorization: `Bearer ${VIEWER}`, ...(lastId ? { 'last-event-id': lastId } : {}) },
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      let text = '';
      return {
        until: async (pattern: RegExp) => {
          while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value);
          return text;
        },
        close: () => abort.abort(),
      };
    };
    const live = await read();
    view.ingest('rhi.v1.status.lb3', status('lb3'), T0);
    const got = await live.until(/event: node\ndata: .*lb3/);
    const id = /id: (\d+)\nevent: node\ndata: [^\n]*lb3/.exec(got)?.[1];
    live.close();
    view.ingest('rhi.v1.status.lb4', status('lb4'), T0);
    const resumed = await read(id);
    const missed = await resumed.until(/lb4/);
    expect(missed).not.toContain('lb3');
    expect(missed).toMatch(new RegExp(`id: ${Number(id) + 1}\\nevent: node`));
    resumed.close();
  });

  it('ends its open streams when it closes, so that a stop never waits on a page left open', async () => {
    const { app } = start();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/stream`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('rhi-controller');
    const closed = app.close().then(() => 'closed');
    const timeout = new Promise((r) => setTimeout(() => r('still open after 5 s'), 5000));
    expect(await Promise.race([closed, timeout])).toBe('closed');
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });

  it('tells a client resuming from a forgotten id to read the view again', () => {
    const { view } = start();
    for (let seq = 2; seq < 1200; seq++)
      view.ingest(
        'rhi.v1.status.lb1',
        status('lb1', {
          seq,
          time: iso(T0 + seq),
          routes: [route('198.18.200.1/32', { desired: seq % 2 === 0 })],
        }),
        T0,
      );
    expect(view.changesSince(1)).toBeNull();
    expect(view.changesSince(1150)?.length).toBe(1199 - 1150);
  });
});
