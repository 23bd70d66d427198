import type { AgentEvent, AlertEvent, OperatorAction, RolloutTimelineEvent } from '@rhi/contracts/fleet';
import type { TimelineEntry } from '../src/model/timeline-items.js';

/** 10:00:00 UTC on the fixtures' day. */
export const T10 = Date.parse('2025-01-01T10:00:00.000Z');
export const MIN = 60_000;

let seq = 0;
/** Each entry's `seq` grows, as the events stream numbers them. */
export const resetSeq = (to = 0) => {
  seq = to;
};

const entry = (subject: string, at: number, event: unknown): TimelineEntry => ({
  seq: ++seq,
  time: new Date(at).toISOString(),
  subject,
  event,
});

/** A node's event as its agent publishes it on `rhi.v1.events.<node>`. */
export function agent(
  node: string,
  at: number,
  what: AgentEvent['event'],
  route?: string,
  reason = 'b:be_app up',
): TimelineEntry {
  const [table, prefix] = route?.split('%') ?? [];
  const e: AgentEvent = {
    schema: 'rhi.v1.event',
    node,
    time: new Date(at - 3).toISOString(),
    event: what,
    ...(table !== undefined && prefix !== undefined ? { table, prefix } : {}),
    reason,
  };
  return entry(`rhi.v1.events.${node}`, at, e);
}

/** An alert's opening or closing as the controller stores it on `rhi.v1.events.controller.alerts`. */
export function alert(
  at: number,
  event: AlertEvent['event'],
  kind: AlertEvent['kind'],
  subject: string,
  reason: string,
): TimelineEntry {
  const e: AlertEvent = {
    schema: 'rhi.v1.alert',
    event,
    id: `${kind}:${subject}:${T10}`,
    kind,
    subject,
    ...(subject.includes('%') ? { vip: subject } : subject === 'fleet' ? {} : { node: subject }),
    reason,
    since: new Date(T10).toISOString(),
    time: new Date(at).toISOString(),
  };
  return entry('rhi.v1.events.controller.alerts', at, e);
}

/** An operator's drain or undrain on `rhi.v1.events.controller.actions`. */
export function action(at: number, over: Partial<OperatorAction> = {}): TimelineEntry {
  const e: OperatorAction = {
    schema: 'rhi.v1.action',
    action: 'drain',
    by: 'alice',
    time: new Date(at).toISOString(),
    target: 'lb2',
    reason: 'kernel upgrade',
    answers: [{ node: 'lb2', result: 'applied' }],
    ...over,
  };
  return entry('rhi.v1.events.controller.actions', at, e);
}

/** A rollout's timeline entry on `rhi.v1.events.controller.rollouts`. */
export function rollout(at: number, over: Partial<RolloutTimelineEvent> = {}): TimelineEntry {
  const e: RolloutTimelineEvent = {
    schema: 'rhi.v1.rollout.event',
    rollout: 'r-7',
    seq: 3,
    kind: 'timeline',
    action: 'stepAssigned',
    by: 'bob',
    time: new Date(at).toISOString(),
    step: 1,
    nodes: ['lb1', 'lb2', 'lb3', 'lb4'],
    nodeCount: 4,
    serial: 12,
    ...over,
  };
  return entry('rhi.v1.events.controller.rollouts', at, e);
}

export const VIP1 = 'vol1%198.18.200.1/32';
export const VIP2 = 'vol1%198.18.200.2/32';
export const VIP6 = 'vol1%2001:db8::6/128';
