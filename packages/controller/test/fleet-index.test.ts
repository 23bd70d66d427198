import type { RouteStatus } from '@rhi/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertConditions, trackAlerts, type Alert } from '../src/fleet/alerts.js';
import { Fleet } from '../src/fleet/fleet.js';
import { sameContent } from '../src/fleet/ingest.js';
import { vipViews } from '../src/fleet/vip-view.js';
import { FleetView } from '../src/view/fleet-view.js';
import { vipSummary } from '../src/view/summaries.js';
import { iso, route, status, T0, withdrawn } from './support/statuses.js';

const HEARTBEAT = 1000;
const NODES = ['lb0', 'lb1', 'lb2', 'lb3', 'lb4'];
const PREFIXES = ['198.18.200.1/32', '198.18.200.2/32', '198.18.200.3/32', '2001:db8::1/128'];
const minimum = (id: string) => (id.endsWith('.1/32') ? 3 : 1);
const subject = (node: string) => `rhi.v1.status.${node}`;
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Each way a node can stand with a VIP, and a table other than vol1. */
const variants: ((prefix: string) => RouteStatus)[] = [
  (p) => route(p),
  (p) => withdrawn(p),
  (p) => route(p, { inBird: false }),
  (p) => withdrawn(p, { inBird: true }),
  (p) => route(p, { inBird: null, reason: 'BIRD down' }),
  (p) => route(p, { exported: { to: [], problems: ['bgp1: session down'] } }),
  (p) => route(p, { exported: { to: ['bgp1'], problems: [] }, damping: 'rising' }),
  (p) => route(p, { table: 'vol2' }),
];

type Op =
  | { kind: 'status'; node: number; routes: [number, number][]; ruleSet: number; dt: number }
  | { kind: 'repeat'; node: number; dt: number }
  | { kind: 'beat'; node: number; dt: number; late: boolean }
  | { kind: 'replay'; node: number; dt: number }
  | { kind: 'tick'; dt: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('status' as const),
    node: fc.nat(NODES.length - 1),
    routes: fc.uniqueArray(fc.tuple(fc.nat(PREFIXES.length - 1), fc.nat(variants.length - 1)), {
      maxLength: PREFIXES.length,
      selector: ([p]) => p,
    }),
    ruleSet: fc.nat(2),
    dt: fc.nat(1500),
  }),
  fc.record({ kind: fc.constant('repeat' as const), node: fc.nat(NODES.length - 1), dt: fc.nat(1500) }),
  fc.record({
    kind: fc.constant('beat' as const),
    node: fc.nat(NODES.length - 1),
    dt: fc.nat(1500),
    late: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('replay' as const), node: fc.nat(NODES.length - 1), dt: fc.nat(100) }),
  fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: -2000, max: 5000 }) }),
);

/** Feeds the operations to a FleetView and to a Fleet whose view is recomputed from scratch each time. */
function check(ops: Op[]): void {
  let now = T0;
  let published = T0;
  const seqs = new Map<string, number>();
  const view = new FleetView({ heartbeatMs: HEARTBEAT, minimum, now: () => now });
  const fleet = new Fleet();
  let open = new Map<string, Alert>();
  const send = (node: string, payload: unknown) => {
    const a = view.ingest(subject(node), payload, now);
    const b = fleet.ingest(subject(node), payload, now);
    expect(a).toEqual(b);
  };
  const beat = (node: string, payload: unknown) => {
    const a = view.heartbeat(`rhi.v1.heartbeat.${node}`, payload, now);
    const b = fleet.heartbeat(`rhi.v1.heartbeat.${node}`, payload, now);
    expect(a).toEqual(b);
  };
  for (const o of ops) {
    now += o.dt;
    published += Math.max(1, o.dt);
    if (o.kind !== 'tick') {
      const node = NODES[o.node]!;
      const seq = (seqs.get(node) ?? 0) + 1;
      seqs.set(node, seq);
      const kept = fleet.get(node)?.status;
      if (o.kind === 'status')
        send(
          node,
          wire(
            status(node, {
              seq,
              time: iso(published),
              ruleSet:
                o.ruleSet === 2 ? null : { ...status(node).ruleSet!, hash: 'ab'[o.ruleSet]!.repeat(64) },
              routes: o.routes.map(([p, v]) => variants[v]!(PREFIXES[p]!)),
            }),
          ),
        );
      else if (kept && o.kind === 'repeat') send(node, wire({ ...kept, seq, time: iso(published) }));
      else if (o.kind === 'beat')
        // A heartbeat may come before the node's first status (the streams are read apart), or late.
        beat(node, {
          schema: 'rhi.v1.heartbeat',
          node,
          seq: kept?.seq ?? 0,
          time: iso(o.late ? published - 5000 : published),
        });
      else if (kept) send(node, wire(kept));
    }
    const records = fleet.all();
    const full = vipViews(records, { now, heartbeatMs: HEARTBEAT, minimum });
    expect(view.vipSummaries()).toEqual(full.map(vipSummary));
    for (const vip of full) expect(view.vip(vip.id)).toEqual(vip);
    expect(view.vip('vol1%198.18.200.9/32')).toBeUndefined();
    const tracked = trackAlerts(open, alertConditions(full, records, { now, heartbeatMs: HEARTBEAT }), now);
    open = tracked.open;
    expect(view.evaluateAlerts()).toEqual({ opened: tracked.opened, closed: tracked.closed });
    expect(view.alerts()).toEqual([...open.values()].sort((a, b) => a.key.localeCompare(b.key)));
    expect(view.lostCount()).toBe(view.nodes().filter((n) => n.state === 'lost').length);
  }
}

describe('FleetIndex: the incremental view', () => {
  it('equals the view recomputed from every status, after any sequence of statuses, heartbeats, repeats and ticks', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => check(ops)),
      { numRuns: 300, seed: 14 },
    );
  });

  it('takes a heartbeat without a change: same values kept, no change event, the node up again', () => {
    let now = T0;
    const view = new FleetView({ heartbeatMs: HEARTBEAT, minimum: () => 1, now: () => now });
    const changes: string[] = [];
    view.subscribe((c) => changes.push(c.subject));
    view.ingest(subject('lb1'), wire(status('lb1')), now);
    const first = view.node('lb1')!.status;
    now += 5 * HEARTBEAT;
    expect(view.vipSummaries()[0]).toMatchObject({ advertisers: 0, states: { stale: 1 } });
    const beat = { ...status('lb1'), seq: 2, time: iso(T0 + 5000) };
    expect(view.ingest(subject('lb1'), wire(beat), now)).toMatchObject({ accepted: true });
    const second = view.node('lb1')!.status;
    expect(second.routes).toBe(first.routes);
    expect(sameContent(first, second)).toBe(true);
    expect(changes).toEqual(['lb1']);
    expect(view.vipSummaries()[0]).toMatchObject({ advertisers: 1, states: { advertising: 1 } });
    expect(view.ingest(subject('lb1'), wire({ ...beat, seq: 3, time: 'later' }), now)).toMatchObject({
      accepted: false,
      reason: 'schema',
      detail: expect.stringContaining('time:'),
    });
    expect(view.ingest(subject('lb1'), wire(beat), now)).toMatchObject({ accepted: false, reason: 'stale' });
  });

  it('sees a change that keeps the routes as a change (labels, rule set)', () => {
    const view = new FleetView({ heartbeatMs: HEARTBEAT, minimum: () => 1, now: () => T0 });
    const changes: string[] = [];
    view.subscribe((c) => changes.push(c.subject));
    view.ingest(subject('lb1'), wire(status('lb1')), T0);
    view.ingest(subject('lb1'), wire(status('lb1', { seq: 2, labels: { site: 'ams1' } })), T0);
    expect(changes).toEqual(['lb1', 'lb1']);
    expect(view.nodes()[0]?.labels).toEqual({ site: 'ams1' });
  });
});
