import { describe, expect, it } from 'vitest';
import {
  AckSchema,
  alertEventMsgId,
  AlertEventSchema,
  CommandSchema,
  ContractInvalidTokenError,
  HeartbeatSchema,
  NodeStatusSchema,
  subjects,
} from '../src/index.js';

describe('subjects', () => {
  it('builds versioned subjects', () => {
    expect(subjects.status('lb-1')).toBe('rhi.v1.status.lb-1');
    expect(subjects.heartbeat('lb-1')).toBe('rhi.v1.heartbeat.lb-1');
    expect(subjects.resend('lb-1')).toBe('rhi.v1.resend.lb-1');
    expect(subjects.event('lb_2')).toBe('rhi.v1.events.lb_2');
    expect(subjects.nodeCommand('lb-1')).toBe('rhi.v1.cmd.node.lb-1');
    expect(subjects.labelCommand('site', 'par1')).toBe('rhi.v1.cmd.label.site.par1');
  });

  it('keeps alert events in the events stream, apart from every node subject', () => {
    const inEvents = (s: string) => /^rhi\.v1\.events\.[^.]+(\.[^.]+)*$/.test(s);
    expect(inEvents(subjects.alertEvents)).toBe(true);
    // A node named `controller` still has a subject of its own: a node filter never selects alerts.
    expect(subjects.event('controller')).not.toBe(subjects.alertEvents);
    expect(subjects.alertEvents.split('.')).toHaveLength(subjects.event('controller').split('.').length + 1);
  });

  it.each(['lb.1', 'lb*', '>', '', 'a b', 'x'.repeat(65)])('refuses %j as a token', (name) => {
    expect(() => subjects.status(name)).toThrow(ContractInvalidTokenError);
  });
});

describe('schemas', () => {
  const status = {
    schema: 'rhi.v1.status',
    node: 'lb-1',
    labels: { site: 'par1' },
    agentVersion: '0.1.0',
    time: '2026-11-24T05:00:00.000Z',
    seq: 3,
    ruleSet: null,
    haproxy: { reachable: true, pid: 42 },
    bird: { reachable: false, error: 'connect ENOENT /run/bird/bird.ctl' },
    drain: { drained: false },
    routes: [
      {
        table: 'vol1',
        prefix: '198.18.200.1/32',
        family: 'ipv4',
        decision: 'withdraw',
        desired: true,
        damping: 'falling',
        allowed: true,
        reason: 'b:be_app down',
        explanation: { term: 'b:be_app', value: false, detail: 'down (DOWN)', children: [] },
        inBird: null,
        since: '2026-11-24T04:59:59.000Z',
      },
    ],
  };

  it('accepts a status and refuses unknown fields', () => {
    expect(NodeStatusSchema.safeParse(status).success).toBe(true);
    expect(NodeStatusSchema.safeParse({ ...status, extra: 1 }).success).toBe(false);
    expect(NodeStatusSchema.safeParse({ ...status, node: 'lb.1' }).success).toBe(false);
  });

  it('accepts a heartbeat and nothing more or less', () => {
    const beat = { schema: 'rhi.v1.heartbeat', node: 'lb-1', time: '2026-12-02T10:00:00.000Z', seq: 7 };
    expect(HeartbeatSchema.safeParse(beat).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(beat))).toBeLessThan(120);
    expect(HeartbeatSchema.safeParse({ ...beat, routes: [] }).success).toBe(false);
    expect(HeartbeatSchema.safeParse({ ...beat, seq: -1 }).success).toBe(false);
    expect(HeartbeatSchema.safeParse({ ...beat, schema: 'rhi.v1.status' }).success).toBe(false);
    const { time: _, ...untimed } = beat;
    expect(HeartbeatSchema.safeParse(untimed).success).toBe(false);
  });

  it('carries a drain in progress and a refused route, and refuses a malformed drain', () => {
    const draining = {
      ...status,
      drain: {
        drained: true,
        since: '2026-11-24T04:59:00.000Z',
        reason: 'maintenance',
        mode: 'deprefer',
        waitSessions: 0,
        sessions: 12,
        deadline: '2026-11-24T05:01:00.000Z',
      },
      bird: { reachable: true, exportsCheckedAt: '2026-11-24T04:59:30.000Z' },
      routes: [{ ...status.routes[0], refused: 'next hop missing' }],
    };
    expect(NodeStatusSchema.parse(draining).drain).toMatchObject({ mode: 'deprefer', sessions: 12 });
    expect(NodeStatusSchema.parse(draining).routes[0]?.refused).toBe('next hop missing');
    expect(
      NodeStatusSchema.safeParse({ ...draining, bird: { reachable: true, exportsCheckedAt: 'soon' } })
        .success,
    ).toBe(false);
    expect(NodeStatusSchema.safeParse({ ...draining, drain: { drained: true, mode: 'gone' } }).success).toBe(
      false,
    );
    expect(NodeStatusSchema.safeParse({ ...draining, drain: { drained: true, sessions: -1 } }).success).toBe(
      false,
    );
  });

  it('discriminates commands by type', () => {
    expect(
      CommandSchema.parse({
        schema: 'rhi.v1.command',
        id: 'c1',
        type: 'drain',
        waitSessions: 0,
        timeoutSec: 30,
      }),
    ).toMatchObject({ type: 'drain' });
    expect(CommandSchema.safeParse({ schema: 'rhi.v1.command', id: 'c1', type: 'reboot' }).success).toBe(
      false,
    );
    expect(
      AckSchema.safeParse({ schema: 'rhi.v1.ack', id: 'c1', node: 'lb-1', result: 'rejected', reason: 'x' })
        .success,
    ).toBe(true);
  });

  const alert = {
    schema: 'rhi.v1.alert',
    event: 'alertOpened',
    id: 'vipNoAdvertiser:vol1%198.18.200.1/32@2026-11-24T05:00:00.000Z',
    kind: 'vipNoAdvertiser',
    subject: 'vol1%198.18.200.1/32',
    vip: 'vol1%198.18.200.1/32',
    reason: 'no node advertises vol1%198.18.200.1/32 (3 nodes with a rule for it)',
    since: '2026-11-24T05:00:00.000Z',
    time: '2026-11-24T05:00:00.000Z',
  };

  it('accepts an alert event and refuses an unknown kind, transition or field', () => {
    expect(AlertEventSchema.safeParse(alert).success).toBe(true);
    expect(AlertEventSchema.safeParse({ ...alert, kind: 'vipOnFire' }).success).toBe(false);
    expect(AlertEventSchema.safeParse({ ...alert, event: 'alertSnoozed' }).success).toBe(false);
    expect(AlertEventSchema.safeParse({ ...alert, node: 'lb.1' }).success).toBe(false);
    expect(AlertEventSchema.safeParse({ ...alert, extra: 1 }).success).toBe(false);
  });

  it('gives an alert opening and its closing different message ids, the same across replicas', () => {
    const opened = alertEventMsgId(AlertEventSchema.parse(alert));
    const closed = alertEventMsgId({ ...AlertEventSchema.parse(alert), event: 'alertClosed' });
    expect(opened).toBe(`${alert.id}:alertOpened`);
    expect(closed).not.toBe(opened);
    expect(alertEventMsgId({ id: alert.id, event: 'alertOpened' })).toBe(opened);
  });
});
