import type { RolloutEffect, RolloutRecord, RolloutTimelineEvent, RuleSetAssignment } from '@rhi/contracts';
import { ROLLOUT_EVENT_MAX_NODES } from '@rhi/contracts';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The assignments an `assign` effect writes, one per node, at the effect's own time: the same effect
 * done again (by another replica, after another rollback replaced the record's) writes the same bytes.
 * Pure.
 */
export function assignmentsOf(
  r: RolloutRecord,
  e: Extract<RolloutEffect, { kind: 'assign' }>,
): RuleSetAssignment[] {
  const assignedAt = iso(e.at);
  return e.nodes.map((node) => ({
    schema: 'rhi.v1.assignment',
    node,
    serial: e.serial,
    hash: e.hash,
    rollout: r.id,
    assignedAt,
  }));
}

/** The timeline entry of a `timeline` or `alert` effect (at most `ROLLOUT_EVENT_MAX_NODES` names). Pure. */
export function timelineEventOf(
  r: RolloutRecord,
  e: Exclude<RolloutEffect, { kind: 'assign' }>,
): RolloutTimelineEvent {
  const base = { schema: 'rhi.v1.rollout.event' as const, rollout: r.id, seq: e.seq, time: iso(e.at) };
  if (e.kind === 'alert')
    return {
      ...base,
      kind: 'alert',
      alert: e.alert,
      by: e.by,
      reason: e.message,
      ...(e.node === undefined ? {} : { nodes: [e.node], nodeCount: 1 }),
    };
  return {
    ...base,
    kind: 'timeline',
    action: e.action,
    by: e.by,
    ...(e.reason === undefined ? {} : { reason: e.reason }),
    ...(e.step === undefined ? {} : { step: e.step }),
    ...(e.nodes === undefined
      ? {}
      : { nodes: e.nodes.slice(0, ROLLOUT_EVENT_MAX_NODES), nodeCount: e.nodes.length }),
    ...(e.serial === undefined ? {} : { serial: e.serial }),
  };
}
