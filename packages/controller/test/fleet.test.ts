import type { NodeStatus } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { alertConditions, Fleet, liveness, trackAlerts, vipViews } from '../src/index.js';
import { iso, route, status, T0 } from './support/statuses.js';

const HEARTBEAT = 5000;
const subject = (node: string) => `rhi.v1.status.${node}`;

describe('Fleet: status ingest', () => {
  it('keeps the newest status per node', () => {
    const fleet = new Fleet();
    expect(fleet.ingest(subject('lb1'), status('lb1'), T0)).toEqual({
      accepted: true,
      node: 'lb1',
      first: true,
    });
    expect(fleet.ingest(subject('lb1'), status('lb1', { seq: 2, time: iso(T0 + 1000) }), T0 + 1000)).toEqual({
      accepted: true,
      node: 'lb1',
      first: false,
    });
    expect(fleet.get('lb1')?.status.seq).toBe(2);
    expect(fleet.get('lb1')?.receivedAt).toBe(T0 + 1000);
  });

  it('drops a status that fails the schema, naming the field', () => {
    const fleet = new Fleet();
    const outcome = fleet.ingest(subject('lb1'), { ...status('lb1'), seq: -1 }, T0);
    expect(outcome).toEqual({
      accepted: false,
      reason: 'schema',
      detail: expect.stringMatching(/^rhi\.v1\.status\.lb1: seq: /),
    });
    expect(fleet.ingest(subject('lb1'), 'not json at all', T0)).toMatchObject({
      accepted: false,
      reason: 'schema',
    });
    expect(fleet.size).toBe(0);
  });

  it('drops a status whose node is not the one its subject names', () => {
    const fleet = new Fleet();
    expect(fleet.ingest(subject('lb2'), status('lb1'), T0)).toMatchObject({
      accepted: false,
      reason: 'subject',
      detail: expect.stringContaining("from node 'lb1'"),
    });
    expect(fleet.get('lb1')).toBeUndefined();
    expect(fleet.get('lb2')).toBeUndefined();
  });

  it('never lets an older status overwrite a newer one, and takes a restarted agent (seq from 0, later time)', () => {
    const fleet = new Fleet();
    fleet.ingest(subject('lb1'), status('lb1', { seq: 5, time: iso(T0 + 5000) }), T0);
    expect(fleet.ingest(subject('lb1'), status('lb1', { seq: 4, time: iso(T0 + 4000) }), T0)).toMatchObject({
      accepted: false,
      reason: 'stale',
    });
    expect(fleet.ingest(subject('lb1'), status('lb1', { seq: 5, time: iso(T0 + 5000) }), T0)).toMatchObject({
      accepted: false,
      reason: 'stale',
    });
    expect(fleet.ingest(subject('lb1'), status('lb1', { seq: 0, time: iso(T0 + 9000) }), T0)).toMatchObject({
      accepted: true,
    });
    expect(fleet.get('lb1')?.status.seq).toBe(0);
  });
});

describe('Fleet: heartbeats', () => {
  const beatSubject = (node: string) => `rhi.v1.heartbeat.${node}`;
  const beat = (node: string, seq: number, at: number) => ({
    schema: 'rhi.v1.heartbeat',
    node,
    seq,
    time: iso(at),
  });

  it('moves only when the node was last heard, keeping its status as it was', () => {
    const fleet = new Fleet();
    fleet.ingest(subject('lb1'), status('lb1', { seq: 3 }), T0);
    const before = fleet.get('lb1')!;
    const outcome = fleet.heartbeat(beatSubject('lb1'), beat('lb1', 3, T0 + 1000), T0 + 1000);
    expect(outcome).toEqual({
      accepted: true,
      node: 'lb1',
      record: fleet.get('lb1'),
      behind: false,
      ms: T0 + 1000,
    });
    expect(fleet.get('lb1')).toEqual({ status: before.status, receivedAt: T0 + 1000 });
    expect(fleet.get('lb1')!.status).toBe(before.status);
    expect(liveness(fleet.get('lb1')!, T0 + 3 * HEARTBEAT + 500, HEARTBEAT)).toBe('up');
  });

  it('counts a heartbeat that came before the first status once the status arrives', () => {
    const fleet = new Fleet();
    expect(fleet.heartbeat(beatSubject('lb1'), beat('lb1', 0, T0 + 9000), T0 + 9000)).toEqual({
      accepted: true,
      node: 'lb1',
      record: undefined,
      behind: true,
      ms: T0 + 9000,
    });
    expect(fleet.size).toBe(0);
    // The status stored earlier, read after (the two streams are followed apart).
    fleet.ingest(subject('lb1'), status('lb1', { seq: 0 }), T0);
    expect(fleet.get('lb1')?.receivedAt).toBe(T0 + 9000);
    // A late heartbeat never moves it back.
    fleet.heartbeat(beatSubject('lb1'), beat('lb1', 1, T0 + 9500), T0 + 2000);
    expect(fleet.get('lb1')?.receivedAt).toBe(T0 + 9000);
  });

  it('says when the node vouches for a status it does not hold: a newer seq, not an older heartbeat', () => {
    const fleet = new Fleet();
    fleet.ingest(subject('lb1'), status('lb1', { seq: 4, time: iso(T0 + 4000) }), T0 + 4000);
    expect(fleet.heartbeat(beatSubject('lb1'), beat('lb1', 5, T0 + 5000), T0 + 5000)).toMatchObject({
      behind: true,
    });
    // A restarted agent (seq from 0, later) is behind too: its first status is what the fleet lacks.
    expect(fleet.heartbeat(beatSubject('lb1'), beat('lb1', 0, T0 + 6000), T0 + 6000)).toMatchObject({
      behind: true,
    });
    fleet.ingest(subject('lb1'), status('lb1', { seq: 0, time: iso(T0 + 5500) }), T0 + 6000);
    expect(fleet.heartbeat(beatSubject('lb1'), beat('lb1', 0, T0 + 7000), T0 + 7000)).toMatchObject({
      behind: false,
    });
    // A heartbeat of an older status, published before the kept one: not behind.
    const late = new Fleet();
    late.ingest(subject('lb1'), status('lb1', { seq: 9, time: iso(T0 + 9000) }), T0 + 9000);
    expect(late.heartbeat(beatSubject('lb1'), beat('lb1', 8, T0 + 8000), T0 + 9100)).toMatchObject({
      behind: false,
    });
  });

  it('drops a heartbeat that fails the schema, names another node, or is not newer', () => {
    const fleet = new Fleet();
    fleet.ingest(subject('lb1'), status('lb1'), T0);
    expect(fleet.heartbeat(beatSubject('lb1'), { ...beat('lb1', 1, T0), routes: [] }, T0)).toMatchObject({
      accepted: false,
      reason: 'schema',
      detail: expect.stringMatching(/^rhi\.v1\.heartbeat\.lb1: /),
    });
    expect(fleet.heartbeat(beatSubject('lb1'), 'not json', T0)).toMatchObject({ reason: 'schema' });
    expect(fleet.heartbeat(beatSubject('lb2'), beat('lb1', 1, T0), T0)).toMatchObject({
      reason: 'subject',
      detail: expect.stringContaining("heartbeat is from node 'lb1'"),
    });
    fleet.heartbeat(beatSubject('lb1'), beat('lb1', 1, T0 + 5000), T0 + 5000);
    expect(fleet.heartbeat(beatSubject('lb1'), beat('lb1', 1, T0 + 4000), T0 + 6000)).toMatchObject({
      accepted: false,
      reason: 'stale',
    });
    expect(fleet.get('lb1')?.receivedAt).toBe(T0 + 5000);
  });

  it('judges a heartbeat from its bytes as from its JSON, whether written as agents write it or not', () => {
    const fleet = new Fleet();
    fleet.ingest(subject('lb1'), status('lb1', { seq: 3 }), T0);
    const text = (seq: number, at: number) =>
      JSON.stringify({ schema: 'rhi.v1.heartbeat', node: 'lb1', time: iso(at), seq });
    const bytes = (t: string) => new TextEncoder().encode(t);
    expect(fleet.heartbeat(beatSubject('lb1'), bytes(text(3, T0 + 1000)), T0 + 1000)).toMatchObject({
      accepted: true,
      behind: false,
      ms: T0 + 1000,
    });
    expect(fleet.get('lb1')?.receivedAt).toBe(T0 + 1000);
    // Read by JSON.parse and the schema: spaces, another order.
    const spaced = text(4, T0 + 2000).replaceAll(',', ', ');
    expect(fleet.heartbeat(beatSubject('lb1'), bytes(spaced), T0 + 2000)).toMatchObject({
      accepted: true,
      behind: true,
      ms: T0 + 2000,
    });
    expect(fleet.heartbeat(beatSubject('lb1'), bytes(text(4, T0 + 1500)), T0 + 2500)).toEqual({
      accepted: false,
      reason: 'stale',
      detail: `rhi.v1.heartbeat.lb1: seq 4 at ${iso(T0 + 1500)} is not newer than seq 4 at ${iso(T0 + 2000)}`,
    });
    expect(fleet.heartbeat(beatSubject('lb2'), bytes(text(5, T0 + 3000)), T0 + 3000)).toMatchObject({
      reason: 'subject',
    });
    expect(fleet.heartbeat(beatSubject('lb1'), bytes('{"schema":'), T0 + 3000)).toMatchObject({
      reason: 'schema',
      detail: expect.stringContaining('(message)'),
    });
    expect(fleet.get('lb1')?.receivedAt).toBe(T0 + 2000);
  });
});

describe('liveness', () => {
  it('turns a node lost after 3 heartbeat intervals of silence, not before', () => {
    const record = { status: status('lb1'), receivedAt: T0 };
    expect(liveness(record, T0 + 3 * HEARTBEAT, HEARTBEAT)).toBe('up');
    expect(liveness(record, T0 + 3 * HEARTBEAT + 1, HEARTBEAT)).toBe('lost');
  });
});

describe('VIP view', () => {
  const options = { now: T0, heartbeatMs: HEARTBEAT, minimum: () => 2 };
  const fleetOf = (...statuses: NodeStatus[]) => statuses.map((s) => ({ status: s, receivedAt: T0 }));

  it('counts as advertisers only the live nodes whose BIRD holds the route and sends it', () => {
    const vips = vipViews(
      [
        ...fleetOf(
          status('lb1'),
          status('lb2', {
            routes: [
              route('198.18.200.1/32', {
                desired: false,
                inBird: false,
                decision: 'withdraw',
                reason: 'b:be_app down',
              }),
            ],
          }),
          status('lb3', { routes: [route('198.18.200.1/32', { inBird: false })] }),
          status('lb4', {
            routes: [
              route('198.18.200.1/32', {
                exported: { to: [], problems: ['BGP upstream1 is not up (start, Active): it sends nothing'] },
              }),
            ],
          }),
          status('lb5', { routes: [route('198.18.200.1/32', { inBird: null })] }),
        ),
        { status: status('lb6'), receivedAt: T0 - 4 * HEARTBEAT },
      ],
      options,
    );
    expect(vips).toHaveLength(1);
    const vip = vips[0]!;
    expect(vip).toMatchObject({ id: 'vol1%198.18.200.1/32', advertisers: 1, minimum: 2 });
    expect(vip.nodes.map((n) => [n.node, n.state])).toEqual([
      ['lb1', 'advertising'],
      ['lb2', 'withdrawn'],
      ['lb3', 'drift'],
      ['lb4', 'not-sent'],
      ['lb5', 'unknown'],
      ['lb6', 'stale'],
    ]);
    expect(vip.nodes[1]?.reason).toBe('b:be_app down');
    expect(vip.nodes[3]?.reason).toMatch(/sends it to no router: BGP upstream1 is not up/);
    expect(vip.nodes[5]?.reason).toBe('node lost; last known: b:be_app up');
  });

  it('lists every VIP any node has a rule for, by id', () => {
    const vips = vipViews(
      fleetOf(
        status('lb1', { routes: [route('198.18.200.2/32'), route('2001:db8:200::1/128')] }),
        status('lb2', { routes: [route('198.18.200.1/32', { table: 'vol2' })] }),
      ),
      options,
    );
    expect(vips.map((v) => [v.id, v.family, v.advertisers])).toEqual([
      ['vol1%198.18.200.2/32', 'ipv4', 1],
      ['vol1%2001:db8:200::1/128', 'ipv6', 1],
      ['vol2%198.18.200.1/32', 'ipv4', 1],
    ]);
  });
});

describe('alerts', () => {
  const options = { now: T0, heartbeatMs: HEARTBEAT };

  it('raises each kind from the view and the statuses', () => {
    const records = [
      {
        status: status('lb1', {
          routes: [route('198.18.200.1/32'), route('198.18.200.2/32', { inBird: false })],
        }),
        receivedAt: T0,
      },
      {
        status: status('lb2', {
          ruleSet: { hash: 'b'.repeat(64), serial: 4, source: 'controller', appliedAt: iso(T0) },
          routes: [route('198.18.200.1/32')],
        }),
        receivedAt: T0,
      },
      { status: status('lb3'), receivedAt: T0 - 10 * HEARTBEAT },
    ];
    const vips = vipViews(records, { ...options, minimum: (id) => (id === 'vol1%198.18.200.1/32' ? 3 : 1) });
    const conditions = alertConditions(vips, records, {
      ...options,
      transitions: new Map([
        ['lb2', 7],
        ['lb1', 2],
      ]),
    });
    expect(conditions.map((c) => [c.kind, c.subject])).toEqual([
      ['vipBelowMinimum', 'vol1%198.18.200.1/32'],
      ['vipNoAdvertiser', 'vol1%198.18.200.2/32'],
      ['nodeDrift', 'lb1'],
      ['nodeLost', 'lb3'],
      ['nodeFlapping', 'lb2'],
      ['ruleSetMismatch', 'fleet'],
    ]);
    expect(conditions[0]?.message).toBe(
      'vol1%198.18.200.1/32 has 2 advertisers, fewer than its minimum of 3',
    );
    expect(conditions[3]?.message).toBe('lb3 has not reported for 50 s');
    expect(conditions[5]?.message).toBe(
      `nodes run 2 different rule sets: ${'a'.repeat(12)} on 1 node, ${'b'.repeat(12)} on 1 node`,
    );
  });

  it('keeps an alert open with its first time while it holds, and closes it when it stops', () => {
    const lost = { kind: 'nodeLost' as const, subject: 'lb3', message: 'lb3 has not reported for 16 s' };
    const first = trackAlerts(new Map(), [lost], T0);
    expect(first.opened.map((a) => [a.key, a.since])).toEqual([['nodeLost:lb3', T0]]);
    const again = trackAlerts(first.open, [{ ...lost, message: 'lb3 has not reported for 21 s' }], T0 + 5000);
    expect(again.opened).toEqual([]);
    expect(again.open.get('nodeLost:lb3')).toMatchObject({
      since: T0,
      message: 'lb3 has not reported for 21 s',
    });
    const gone = trackAlerts(again.open, [], T0 + 10_000);
    expect(gone.closed.map((a) => a.key)).toEqual(['nodeLost:lb3']);
    expect(gone.open.size).toBe(0);
  });
});
