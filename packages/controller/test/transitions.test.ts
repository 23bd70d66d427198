import type { AgentEvent } from '@rhi/contracts';
import { subjects } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { parseRouteTransition, TransitionWindow } from '../src/fleet/transitions.js';

const event = (over: Partial<AgentEvent> = {}): AgentEvent => ({
  schema: 'rhi.v1.event',
  node: 'lb1',
  time: '2026-12-02T10:00:00.000Z',
  event: 'routeWithdrawn',
  table: 'vol1',
  prefix: '198.18.200.1/32',
  reason: 'b:be_app down',
  ...over,
});

describe('parseRouteTransition', () => {
  const lb1 = subjects.event('lb1');
  it.each([
    ['a withdrawal', lb1, JSON.stringify(event()), { node: 'lb1', route: 'vol1%198.18.200.1/32' }],
    [
      'an announcement',
      lb1,
      JSON.stringify(event({ event: 'routeAnnounced', table: 't6', prefix: '2001:db8::1/128' })),
      { node: 'lb1', route: 't6%2001:db8::1/128' },
    ],
    ['another event', lb1, JSON.stringify(event({ event: 'drained' })), null],
    ['a route refused (not a transition)', lb1, JSON.stringify(event({ event: 'routeRefused' })), null],
    ['another node than its subject', subjects.event('lb2'), JSON.stringify(event()), null],
    ['not JSON', lb1, '{"event":"routeWithdrawn"', null],
    ['JSON but no AgentEvent', lb1, JSON.stringify({ event: 'routeWithdrawn' }), null],
    ['an unknown field', lb1, JSON.stringify({ ...event(), extra: 1 }), null],
    ['an alert event', subjects.alertEvents, JSON.stringify(event({ node: 'alerts' })), null],
    ['a subject outside the events', subjects.status('lb1'), JSON.stringify(event()), null],
  ])('%s', (_name, subject, text, transition) => {
    expect(parseRouteTransition(subject, text)).toEqual(transition);
  });
});

describe('TransitionWindow', () => {
  it('counts a node by its most changing route, within the window', () => {
    const w = new TransitionWindow(1000);
    for (let i = 0; i < 10; i++) w.add('lb1', `vol1%198.18.200.${i}/32`, 100);
    for (let i = 0; i < 3; i++) w.add('lb2', 'vol1%198.18.200.1/32', 100 + i);
    w.add('lb2', 'vol1%198.18.200.1/32', 900);
    w.add('lb2', 'vol1%198.18.200.2/32', 900);
    expect(w.counts(1000)).toEqual(
      new Map([
        ['lb1', 1],
        ['lb2', 4],
      ]),
    );
    expect(w.counts(1101)).toEqual(new Map([['lb2', 2]]));
    expect(w.counts(1103)).toEqual(new Map([['lb2', 1]]));
    expect(w.counts(2000)).toEqual(new Map());
  });
});
