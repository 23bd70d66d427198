import type { NodeRecord } from '../fleet/fleet.js';
import { liveness } from '../fleet/liveness.js';
import type { VipNodeState, VipView } from '../fleet/vip-view.js';

export type { NodeSummary, VipSummary } from '@rhi/contracts';
import type { NodeSummary, VipSummary } from '@rhi/contracts';

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
