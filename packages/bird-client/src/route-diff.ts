import { bgpAttributesOf, type BirdRoute } from './parse-routes.js';
import type { BirdFamily } from './prefix.js';
import {
  normalizeRoute,
  type DesiredRoute,
  type NormalizedRoute,
  type RenderedInclude,
  type RenderedProtocol,
} from './render-include.js';

/** The routes a static protocol holds in BIRD, as desired routes of its table. */
export function heldRoutes(
  protocol: { name: string; table: string; family: BirdFamily },
  routes: readonly BirdRoute[],
): NormalizedRoute[] {
  return routes
    .filter((route) => route.protocol === protocol.name)
    .map((route) => {
      const bgp = bgpAttributesOf(route);
      const desired: DesiredRoute = {
        table: protocol.table,
        prefix: route.prefix,
        family: protocol.family,
        bgp: {
          ...(bgp.med === undefined ? {} : { med: bgp.med }),
          ...(bgp.localPref === undefined ? {} : { localPref: bgp.localPref }),
          communities: bgp.communities,
          largeCommunities: bgp.largeCommunities,
        },
      };
      return normalizeRoute(desired);
    });
}

/** Back from the normalised form to the agent's route shape (for status reporting). */
export function toDesiredRoute(route: NormalizedRoute): DesiredRoute {
  if (!route.bgp) return { table: route.table, prefix: route.prefix, family: route.family };
  const { med, localPref, communities, largeCommunities } = route.bgp;
  return {
    table: route.table,
    prefix: route.prefix,
    family: route.family,
    bgp: {
      ...(med === undefined ? {} : { med }),
      ...(localPref === undefined ? {} : { localPref }),
      ...(communities.length ? { communities } : {}),
      ...(largeCommunities.length ? { largeCommunities } : {}),
    },
  };
}

/** A route's identity for comparison: prefix plus its BGP attributes. */
export function routeSignature(route: NormalizedRoute): string {
  if (!route.bgp) return route.prefix;
  const { med, localPref, communities, largeCommunities } = route.bgp;
  const parts = [
    med === undefined ? '' : `med ${med}`,
    localPref === undefined ? '' : `local_pref ${localPref}`,
    ...communities.map((c) => `community ${c}`),
    ...largeCommunities.map((c) => `large_community ${c}`),
  ].filter(Boolean);
  return `${route.prefix} {${parts.join(', ')}}`;
}

/** What BIRD lacks and what it holds beyond the rendered protocol; routes with other attributes appear in both. */
export function diffProtocol(
  desired: RenderedProtocol,
  held: readonly NormalizedRoute[],
): { missing: string[]; unexpected: string[] } {
  const want = new Set(desired.routes.map(routeSignature));
  const have = new Set(held.map(routeSignature));
  return {
    missing: [...want].filter((s) => !have.has(s)),
    unexpected: [...have].filter((s) => !want.has(s)),
  };
}

/** Routes added or re-attributed (`upserted`) and routes gone (`removed`) between two renderings of a protocol. */
export function routeChanges(
  before: RenderedProtocol | undefined,
  after: RenderedProtocol,
): { upserted: NormalizedRoute[]; removed: NormalizedRoute[] } {
  const old = new Map((before?.routes ?? []).map((r) => [r.key, routeSignature(r)]));
  const next = new Set(after.routes.map((r) => r.key));
  return {
    upserted: after.routes.filter((r) => old.get(r.key) !== routeSignature(r)),
    removed: (before?.routes ?? []).filter((r) => !next.has(r.key)),
  };
}

/** The routes of one protocol that changed: added or re-attributed (`upserted`) and gone (`removed`), by key. */
export interface RouteChanges {
  readonly upserted: readonly NormalizedRoute[];
  readonly removed: readonly NormalizedRoute[];
}

/**
 * Per protocol whose routes changed between two renderings, what changed; `undefined` for a protocol that
 * is new or whose next hop changed (read it back whole). Unchanged protocols are absent.
 */
export type ChangePlan = ReadonlyMap<string, RouteChanges | undefined>;

/** The {@link ChangePlan} from `before` to `after`, computed from scratch. */
export function changesSince(before: RenderedInclude, after: RenderedInclude): ChangePlan {
  const plan = new Map<string, RouteChanges | undefined>();
  for (const protocol of after.protocols) {
    const previous = before.protocols.find((b) => b.name === protocol.name);
    if (!previous || JSON.stringify(previous.nextHop) !== JSON.stringify(protocol.nextHop)) {
      plan.set(protocol.name, undefined);
      continue;
    }
    const changes = routeChanges(previous, protocol);
    if (changes.upserted.length > 0 || changes.removed.length > 0) plan.set(protocol.name, changes);
  }
  return plan;
}
