import type { AgentEvent, NodeStatus } from '@rhi/contracts';
import { routeId } from '@rhi/contracts';
import type { AgentSnapshot, AgentTransition } from '../loop/ports.js';

/** Who is reporting: fixed for the life of the agent. */
export interface NodeIdentity {
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly agentVersion: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** BIRD's part of the status; the protocols disabled as a fail-safe as a plain list. */
function birdStatus(bird: AgentSnapshot['bird']): NodeStatus['bird'] {
  const { disabled, ...rest } = bird;
  return { ...rest, ...(disabled?.length ? { disabled: [...disabled] } : {}) };
}

function drainStatus(s: AgentSnapshot): NodeStatus['drain'] {
  const d = s.drain;
  if (!s.drained || !d) return { drained: s.drained };
  return {
    drained: true,
    since: iso(d.since),
    reason: d.reason,
    mode: d.mode,
    ...(d.waitSessions === undefined ? {} : { waitSessions: d.waitSessions }),
    ...(d.sessions === undefined ? {} : { sessions: d.sessions }),
    ...(d.deadline === undefined ? {} : { deadline: iso(d.deadline) }),
  };
}

/** The wire form (`rhi.v1.status`) of the loop's snapshot: what NATS and `GET /status` carry. */
export function toNodeStatus(id: NodeIdentity, s: AgentSnapshot, seq: number, now: number): NodeStatus {
  const inBird = s.inBird === null ? null : new Set(s.inBird.map(routeId));
  const refused = new Map((s.refused ?? []).map((r) => [routeId(r), r.reason]));
  const exported = new Map(
    (s.exports?.routes ?? []).map((r) => [routeId(r), { to: [...r.to], problems: [...r.problems] }]),
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
    bird: {
      ...birdStatus(s.bird),
      ...(s.exports ? { exportsCheckedAt: iso(s.exports.checkedAt) } : {}),
    },
    drain: drainStatus(s),
    routes: s.routes.map((r) => {
      const id = routeId(r);
      const why = refused.get(id);
      const to = exported.get(id);
      return {
        table: r.table,
        prefix: r.prefix,
        family: r.family,
        decision: r.decision ? 'advertise' : 'withdraw',
        desired: r.desired,
        damping: r.phase,
        allowed: r.allowed,
        reason: why === undefined ? r.reason : `refused by the injector: ${why}`,
        explanation: r.explanation,
        inBird: inBird === null ? null : inBird.has(id),
        ...(to === undefined ? {} : { exported: to }),
        ...(why === undefined ? {} : { refused: why }),
        since: iso(r.since),
      };
    }),
  };
}

/**
 * Numbers the statuses the agent hands out, on NATS and on `GET /status` alike, from one counter: every
 * status a reader gets has a higher `seq` than the ones before it, wherever it got them.
 */
export class NodeStatusStamper {
  private seq = 0;

  constructor(
    readonly identity: NodeIdentity,
    private readonly now: () => number = Date.now,
  ) {}

  /** The status of `snapshot`, with the next sequence number and the time now. */
  next(snapshot: AgentSnapshot): NodeStatus {
    return toNodeStatus(this.identity, snapshot, this.seq++, this.now());
  }
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
