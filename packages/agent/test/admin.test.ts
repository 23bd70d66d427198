import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../src/admin/metrics.js';
import { createAdminServer, listen, parseListen } from '../src/admin/server.js';
import type { AgentSnapshot } from '../src/loop/ports.js';
import { agentSnapshot, plannedRoute } from './support/snapshots.js';

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
    server = createAdminServer({ metrics, snapshot: () => snapshot });
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
    expect(((await (await fetch(`${base}/status`)).json()) as AgentSnapshot).routes).toHaveLength(2);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    snapshot = { ...snapshot, bird: { reachable: false, error: 'connect ENOENT /run/bird/bird.ctl' } };
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, problems: ['bird: connect ENOENT /run/bird/bird.ctl'] });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('parses listen addresses', () => {
    expect(parseListen('127.0.0.1:9180')).toEqual({ host: '127.0.0.1', port: 9180 });
    expect(parseListen('[::1]:9180')).toEqual({ host: '::1', port: 9180 });
    expect(() => parseListen('9180')).toThrow(/bad listen address/);
  });
});
