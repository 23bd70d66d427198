import { NodeStatusSchema } from '@rhi/contracts';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DesiredRoute, PlannedRoute } from '../src/core/planner.js';
import type { AgentSnapshot, RefusedRoute, RouteExport } from '../src/loop/ports.js';
import { toNodeStatus } from '../src/nats/messages.js';
import { StatusEncoder } from '../src/nats/status-encoder.js';
import { agentSnapshot, plannedRoute } from './support/snapshots.js';

const identity = { node: 'lb-1', labels: { site: 'par1' }, agentVersion: '0.0.0' };
const prefixes = ['198.18.200.1/32', '198.18.200.2/32', '198.18.200.3/32', '2001:db8::1/128'];
const tables = ['vol1', 'vol2'];
const keys = tables.flatMap((table) => prefixes.map((prefix) => ({ table, prefix })));

/** One step of the loop, as the encoder sees it: which of the last snapshot's objects are handed out again. */
const step = fc.record({
  /** Per route slot: keep the picture (the same object), make it again alike, or make another one. */
  routes: fc.array(fc.constantFrom('keep', 'alike', 'new', 'drop'), { maxLength: keys.length }),
  inBird: fc.constantFrom('same', 'null', 'routes', 'subset'),
  refused: fc.constantFrom('same', 'none', 'some'),
  exports: fc.constantFrom('same', 'none', 'alike', 'changed'),
  desired: fc.boolean(),
  since: fc.nat({ max: 3 }),
  seed: fc.nat(),
});

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

const family = (prefix: string) => (prefix.includes(':') ? 'ipv6' : 'ipv4') as 'ipv4' | 'ipv6';

function next(before: AgentSnapshot, s: Step, t: number): AgentSnapshot {
  const routes: PlannedRoute[] = [];
  keys.forEach((k, i) => {
    const old = before.routes.find((r) => r.table === k.table && r.prefix === k.prefix);
    const how = s.routes[i] ?? 'keep';
    if (how === 'drop') return;
    if (old && how === 'keep') routes.push(old);
    else if (old && how === 'alike') routes.push({ ...old });
    else
      routes.push(
        plannedRoute({
          ...k,
          family: family(k.prefix),
          desired: (s.seed + i) % 2 === 0 ? s.desired : !s.desired,
          decision: s.desired,
          phase: s.desired ? 'stable' : 'rising',
          reason: `reason ${s.seed % 5}`,
          since: s.since * 1000,
        }),
      );
  });
  const held = (r: PlannedRoute): DesiredRoute => ({ table: r.table, prefix: r.prefix, family: r.family });
  const inBird =
    s.inBird === 'same'
      ? before.inBird
      : s.inBird === 'null'
        ? null
        : routes.filter((_, i) => s.inBird === 'routes' || (s.seed >> i) % 2 === 0).map(held);
  const refused: readonly RefusedRoute[] =
    s.refused === 'same'
      ? (before.refused ?? [])
      : s.refused === 'none'
        ? []
        : routes
            .filter((_, i) => (s.seed >> (i + 3)) % 3 === 0)
            .map((r) => ({ ...held(r), reason: `clash ${s.seed % 3}` }));
  const beforeExports = before.exports?.routes ?? [];
  const exportOf = (r: PlannedRoute, i: number): RouteExport => ({
    ...held(r),
    to: (s.seed >> i) % 2 === 0 ? ['router1'] : [],
    problems: (s.seed >> i) % 4 === 1 ? ['session down'] : [],
  });
  const exportRoutes =
    s.exports === 'same'
      ? beforeExports
      : s.exports === 'none'
        ? []
        : s.exports === 'alike'
          ? beforeExports.map((r) => ({ ...r, to: [...r.to], problems: [...r.problems] }))
          : routes.map(exportOf);
  return agentSnapshot({
    time: t,
    ruleSet: { hash: 'a'.repeat(64), serial: s.seed % 3, source: 'file', appliedAt: t },
    routes,
    inBird,
    refused,
    exports: s.exports === 'none' && s.seed % 2 === 0 ? null : { checkedAt: t, routes: exportRoutes },
  });
}

describe('StatusEncoder', () => {
  test("carries the node's allowlist, a valid status, for the controller's what-if", () => {
    const s = agentSnapshot({ routes: [], inBird: null });
    const allowlist = ['198.18.200.0/24', '2001:db8::/64'];
    const json = new StatusEncoder().encode({ ...identity, allowlist }, s, 0, 0);
    const status = NodeStatusSchema.parse(JSON.parse(json));
    expect(status.allowlist).toEqual(allowlist);
    expect(
      NodeStatusSchema.parse(JSON.parse(new StatusEncoder().encode(identity, s, 0, 0))),
    ).not.toHaveProperty('allowlist');
  });

  test('writes exactly what JSON.stringify(toNodeStatus()) writes, at every step of a run', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        const encoder = new StatusEncoder();
        let s = agentSnapshot({ routes: [], inBird: null });
        steps.forEach((st, seq) => {
          s = next(s, st, 1_000 * seq);
          const want = JSON.stringify(toNodeStatus(identity, s, seq, s.time + 5));
          expect(encoder.encode(identity, s, seq, s.time + 5)).toBe(want);
        });
      }),
      { numRuns: 400 },
    );
  });

  test('a status of unchanged routes writes none of them again', () => {
    const encoder = new StatusEncoder();
    const routes = keys.map((k) => plannedRoute({ ...k, family: family(k.prefix) }));
    const s = agentSnapshot({
      routes,
      inBird: routes.map(({ table, prefix, family }) => ({ table, prefix, family })),
    });
    encoder.encode(identity, s, 0, 0);
    const written: unknown[] = [];
    const stringify = JSON.stringify;
    JSON.stringify = ((v: unknown, ...rest: []) => {
      written.push(v);
      return stringify(v, ...rest);
    }) as typeof JSON.stringify;
    try {
      encoder.encode(
        identity,
        { ...s, routes: [...routes.slice(1), { ...(routes[0] as PlannedRoute) }] },
        1,
        0,
      );
    } finally {
      JSON.stringify = stringify;
    }
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({ prefix: (routes[0] as PlannedRoute).prefix });
    expect(written[1]).toMatchObject({ schema: 'rhi.v1.status', seq: 1 });
  });
});
