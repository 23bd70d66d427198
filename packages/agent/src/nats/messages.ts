import type { AgentEvent, NodeStatus } from '@rhi/contracts';
import { routeId } from '@rhi/contracts';
import type { PlannedRoute } from '../core/planner.js';
import type { AgentSnapshot, AgentTransition } from '../loop/ports.js';

/** Who is reporting: fixed for the life of the agent. */
export interface NodeIdentity {
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly agentVersion: string;
  /** Its prefix allowlist (canonical CIDRs), reported so that the controller's what-if knows it. */
  readonly allowlist?: readonly string[];
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

/** A route of the status as it goes on the wire, from its picture and what BIRD did with it. */
export type WireRoute = NodeStatus['routes'][number];

/** What the status says of a route besides its picture: whether BIRD holds it, refused it, sends it. */
export interface RouteContext {
  /** Null when what BIRD holds is unknown. */
  readonly inBird: boolean | null;
  /** The injector's reason for leaving the route out of the include, if it did. */
  readonly refused: string | undefined;
  /** Where BIRD sends the route, as last checked (undefined: not checked, or BIRD does not hold it). */
  readonly exported: { readonly to: readonly string[]; readonly problems: readonly string[] } | undefined;
}

/** The wire form of one route of a snapshot. */
export function wireRoute(r: PlannedRoute, c: RouteContext): WireRoute {
  const why = c.refused;
  const to = c.exported;
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
    inBird: c.inBird,
    ...(to === undefined ? {} : { exported: { to: [...to.to], problems: [...to.problems] } }),
    ...(why === undefined ? {} : { refused: why }),
    since: iso(r.since),
  };
}

/** Everything of the status but its routes, in the order of the wire form (routes come last). */
export function statusHead(
  id: NodeIdentity,
  s: AgentSnapshot,
  seq: number,
  now: number,
): Omit<NodeStatus, 'routes'> {
  return {
    schema: 'rhi.v1.status',
    node: id.node,
    labels: { ...id.labels },
    agentVersion: id.agentVersion,
    ...(id.allowlist ? { allowlist: [...id.allowlist] } : {}),
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
  };
}

/** The wire form (`rhi.v1.status`) of the loop's snapshot: what NATS and `GET /status` carry. */
export function toNodeStatus(id: NodeIdentity, s: AgentSnapshot, seq: number, now: number): NodeStatus {
  const inBird = s.inBird === null ? null : new Set(s.inBird.map(routeId));
  const refused = new Map((s.refused ?? []).map((r) => [routeId(r), r.reason]));
  const exported = new Map((s.exports?.routes ?? []).map((r) => [routeId(r), r]));
  return {
    ...statusHead(id, s, seq, now),
    routes: s.routes.map((r) => {
      const key = routeId(r);
      return wireRoute(r, {
        inBird: inBird === null ? null : inBird.has(key),
        refused: refused.get(key),
        exported: exported.get(key),
      });
    }),
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
