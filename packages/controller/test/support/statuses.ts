import type { NodeStatus, RouteStatus } from '@rhi/contracts';

/** The time the builders stamp by default. */
export const T0 = Date.parse('2026-12-02T10:00:00.000Z');
export const iso = (ms: number) => new Date(ms).toISOString();

/** A route of a status: advertised, held by BIRD, stable, in table vol1, unless `over` says otherwise. */
export function route(prefix: string, over: Partial<RouteStatus> = {}): RouteStatus {
  return {
    table: 'vol1',
    prefix,
    family: prefix.includes(':') ? 'ipv6' : 'ipv4',
    decision: 'advertise',
    desired: true,
    damping: 'stable',
    allowed: true,
    reason: 'b:be_app up',
    explanation: { term: 'b:be_app', value: true, detail: 'up (UP)', children: [] },
    inBird: true,
    since: iso(T0 - 60_000),
    ...over,
  };
}

/** The same route, withdrawn because its backend is down. */
export function withdrawn(prefix: string, over: Partial<RouteStatus> = {}): RouteStatus {
  return route(prefix, {
    desired: false,
    inBird: false,
    decision: 'withdraw',
    reason: 'b:be_app down',
    explanation: { term: 'b:be_app', value: false, detail: 'down (DOWN)', children: [] },
    ...over,
  });
}

/** A node's status as an agent publishes it, at T0, with one advertised route unless `over` says otherwise. */
export function status(node: string, over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    schema: 'rhi.v1.status',
    node,
    labels: { site: 'par1' },
    agentVersion: '0.1.0',
    time: iso(T0),
    seq: 1,
    ruleSet: { hash: 'a'.repeat(64), serial: 3, source: 'controller', appliedAt: iso(T0 - 120_000) },
    haproxy: { reachable: true, pid: 100 },
    bird: { reachable: true },
    drain: { drained: false },
    routes: [route('198.18.200.1/32')],
    ...over,
  };
}
