import type { BirdReply } from './reply-reader.js';

/** A next hop: `via <gateway> on <iface>` or `dev <iface>` (BIRD 2 on its own line, BIRD 1.6 inline). */
export interface BirdNextHop {
  readonly gateway: string | undefined;
  readonly iface: string | undefined;
  readonly weight: number | undefined;
}

/** One route of `show route [all]`. */
export interface BirdRoute {
  readonly table: string;
  readonly prefix: string;
  /** `unicast`, `blackhole`, `unreachable`, `prohibited`, … (BIRD 1.6 lines with a next hop read as `unicast`). */
  readonly type: string;
  readonly protocol: string;
  readonly since: string;
  readonly from: string | undefined;
  /** The `*` marker: the best route for its network. */
  readonly primary: boolean;
  readonly preference: number;
  readonly metric: string | undefined;
  /** Protocol-specific suffix, e.g. `AS65001i` for BGP. */
  readonly info: string | undefined;
  readonly nextHops: readonly BirdNextHop[];
  /** `all` attribute lines by name, e.g. `Type`, `BGP.med`, `BGP.community`; values as BIRD prints them. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** BGP attributes of a route, decoded from its `BGP.*` attribute lines. */
export interface BirdBgpAttributes {
  readonly med: number | undefined;
  readonly localPref: number | undefined;
  /** `asn:value`, in BIRD's order. */
  readonly communities: readonly string[];
  /** `asn:data1:data2`, in BIRD's order. */
  readonly largeCommunities: readonly string[];
}

export interface ParseShowRouteOptions {
  /** Table for routes printed before any `Table x:` header (BIRD 1.6 prints none). Default `master`. */
  readonly defaultTable?: string;
}

const ROUTE =
  /^(\S*)\s+(.+?)\s+\[(\S+)\s+([^\]]*?)(?:\s+from\s+(\S+))?\]\s*([*!]?)\s*\((\d+)(?:\/([^)]*))?\)(?:\s+\[([^\]]*)\])?\s*$/;
const TABLE = /^Table (\S+):$/;
const NEXT_HOP = /^\s*(?:via (\S+) on (\S+)|dev (\S+))(?:\s+weight (\d+))?/;
const ATTRIBUTE = /^\t([^:]+):\s?(.*)$/;
const DEST_TYPES = new Set(['unicast', 'blackhole', 'unreachable', 'prohibited', 'multicast', 'multipath']);

interface MutableRoute extends Omit<BirdRoute, 'nextHops' | 'attributes'> {
  nextHops: BirdNextHop[];
  attributes: Record<string, string>;
}

/** Parses `show route [table t] [protocol p] [for x] [all]` replies from BIRD 2 and BIRD 1.6. */
export function parseShowRoute(reply: BirdReply, options: ParseShowRouteOptions = {}): BirdRoute[] {
  const routes: MutableRoute[] = [];
  let table = options.defaultTable ?? 'master';
  let lastPrefix = '';
  for (const { code, text } of reply.lines) {
    if (code !== 1007 && code !== 1008 && code !== 1012) continue;
    const header = TABLE.exec(text);
    if (header?.[1]) {
      table = header[1];
      continue;
    }
    if (text.trim() === '') continue;
    const current = routes.at(-1);
    if (text.startsWith('\t')) {
      const hop = NEXT_HOP.exec(text);
      if (hop && current && Object.keys(current.attributes).length === 0) {
        current.nextHops.push(nextHop(hop));
        continue;
      }
      const attribute = ATTRIBUTE.exec(text);
      if (attribute?.[1] && current) current.attributes[attribute[1]] = attribute[2] ?? '';
      continue;
    }
    const match = ROUTE.exec(text);
    if (!match) continue;
    const prefix = match[1] || lastPrefix;
    lastPrefix = prefix;
    const { type, nextHops } = destination(match[2] ?? '');
    routes.push({
      table,
      prefix,
      type,
      protocol: match[3] ?? '',
      since: match[4] ?? '',
      from: match[5],
      primary: match[6] === '*',
      preference: Number(match[7]),
      metric: match[8],
      info: match[9],
      nextHops,
      attributes: {},
    });
  }
  return routes;
}

function nextHop(hop: RegExpExecArray): BirdNextHop {
  return {
    gateway: hop[1],
    iface: hop[2] ?? hop[3],
    weight: hop[4] === undefined ? undefined : Number(hop[4]),
  };
}

function destination(middle: string): { type: string; nextHops: BirdNextHop[] } {
  if (DEST_TYPES.has(middle)) return { type: middle, nextHops: [] };
  const hop = NEXT_HOP.exec(middle);
  if (hop) return { type: 'unicast', nextHops: [nextHop(hop)] };
  return { type: middle, nextHops: [] };
}

/** Decodes the `BGP.med`, `BGP.local_pref`, `BGP.community` and `BGP.large_community` attributes. */
export function bgpAttributesOf(route: BirdRoute): BirdBgpAttributes {
  const number = (name: string) => {
    const value = route.attributes[name];
    return value === undefined ? undefined : Number(value);
  };
  const tuples = (name: string) =>
    [...(route.attributes[name] ?? '').matchAll(/\(([^)]*)\)/g)].map((m) =>
      (m[1] ?? '')
        .split(',')
        .map((p) => p.trim())
        .join(':'),
    );
  return {
    med: number('BGP.med'),
    localPref: number('BGP.local_pref'),
    communities: tuples('BGP.community'),
    largeCommunities: tuples('BGP.large_community'),
  };
}

/** One table's line of `show route [...] count`. */
export interface BirdRouteCount {
  readonly table: string;
  /** Routes matching the query. */
  readonly routes: number;
  /** All routes in the table. */
  readonly totalRoutes: number;
  readonly networks: number;
}

/** Parses `show route [...] count`: one entry per table (the `0014 Total:` line is left out). */
export function parseShowRouteCount(reply: BirdReply): BirdRouteCount[] {
  const counts: BirdRouteCount[] = [];
  for (const { code, text } of reply.lines) {
    if (code !== 1007) continue;
    const match = /^(\d+) of (\d+) routes for (\d+) networks in table (\S+)$/.exec(text.trim());
    if (match?.[4]) {
      counts.push({
        table: match[4],
        routes: Number(match[1]),
        totalRoutes: Number(match[2]),
        networks: Number(match[3]),
      });
    }
  }
  return counts;
}
