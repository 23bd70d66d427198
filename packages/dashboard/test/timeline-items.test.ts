import { describe, expect, it } from 'vitest';
import { itemMatches, timelineItem, type TimelineEntry } from '../src/model/timeline-items.js';
import { action, agent, alert, MIN, rollout, T10, VIP1, VIP2 } from './timeline-fixtures.js';

const blank = { node: '', vip: '', kind: '' };

describe('timelineItem', () => {
  it('reads an agent route event: kind, node, VIP as a route id, the reason as the message', () => {
    const i = timelineItem(agent('lb1', T10, 'routeWithdrawn', VIP1, 'b:be_app down'));
    expect(i).toMatchObject({
      at: T10,
      kind: 'routeWithdrawn',
      group: 'route',
      icon: '▼',
      node: 'lb1',
      vip: VIP1,
      message: 'b:be_app down',
      by: null,
    });
  });

  it('reads an agent event without a route as a node event', () => {
    const i = timelineItem(agent('lb3', T10, 'birdUnreachable', undefined, 'connect ENOENT /run/bird.ctl'));
    expect(i).toMatchObject({
      kind: 'birdUnreachable',
      group: 'node',
      node: 'lb3',
      vip: null,
      subject: 'lb3',
    });
  });

  it('reads an alert: its transition as the kind, its kind in the message, its node or VIP', () => {
    const vipAlert = timelineItem(
      alert(
        T10,
        'alertOpened',
        'vipBelowMinimum',
        VIP1,
        `${VIP1} has 1 advertiser, fewer than its minimum of 2`,
      ),
    );
    expect(vipAlert).toMatchObject({
      kind: 'alertOpened',
      group: 'alert',
      vip: VIP1,
      node: null,
      alertKind: 'vipBelowMinimum',
      message: `vipBelowMinimum: ${VIP1} has 1 advertiser, fewer than its minimum of 2`,
    });
    const nodeAlert = timelineItem(alert(T10, 'alertClosed', 'nodeLost', 'lb4', 'lb4 reports again'));
    expect(nodeAlert).toMatchObject({
      kind: 'alertClosed',
      icon: '✓',
      node: 'lb4',
      vip: null,
      alertKind: 'nodeLost',
    });
  });

  it('reads an operator action with who did it, why, and what the nodes answered', () => {
    const i = timelineItem(
      action(T10, {
        action: 'drain',
        by: 'alice',
        target: 'site=par1',
        reason: 'maintenance',
        forced: { reason: 'planned', blockers: 2 },
        answers: [
          { node: 'lb1', result: 'applied' },
          { node: 'lb2', result: 'applied' },
          { node: 'lb3', result: 'noAnswer' },
        ],
      }),
    );
    expect(i).toMatchObject({
      kind: 'drain',
      group: 'operator',
      by: 'alice',
      node: null,
      subject: 'site=par1',
      message: 'maintenance; forced past 2 blockers: planned; nodes: 2 applied, 1 noAnswer',
    });
    expect(timelineItem(action(T10, { target: 'lb2' })).node).toBe('lb2');
  });

  it('reads a rollout entry: action or alert as rollout.<name>, its step, serial and nodes', () => {
    expect(timelineItem(rollout(T10))).toMatchObject({
      kind: 'rollout.stepAssigned',
      group: 'rollout',
      by: 'bob',
      subject: 'rollout r-7',
      message: 'step 1; serial 12; 4 nodes',
    });
    const rejected = timelineItem(
      rollout(T10, {
        kind: 'alert',
        action: undefined,
        alert: 'ruleSetRejected',
        by: 'ctl-a',
        reason: 'lb3 rejected serial 12',
        step: undefined,
        serial: undefined,
        nodes: ['lb3'],
        nodeCount: 1,
      }),
    );
    expect(rejected).toMatchObject({
      kind: 'rollout.ruleSetRejected',
      node: 'lb3',
      message: 'lb3 rejected serial 12; lb3',
    });
  });

  it('shows an unknown or unreadable message as it came', () => {
    const raw: TimelineEntry = {
      seq: 9,
      time: new Date(T10).toISOString(),
      subject: 'rhi.v1.events.lb9',
      event: { invalid: 'not json' },
    };
    expect(timelineItem(raw)).toMatchObject({
      kind: 'unknown',
      group: 'other',
      subject: 'rhi.v1.events.lb9',
      message: '{"invalid":"not json"}',
    });
  });
});

describe('itemMatches', () => {
  const items = [
    agent('lb1', T10, 'routeWithdrawn', VIP1),
    agent('lb2', T10 + MIN, 'routeAnnounced', VIP2),
    alert(T10 + 2 * MIN, 'alertOpened', 'nodeLost', 'lb2', 'lb2 has not reported for 31 s'),
    action(T10 + 3 * MIN, { target: 'role=edge,site=lb2-room' }),
  ].map(timelineItem);
  const kinds = (f: Partial<typeof blank>) =>
    items.filter((i) => itemMatches(i, { ...blank, ...f })).map((i) => i.kind);

  it('passes everything with no filter', () => {
    expect(kinds({})).toEqual(['routeWithdrawn', 'routeAnnounced', 'alertOpened', 'drain']);
  });

  it('matches part of a node name, case-insensitive, also in an action selector', () => {
    expect(kinds({ node: 'LB2' })).toEqual(['routeAnnounced', 'alertOpened', 'drain']);
    expect(kinds({ node: ' lb1 ' })).toEqual(['routeWithdrawn']);
  });

  it('matches part of a VIP', () => {
    expect(kinds({ vip: '200.2' })).toEqual(['routeAnnounced']);
  });

  it('matches a kind or a family of kinds', () => {
    expect(kinds({ kind: 'routeAnnounced' })).toEqual(['routeAnnounced']);
    expect(kinds({ kind: 'route' })).toEqual(['routeWithdrawn', 'routeAnnounced']);
    expect(kinds({ kind: 'alert' })).toEqual(['alertOpened']);
    expect(kinds({ kind: 'operator', node: 'lb2' })).toEqual(['drain']);
  });
});
