import type { NodeStatus } from '@rhi/contracts';
import { routeId } from '@rhi/contracts';
import { classify } from '../fleet/vip-view.js';
import { byName } from './step-plan.js';
import type { WhatIfNodeResult, WhatIfResult, WhatIfVip } from './what-if.js';

/** A node a drain would take out of service: its last status, and whether it is lost. */
export interface DrainNode {
  readonly name: string;
  readonly status: NodeStatus;
  readonly lost: boolean;
}

/**
 * What draining `nodes` would change, in the what-if's terms, for the guard to judge: every VIP a node up
 * and not yet drained advertises now is withdrawn by it; each VIP's advertisers before are the fleet
 * view's (`advertisers`). Lost or already drained nodes change nothing. Pure.
 */
export function drainWhatIf(
  nodes: readonly DrainNode[],
  advertisers: (vip: string) => number,
  fleetSize: number,
): WhatIfResult {
  const withdrawnBy = new Map<string, { route: NodeStatus['routes'][number]; nodes: string[] }>();
  const results: WhatIfNodeResult[] = [];
  for (const n of [...nodes].sort((a, b) => byName(a.name, b.name))) {
    if (n.lost || n.status.drain.drained) continue;
    const withdrawn: string[] = [];
    for (const route of n.status.routes) {
      if (classify(route, false).state !== 'advertising') continue;
      const id = routeId(route);
      withdrawn.push(id);
      const entry = withdrawnBy.get(id);
      if (entry) entry.nodes.push(n.name);
      else withdrawnBy.set(id, { route, nodes: [n.name] });
    }
    results.push({
      node: n.name,
      drained: true,
      haproxyReachable: n.status.haproxy.reachable,
      added: [],
      withdrawn: withdrawn.sort(byName),
      unknownProxies: [],
      unverifiedProxies: [],
      outsideAllowlist: [],
      allowlistKnown: false,
    });
  }
  const vips: WhatIfVip[] = [...withdrawnBy.entries()]
    .sort(([a], [b]) => byName(a, b))
    .map(([id, { route, nodes: by }]) => {
      const before = advertisers(id);
      return {
        id,
        table: route.table,
        prefix: route.prefix,
        family: route.family,
        inCandidate: false,
        before,
        after: Math.max(0, before - by.length),
        added: [],
        withdrawn: by,
        unknownAdvertisers: 0,
      };
    });
  return {
    vips,
    nodes: results,
    unknown: [],
    counts: {
      simulated: results.length,
      changed: results.filter((r) => r.withdrawn.length > 0).length,
      drained: results.length,
      unknown: 0,
      untargeted: Math.max(0, fleetSize - results.length),
    },
  };
}
