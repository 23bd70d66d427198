import type { BirdRouteInjector, DesiredRoute as BirdRoute } from '@rhi/bird-client';
import type { DesiredRoute } from '../core/planner.js';
import type { HeldRoutes, RouteInjector } from '../loop/ports.js';

/** The agent's route (rule attributes) in bird-client's form (BGP attributes as text). */
export function toBirdRoute(route: DesiredRoute): BirdRoute {
  const a = route.attributes;
  if (!a) return { table: route.table, prefix: route.prefix, family: route.family };
  return {
    table: route.table,
    prefix: route.prefix,
    family: route.family,
    bgp: {
      ...(a.med === undefined ? {} : { med: a.med }),
      ...(a.localPref === undefined ? {} : { localPref: a.localPref }),
      ...(a.communities?.length ? { communities: a.communities.map(([x, y]) => `${x}:${y}`) } : {}),
      ...(a.largeCommunities?.length
        ? { largeCommunities: a.largeCommunities.map(([x, y, z]) => `${x}:${y}:${z}`) }
        : {}),
    },
  };
}

const numbers = (text: string) => text.split(':').map(Number);

/** A route read back from BIRD in the agent's form. */
export function fromBirdRoute(route: BirdRoute): DesiredRoute {
  const b = route.bgp;
  const attributes = b && {
    ...(b.med === undefined ? {} : { med: b.med }),
    ...(b.localPref === undefined ? {} : { localPref: b.localPref }),
    ...(b.communities?.length
      ? { communities: b.communities.map((c) => numbers(c) as [number, number]) }
      : {}),
    ...(b.largeCommunities?.length
      ? { largeCommunities: b.largeCommunities.map((c) => numbers(c) as [number, number, number]) }
      : {}),
  };
  return {
    table: route.table,
    prefix: route.prefix,
    family: route.family,
    ...(attributes && Object.keys(attributes).length ? { attributes } : {}),
  };
}

/** The loop's injector port over bird-client's declarative injector. */
export class BirdInjectorPort implements RouteInjector {
  constructor(private readonly injector: BirdRouteInjector) {}

  async set(routes: readonly DesiredRoute[]): Promise<void> {
    await this.injector.set(routes.map(toBirdRoute));
  }

  async held(): Promise<HeldRoutes> {
    return { routes: (await this.injector.read()).map(fromBirdRoute) };
  }

  async reconcile(): Promise<void> {
    await this.injector.reconcile();
  }
}
