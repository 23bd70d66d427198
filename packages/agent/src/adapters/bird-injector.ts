import type { BirdRouteInjector, DesiredRoute as BirdRoute } from '@rhi/bird-client';
import { BirdConfigError, BirdError, BirdReplyError } from '@rhi/bird-client';
import type { DesiredRoute } from '../core/planner.js';
import type {
  ApplyResult,
  DisabledProtocol,
  HeldRoutes,
  ReconcileResult,
  RouteExport,
  RouteInjector,
} from '../loop/ports.js';
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

/**
 * What a reconcile repaired, in words, or undefined when BIRD and the include file were as the last
 * apply left them. Pure.
 */
export function driftRepaired(result: {
  readonly wrote: boolean;
  readonly configured: boolean;
}): string | undefined {
  if (result.wrote)
    return 'the include file differed from the routes in force (edited by hand or lost): rewritten, and BIRD reconfigured';
  if (result.configured)
    return "BIRD's routes differed from the include file (BIRD restarted or reconfigured from another file): BIRD reconfigured";
  return undefined;
}

/** The loop's injector port over bird-client's declarative injector. */
export class BirdInjectorPort implements RouteInjector {
  /**
   * Each route of the loop in bird-client's form, made once: the loop hands out a route again (the same
   * object) while it does not change, and bird-client renders an unchanged route object only once.
   */
  private readonly converted = new WeakMap<DesiredRoute, BirdRoute>();

  constructor(private readonly injector: BirdRouteInjector) {}

  async set(routes: readonly DesiredRoute[], tables: readonly string[]): Promise<ApplyResult> {
    let result;
    const birdRoutes = routes.map((r) => {
      let b = this.converted.get(r);
      if (b === undefined) this.converted.set(r, (b = toBirdRoute(r)));
      return b;
    });
    try {
      result = await this.injector.set(birdRoutes, { tables });
    } catch (err) {
      throw await this.failSafe(err);
    }
    return {
      refused: (result.refused ?? []).map(({ route, reason }) => ({
        table: route.table,
        prefix: route.prefix,
        family: route.family,
        reason,
      })),
      ...(result.enabled?.length ? { enabled: result.enabled } : {}),
    };
  }

  /**
   * BIRD refusing its own config (8002) refuses every `configure`, withdrawals too, and a dead VIP would
   * stay advertised. Then each static protocol holding a route to withdraw is disabled, its healthy
   * routes with it: in an active/active fleet the other nodes carry them (README, "Policies").
   */
  private async failSafe(err: unknown): Promise<InjectorFailure> {
    const failure = injectorFailure(err);
    if (!(err instanceof BirdConfigError)) return failure;
    const rebuilt = (extra: { disabled?: readonly DisabledProtocol[]; failSafeError?: string }) =>
      new InjectorFailure(failure.kind, failure.code, failure.message, { cause: err, ...extra });
    try {
      const disabled = await this.injector.disableWithdrawn();
      return disabled.length ? rebuilt({ disabled }) : failure;
    } catch (disableErr) {
      return rebuilt({ failSafeError: injectorFailure(disableErr).message });
    }
  }

  async held(): Promise<HeldRoutes> {
    try {
      return { routes: (await this.injector.read()).map(fromBirdRoute) };
    } catch (err) {
      throw injectorFailure(err);
    }
  }

  async reconcile(): Promise<ReconcileResult> {
    try {
      const result = await this.injector.reconcile();
      const repaired = driftRepaired(result);
      return {
        ...(result.enabled?.length ? { enabled: result.enabled } : {}),
        ...(repaired ? { repaired } : {}),
      };
    } catch (err) {
      throw injectorFailure(err);
    }
  }

  async exports(): Promise<RouteExport[] | null> {
    // bird-client's answers carry the static protocol besides the loop's fields: passed on as they are.
    return this.injector.exports();
  }
}
