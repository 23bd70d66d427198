import { routeId } from '@rhi/contracts';
import type { RouteStatus } from '@rhi/contracts';
import type { NodeRecord } from './fleet.js';
import { liveness } from './liveness.js';

export type { VipNodeState } from '@rhi/contracts';
import type { VipNodeState } from '@rhi/contracts';

/** One node's part in a VIP. */
export interface VipNode {
  readonly node: string;
  readonly state: VipNodeState;
  /** The agent's one-line reason, or what the drift or the missing export is. */
  readonly reason: string;
  readonly decision: RouteStatus['decision'];
  readonly desired: boolean;
  readonly inBird: boolean | null;
  readonly damping: RouteStatus['damping'];
  readonly allowed: boolean;
  /** When the node's desired state last changed (ISO). */
  readonly since: string;
}

/** A VIP across the fleet: every node that has a rule for it, and how many advertise it. */
export interface VipView {
  /** `table%prefix`. */
  readonly id: string;
  readonly table: string;
  readonly prefix: string;
  readonly family: RouteStatus['family'];
  readonly advertisers: number;
  /** The fewest advertisers this VIP should have (alerts below it). */
  readonly minimum: number;
  readonly nodes: readonly VipNode[];
}

/** What the VIP view needs besides the statuses. */
export interface VipViewOptions {
  readonly now: number;
  readonly heartbeatMs: number;
  /** The minimum advertisers of a VIP (by its id). */
  readonly minimum: (id: string) => number;
}

/** A node's route as the VIP view classifies it. Pure. */
export function classify(route: RouteStatus, lost: boolean): Pick<VipNode, 'state' | 'reason'> {
  if (lost) return { state: 'stale', reason: `node lost; last known: ${route.reason}` };
  if (route.inBird === null) return { state: 'unknown', reason: `BIRD could not be read; ${route.reason}` };
  if (route.desired && !route.inBird)
    return { state: 'drift', reason: 'the agent wants it advertised but BIRD does not hold it' };
  if (!route.desired && route.inBird)
    return { state: 'drift', reason: 'BIRD holds it but the agent does not want it advertised' };
  if (!route.desired) return { state: 'withdrawn', reason: route.reason };
  if (route.exported && route.exported.to.length === 0)
    return {
      state: 'not-sent',
      reason: `BIRD holds it but sends it to no router: ${route.exported.problems.join('; ')}`,
    };
  return { state: 'advertising', reason: route.reason };
}

/** One node's part in a VIP, from its route for it. Pure. */
export function vipNode(node: string, route: RouteStatus, lost: boolean): VipNode {
  return {
    node,
    ...classify(route, lost),
    decision: route.decision,
    desired: route.desired,
    inBird: route.inBird,
    damping: route.damping,
    allowed: route.allowed,
    since: route.since,
  };
}

/** Every VIP any node has a rule for, by id, from the nodes' newest statuses. Pure. */
export function vipViews(records: readonly NodeRecord[], options: VipViewOptions): VipView[] {
  const byId = new Map<string, { route: RouteStatus; nodes: VipNode[] }>();
  for (const record of records) {
    const lost = liveness(record, options.now, options.heartbeatMs) === 'lost';
    for (const route of record.status.routes) {
      const id = routeId(route);
      let entry = byId.get(id);
      if (!entry) {
        entry = { route, nodes: [] };
        byId.set(id, entry);
      }
      entry.nodes.push(vipNode(record.status.node, route, lost));
    }
  }
  return [...byId]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, { route, nodes }]) => ({
      id,
      table: route.table,
      prefix: route.prefix,
      family: route.family,
      advertisers: nodes.filter((n) => n.state === 'advertising').length,
      minimum: options.minimum(id),
      nodes: nodes.sort((a, b) => a.node.localeCompare(b.node)),
    }));
}
