import type { NodeRecord } from '../fleet/fleet.js';
import { liveness } from '../fleet/liveness.js';
import type { VipNodeState, VipView } from '../fleet/vip-view.js';

/** A VIP in the list: its advertiser count against its minimum, and how many nodes are in each state. */
export interface VipSummary {
  readonly id: string;
  readonly table: string;
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly advertisers: number;
  readonly minimum: number;
  readonly nodes: number;
  readonly states: Readonly<Partial<Record<VipNodeState, number>>>;
}

/** A node in the list. */
export interface NodeSummary {
  readonly name: string;
  readonly state: 'up' | 'lost';
  readonly labels: Readonly<Record<string, string>>;
  readonly agentVersion: string;
  readonly ruleSet: { readonly hash: string; readonly serial: number; readonly source: string } | null;
  readonly drained: boolean;
  readonly haproxyReachable: boolean;
  readonly birdReachable: boolean;
  /** When its last status was stored (ISO). */
  readonly lastHeard: string;
  readonly routes: number;
  /** Routes it asks BIRD to advertise. */
  readonly desired: number;
}

export function vipSummary(vip: VipView): VipSummary {
  const states: Partial<Record<VipNodeState, number>> = {};
  for (const n of vip.nodes) states[n.state] = (states[n.state] ?? 0) + 1;
  return {
    id: vip.id,
    table: vip.table,
    prefix: vip.prefix,
    family: vip.family,
    advertisers: vip.advertisers,
    minimum: vip.minimum,
    nodes: vip.nodes.length,
    states,
  };
}

export function nodeSummary(record: NodeRecord, now: number, heartbeatMs: number): NodeSummary {
  const s = record.status;
  return {
    name: s.node,
    state: liveness(record, now, heartbeatMs),
    labels: s.labels,
    agentVersion: s.agentVersion,
    ruleSet: s.ruleSet && { hash: s.ruleSet.hash, serial: s.ruleSet.serial, source: s.ruleSet.source },
    drained: s.drain.drained,
    haproxyReachable: s.haproxy.reachable,
    birdReachable: s.bird.reachable,
    lastHeard: new Date(record.receivedAt).toISOString(),
    routes: s.routes.length,
    desired: s.routes.filter((r) => r.desired).length,
  };
}
