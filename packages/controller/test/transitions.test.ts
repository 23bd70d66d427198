import type { AgentEvent } from '@rhi/contracts';
import { subjects } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { parseRouteTransition } from '../src/fleet/transitions.js';

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
    ['a withdrawal', lb1, JSON.stringify(event()), 'lb1'],
    ['an announcement', lb1, JSON.stringify(event({ event: 'routeAnnounced' })), 'lb1'],
    ['another event', lb1, JSON.stringify(event({ event: 'drained' })), null],
    ['a route refused (not a transition)', lb1, JSON.stringify(event({ event: 'routeRefused' })), null],
    ['another node than its subject', subjects.event('lb2'), JSON.stringify(event()), null],
    ['not JSON', lb1, '{"event":"routeWithdrawn"', null],
    ['JSON but no AgentEvent', lb1, JSON.stringify({ event: 'routeWithdrawn' }), null],
    ['an unknown field', lb1, JSON.stringify({ ...event(), extra: 1 }), null],
    ['an alert event', subjects.alertEvents, JSON.stringify(event({ node: 'alerts' })), null],
    ['a subject outside the events', subjects.status('lb1'), JSON.stringify(event()), null],
  ])('%s', (_name, subject, text, node) => {
    expect(parseRouteTransition(subject, text)).toBe(node);
  });
});
