import type { BirdProtocol } from './parse-protocols.js';
import type { BirdFamily } from './prefix.js';
import type { RenderedProtocol, StaticNextHop } from './render-include.js';

/** The protocols that tell other routers about routes: what "advertised" reaches. */
export const ROUTING_PROTOCOLS: ReadonlySet<string> = new Set(['BGP', 'OSPF', 'RIP', 'Babel']);

/** Whether BIRD sends one of our routes to a router, and why not where it does not. */
export interface BirdRouteExport {
  /** Our static protocol that holds the route. */
  readonly protocol: string;
  readonly table: string;
  readonly prefix: string;
  readonly family: BirdFamily;
  /** The routing protocols (BGP, OSPF, RIP, Babel) that send it; empty: no router receives it. */
  readonly to: readonly string[];
  /** Why a routing protocol does not send it, one line each. */
  readonly problems: readonly string[];
}

/** One question for BIRD: how many of `protocol`'s routes does `router` export (`show route export`)? */
export interface ExportQuery {
  readonly key: string;
  readonly router: string;
  readonly protocol: string;
  /** The routes `protocol` holds: a count of as many means all of them are exported. */
  readonly routes: number;
}

/** BIRD's answer to a query: all exported, the prefixes exported (some are not), or the router was down. */
export type ExportAnswer =
  { readonly exported: 'all' } | { readonly exported: ReadonlySet<string> } | { readonly down: string };

/** A next hop as `check` sees a table before any route is in BIRD. */
export interface TableNextHop {
  readonly table: string;
  readonly family: BirdFamily;
  readonly nextHop: StaticNextHop;
}

const queryKey = (router: string, protocol: string) => `${router} ${protocol}`;

const ZERO = new Set(['::', '0.0.0.0']);

/** The routing protocols among `show protocols all`'s rows. */
export function routers(protocols: readonly BirdProtocol[]): BirdProtocol[] {
  return protocols.filter((p) => ROUTING_PROTOCOLS.has(p.proto));
}

/** Whether `router` has a channel for `family` (BIRD 1.6 shows no channels: one family per daemon). */
function carries(router: BirdProtocol, family: BirdFamily): boolean {
  return router.channels.length === 0 || router.channels.some((c) => c.name === family);
}

function up(router: BirdProtocol): boolean {
  return router.state === 'up';
}

function downReason(router: BirdProtocol): string {
  const why = [router.state, router.info].filter(Boolean).join(', ');
  return `${router.proto} ${router.name} is not up (${why}): it sends nothing`;
}

/**
 * Why a BGP session would not send a route with this next hop although its export filter takes it: BIRD
 * withdraws a route whose next hop is the neighbour's own address ("Invalid NEXT_HOP attribute"), and
 * sends none for a family the session has no next hop address of (an IPv6 channel over an IPv4 session:
 * "Missing next hop address"). `unknown` when the session is not established (the channel's next hop
 * shows only then).
 */
export function nextHopProblem(
  router: BirdProtocol,
  route: TableNextHop,
): { readonly problem: string } | 'ok' | 'unknown' {
  if (router.proto !== 'BGP') return 'ok';
  const hop = route.nextHop;
  if ('via' in hop && router.neighborAddress !== undefined && hop.via === router.neighborAddress)
    return {
      problem:
        `BGP ${router.name} would send next hop ${hop.via}, the neighbour's own address: BIRD withdraws ` +
        `such routes (Invalid NEXT_HOP attribute); give table ${route.table} another gateway, or none`,
    };
  if (!('device' in hop)) return 'ok';
  const channel = router.channels.find((c) => c.name === route.family);
  if (channel?.bgpNextHop === undefined) return 'unknown';
  if (!channel.bgpNextHop.every((a) => ZERO.has(a))) return 'ok';
  const key = route.family === 'ipv6' ? 'gateway6' : 'gateway';
  return {
    problem:
      `BGP ${router.name} has no ${route.family} next hop address of its own (Missing next hop address): ` +
      `set "next hop address" in its ${route.family} channel, or give table ${route.table} a ${key}`,
  };
}

/** The `show route export <router> protocol <ours> count` questions worth asking: routers that are up. */
export function exportQueries(
  protocols: readonly BirdProtocol[],
  owned: readonly RenderedProtocol[],
): ExportQuery[] {
  const up_ = routers(protocols).filter(up);
  return owned.flatMap((p) =>
    p.routes.length === 0
      ? []
      : up_
          .filter((r) => carries(r, p.family))
          .map((r) => ({
            key: queryKey(r.name, p.name),
            router: r.name,
            protocol: p.name,
            routes: p.routes.length,
          })),
  );
}

/**
 * Per route of ours, the routers that send it and why the others do not, from `show protocols all` and the
 * answers to {@link exportQueries}. Pure.
 */
export function judgeExports(
  protocols: readonly BirdProtocol[],
  owned: readonly RenderedProtocol[],
  answers: ReadonlyMap<string, ExportAnswer>,
): BirdRouteExport[] {
  const all = routers(protocols);
  return owned.flatMap((p) => {
    const relevant = all.filter((r) => carries(r, p.family));
    type Verdict =
      | { readonly router: BirdProtocol; readonly problem: string }
      | { readonly router: BirdProtocol; readonly exported: 'all' | ReadonlySet<string> };
    const perRouter = relevant.map((router): Verdict => {
      if (!up(router)) return { router, problem: downReason(router) };
      const answer = answers.get(queryKey(router.name, p.name));
      if (answer === undefined || 'down' in answer)
        return { router, problem: answer?.down ?? downReason(router) };
      const hop = nextHopProblem(router, p);
      if (typeof hop === 'object') return { router, problem: hop.problem };
      return { router, exported: answer.exported };
    });
    const none = `no routing protocol (${[...ROUTING_PROTOCOLS].join(', ')}) carries ${p.family} routes`;
    // Where no router's answer depends on the route (all exported, or a problem), every route of the
    // protocol gets the same lists: made once and shared, so that 10,000 routes do not cost 20,000 arrays.
    if (perRouter.every((r) => 'problem' in r || r.exported === 'all')) {
      const to = Object.freeze(perRouter.flatMap((r) => ('problem' in r ? [] : [r.router.name])));
      const problems = Object.freeze([
        ...perRouter.flatMap((r) => ('problem' in r ? [r.problem] : [])),
        ...(relevant.length === 0 ? [none] : []),
      ]);
      return p.routes.map((route): BirdRouteExport => ({
        protocol: p.name,
        table: p.table,
        prefix: route.prefix,
        family: p.family,
        to,
        problems,
      }));
    }
    return p.routes.map((route): BirdRouteExport => {
      const to: string[] = [];
      const problems: string[] = [];
      for (const r of perRouter) {
        if ('problem' in r) problems.push(r.problem);
        else if (r.exported === 'all' || r.exported.has(route.prefix)) to.push(r.router.name);
        else
          problems.push(
            `${r.router.proto} ${r.router.name} does not export it (its export filter rejects it, or another ` +
              `route to ${route.prefix} is preferred)`,
          );
      }
      if (relevant.length === 0) problems.push(none);
      return { protocol: p.name, table: p.table, prefix: route.prefix, family: p.family, to, problems };
    });
  });
}
