import type { AgentEvent, NodeStatus } from '@rhi/contracts';
import type { AgentSnapshot, AgentTransition } from '../loop/ports.js';

/** Who is reporting: fixed for the life of the agent. */
export interface NodeIdentity {
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly agentVersion: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The wire form (`rhi.v1.status`) of the loop's snapshot. */
/** BIRD's part of the status; the protocols disabled as a fail-safe as a plain list. */
function birdStatus(bird: AgentSnapshot['bird']): NodeStatus['bird'] {
  const { disabled, ...rest } = bird;
  return { ...rest, ...(disabled?.length ? { disabled: [...disabled] } : {}) };
}

export function toNodeStatus(id: NodeIdentity, s: AgentSnapshot, seq: number, now: number): NodeStatus {
  const inBird = s.inBird === null ? null : new Set(s.inBird.map((r) => `${r.table}%${r.prefix}`));
  const refused = new Map((s.refused ?? []).map((r) => [`${r.table}%${r.prefix}`, r.reason]));
  const exported = new Map(
    (s.exports?.routes ?? []).map((r) => [
      `${r.table}%${r.prefix}`,
      { to: [...r.to], problems: [...r.problems] },
    ]),
  );
  return {
    schema: 'rhi.v1.status',
    node: id.node,
    labels: { ...id.labels },
    agentVersion: id.agentVersion,
    time: iso(now),
    seq,
    ruleSet: s.ruleSet
      ? {
          hash: s.ruleSet.hash,
          serial: s.ruleSet.serial,
          source: s.ruleSet.source as 'file' | 'controller' | 'persisted',
          appliedAt: iso(s.ruleSet.appliedAt),
        }
      : null,
    haproxy: { ...s.haproxy },
    bird: birdStatus(s.bird),
    drain: { drained: s.drained },
    routes: s.routes.map((r) => ({
      table: r.table,
      prefix: r.prefix,
      family: r.family,
      decision: r.decision ? 'advertise' : 'withdraw',
      desired: r.desired,
      damping: r.phase,
      allowed: r.allowed,
      // A route left out of BIRD tells why in its reason (the schema has no field for it).
      reason: refused.has(`${r.table}%${r.prefix}`)
        ? `refused by the injector: ${refused.get(`${r.table}%${r.prefix}`)}`
        : r.reason,
      inBird: inBird === null ? null : inBird.has(`${r.table}%${r.prefix}`),
      ...(exported.has(`${r.table}%${r.prefix}`) ? { exported: exported.get(`${r.table}%${r.prefix}`) } : {}),
      since: iso(r.since),
    })),
  };
}

/** The wire form (`rhi.v1.event`) of a transition. */
export function toAgentEvent(id: NodeIdentity, t: AgentTransition): AgentEvent {
  return {
    schema: 'rhi.v1.event',
    node: id.node,
    time: iso(t.time),
    event: t.event,
    reason: t.reason,
    ...(t.table === undefined ? {} : { table: t.table }),
    ...(t.prefix === undefined ? {} : { prefix: t.prefix }),
  };
}
