import type { BirdRouteInjector, DesiredRoute as BirdRoute } from '@rhi/bird-client';
import { BirdError, BirdReplyError } from '@rhi/bird-client';
import type { DesiredRoute } from '../core/planner.js';
import type { ApplyResult, HeldRoutes, RouteInjector } from '../loop/ports.js';
import { InjectorFailure } from '../loop/ports.js';

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

/** BIRD away or not answering: retrying is all there is. Every other code is BIRD refusing what it got. */
const UNREACHABLE = new Set(['BIRD_CONNECTION', 'BIRD_TIMEOUT', 'BIRD_PROTOCOL']);

/**
 * bird-client's error as the loop reports it: BIRD unreachable, or BIRD (or its config, or the include
 * file) refusing. A runtime error reply (8xxx) other than `8007 Access denied` (a restricted socket) is a
 * passing state of BIRD's (`8004 Stopped due to reconfiguration`), not a mistake to fix.
 */
export function injectorFailure(err: unknown): InjectorFailure {
  if (err instanceof InjectorFailure) return err;
  if (err instanceof BirdError) {
    const passing = err instanceof BirdReplyError && err.replyCode !== 8007;
    const kind = UNREACHABLE.has(err.code) || passing ? 'unreachable' : 'config';
    return new InjectorFailure(kind, err.code, err.message, { cause: err });
  }
  return new InjectorFailure('unreachable', 'UNKNOWN', err instanceof Error ? err.message : String(err), {
    cause: err,
  });
}

/** The loop's injector port over bird-client's declarative injector. */
export class BirdInjectorPort implements RouteInjector {
  constructor(private readonly injector: BirdRouteInjector) {}

  async set(routes: readonly DesiredRoute[], tables: readonly string[]): Promise<ApplyResult> {
    try {
      const result = await this.injector.set(routes.map(toBirdRoute), { tables });
      return {
        refused: (result.refused ?? []).map(({ route, reason }) => ({
          table: route.table,
          prefix: route.prefix,
          family: route.family,
          reason,
        })),
      };
    } catch (err) {
      throw injectorFailure(err);
    }
  }

  async held(): Promise<HeldRoutes> {
    try {
      return { routes: (await this.injector.read()).map(fromBirdRoute) };
    } catch (err) {
      throw injectorFailure(err);
    }
  }

  async reconcile(): Promise<void> {
    try {
      await this.injector.reconcile();
    } catch (err) {
      throw injectorFailure(err);
    }
  }
}
