import { assertSymbol, symbolProblem } from './commands.js';
import { BirdInvalidInputError } from './errors.js';
import { parseAddress, parsePrefix, type BirdFamily } from './prefix.js';

/** Per-route BGP attributes, set in the route's block of the static protocol. */
export interface BirdRouteBgp {
  readonly med?: number;
  readonly localPref?: number;
  /** Standard communities as `asn:value`, e.g. `65000:100`. */
  readonly communities?: readonly string[];
  /** Large communities as `asn:data1:data2`, e.g. `65000:1:2`. */
  readonly largeCommunities?: readonly string[];
}

/** A route the injector should make BIRD hold. */
export interface DesiredRoute {
  /** Logical table, e.g. `vol1`; names the static protocol(s) that carry it. */
  readonly table: string;
  /** CIDR; a bare address is read as a host route. */
  readonly prefix: string;
  readonly family: BirdFamily;
  readonly bgp?: BirdRouteBgp;
}

/** Where a static route points: `via <ip>`, `via "<iface>"`, or a reject type. */
export type StaticNextHop =
  | { readonly via: string }
  | { readonly device: string }
  | { readonly type: 'blackhole' | 'unreachable' | 'prohibit' };

/** Next hop per family for one table; a missing family uses the layout's default. */
export interface TableOptions {
  readonly ipv4?: StaticNextHop;
  readonly ipv6?: StaticNextHop;
}

/** How routes map onto static protocols in the include file. */
export interface IncludeLayout {
  /** The tables the injector owns. Each gets one protocol per family, rendered even when empty. */
  readonly tables: Readonly<Record<string, TableOptions>>;
  /** Protocol name templates, `{table}` replaced. Defaults: `{table}` for IPv4, `{table}_v6` for IPv6. */
  readonly protocolNames?: { readonly ipv4?: string; readonly ipv6?: string };
  /** Default `{ device: 'lo' }`: see the README for why not a blackhole. */
  readonly defaultNextHop?: StaticNextHop;
  /** `bird2` (channels) or `bird1` (BIRD 1.6: no channels, one family per daemon). Default `bird2`. */
  readonly dialect?: 'bird2' | 'bird1';
  /** Families this include carries. Default both for `bird2`; set one per daemon for `bird1`. */
  readonly families?: readonly BirdFamily[];
}

/** A route after validation: canonical prefix, sorted and de-duplicated attributes. */
export interface NormalizedRoute {
  readonly table: string;
  readonly family: BirdFamily;
  readonly prefix: string;
  readonly key: string;
  readonly bgp: NormalizedBgp | undefined;
}

/** BGP attributes after validation; lists sorted numerically and de-duplicated. */
export interface NormalizedBgp {
  readonly med: number | undefined;
  readonly localPref: number | undefined;
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
}

/** One rendered `protocol static`. */
export interface RenderedProtocol {
  readonly name: string;
  readonly table: string;
  readonly family: BirdFamily;
  readonly nextHop: StaticNextHop;
  readonly routes: readonly NormalizedRoute[];
}

export interface RenderedInclude {
  readonly text: string;
  readonly protocols: readonly RenderedProtocol[];
}

export const DEFAULT_NEXT_HOP: StaticNextHop = { device: 'lo' };
export const DEFAULT_PROTOCOL_NAMES = { ipv4: '{table}', ipv6: '{table}_v6' } as const;

const U32 = 0xffffffff;

/** The first line of every include file. */
export const INCLUDE_HEADER =
  '# Managed by @rhi/bird-client (rhi-agent). Do not edit: every change rewrites this file.';

/** The protocol name for a table and family under a layout. */
export function protocolNameFor(layout: IncludeLayout, table: string, family: BirdFamily): string {
  const template = layout.protocolNames?.[family] ?? DEFAULT_PROTOCOL_NAMES[family];
  return assertSymbol('protocol name', template.replaceAll('{table}', table));
}

/** Every protocol the layout owns, in render order. */
export function ownedProtocols(layout: IncludeLayout): { name: string; table: string; family: BirdFamily }[] {
  const families = layout.families ?? ['ipv4', 'ipv6'];
  return Object.keys(layout.tables)
    .sort()
    .flatMap((table) =>
      families.map((family) => ({ name: protocolNameFor(layout, table, family), table, family })),
    );
}

function integer(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new BirdInvalidInputError(field, value, `must be an integer 0..${max}`);
  return value;
}

function tuple(field: string, text: string, parts: number, max: number): string {
  const numbers = text.split(':');
  if (numbers.length !== parts || !numbers.every((n) => /^\d+$/.test(n) && Number(n) <= max)) {
    throw new BirdInvalidInputError(field, text, `must be ${parts} numbers 0..${max} joined by ":"`);
  }
  return numbers.map(Number).join(':');
}

function sortTuples(values: string[]): string[] {
  const key = (v: string) =>
    v
      .split(':')
      .map((n) => n.padStart(10, '0'))
      .join(':');
  return [...new Set(values)].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** A table the injector leaves out of the include, and why. */
export interface RefusedTable {
  readonly table: string;
  readonly reason: string;
}

/** A route the injector leaves out of the include, and why; the other routes are applied. */
export interface RefusedRoute {
  readonly route: DesiredRoute;
  readonly reason: string;
}

/**
 * The layout widened by `extraTables` (each with the layout's default next hop), less every table that
 * cannot be rendered: one whose protocol name is no BIRD symbol (or longer than BIRD's 64 characters),
 * is already another table's protocol (table `vol1_v6`'s IPv4 protocol is `vol1`'s IPv6 one), or is
 * already something else in BIRD's config (`foreign`: name to kind, from `show symbols`, less our own
 * protocols), or whose next hop does not fit its family. The layout's own tables claim names first, then
 * the others in name order. Pure.
 */
export function renderableLayout(
  layout: IncludeLayout,
  extraTables: readonly string[] = [],
  foreign: ReadonlyMap<string, string> = new Map(),
): { layout: IncludeLayout; refused: RefusedTable[] } {
  const families = layout.families ?? ['ipv4', 'ipv6'];
  const claimed = new Map<string, string>();
  const tables: Record<string, TableOptions> = {};
  const refused: RefusedTable[] = [];
  const own = Object.keys(layout.tables).sort();
  const others = [...new Set(extraTables)].filter((t) => !Object.hasOwn(layout.tables, t)).sort();
  for (const table of [...own, ...others]) {
    const options = layout.tables[table] ?? {};
    const names = families.map((family) => ({
      family,
      name: (layout.protocolNames?.[family] ?? DEFAULT_PROTOCOL_NAMES[family]).replaceAll('{table}', table),
    }));
    const problem = names
      .map(({ family, name }) => {
        const symbol = symbolProblem(name);
        if (symbol) return `its ${family} protocol name '${name}' ${symbol}`;
        const other = claimed.get(name);
        if (other !== undefined) return `its ${family} protocol ${name} is also a protocol of table ${other}`;
        const kind = foreign.get(name);
        if (kind !== undefined)
          return `its ${family} protocol name ${name} is already defined in BIRD's config (${kind})`;
        try {
          nextHopText(options[family] ?? layout.defaultNextHop ?? DEFAULT_NEXT_HOP, family, name);
        } catch (err) {
          return (err as Error).message;
        }
        return undefined;
      })
      .find((p) => p !== undefined);
    if (problem) {
      refused.push({ table, reason: `table '${table}' cannot be rendered: ${problem}` });
      continue;
    }
    for (const { name } of names) claimed.set(name, table);
    tables[table] = options;
  }
  return { layout: { ...layout, tables }, refused };
}

/**
 * Where {@link planProtocols} and {@link renderInclude} put the routes they leave out (a bad prefix or
 * attribute, a table the layout lacks, a family the include does not carry, a prefix given twice with
 * different attributes: the first stays). Without one, they throw on the first such route.
 */
export interface RefusalCollector {
  readonly refused: RefusedRoute[];
  /** Tables {@link renderableLayout} refused: their routes are refused with the table's reason. */
  readonly tables?: readonly RefusedTable[];
}

/** Splits desired routes into those `renderInclude(routes, layout)` takes and those it would refuse. */
export function partitionRoutes(
  routes: readonly DesiredRoute[],
  layout: IncludeLayout,
  refusedTables: readonly RefusedTable[] = [],
): { routes: DesiredRoute[]; refused: RefusedRoute[] } {
  const collect: RefusalCollector = { refused: [], tables: refusedTables };
  planProtocols(routes, layout, collect);
  const out = new Set(collect.refused.map((r) => r.route));
  return { routes: routes.filter((r) => !out.has(r)), refused: collect.refused };
}

/**
 * The protocols an include file rendered under `layout` declares, with their table and family (the name
 * templates read backwards). Lines it does not recognise are skipped. Pure.
 */
export function includeProtocols(
  text: string,
  layout: IncludeLayout,
): { name: string; table: string; family: BirdFamily }[] {
  const found: { name: string; table: string; family: BirdFamily }[] = [];
  for (const m of text.matchAll(/^protocol static ([A-Za-z_][A-Za-z0-9_]*) \{\n(?: {2}(ipv4|ipv6);)?/gm)) {
    const name = m[1] ?? '';
    const family = (m[2] as BirdFamily | undefined) ?? layout.families?.[0] ?? 'ipv4';
    const [before = '', after = ''] = (
      layout.protocolNames?.[family] ?? DEFAULT_PROTOCOL_NAMES[family]
    ).split('{table}');
    if (name.length <= before.length + after.length || !name.startsWith(before) || !name.endsWith(after))
      continue;
    found.push({ name, table: name.slice(before.length, name.length - after.length), family });
  }
  return found;
}

/** Validates and canonicalises one desired route; throws BirdInvalidInputError. */
export function normalizeRoute(route: DesiredRoute): NormalizedRoute {
  assertSymbol('table', route.table);
  return normalizeValidTable(route);
}

/** {@link normalizeRoute} without the table check, for a table already known to be in the layout. */
export function normalizeValidTable(route: DesiredRoute): NormalizedRoute {
  const prefix = parsePrefix(route.prefix, route.family);
  const bgp = route.bgp;
  const hasBgp =
    bgp !== undefined &&
    (bgp.med !== undefined ||
      bgp.localPref !== undefined ||
      (bgp.communities?.length ?? 0) > 0 ||
      (bgp.largeCommunities?.length ?? 0) > 0);
  return {
    table: route.table,
    family: prefix.family,
    prefix: prefix.text,
    key: prefix.key,
    bgp: hasBgp
      ? {
          med: bgp.med === undefined ? undefined : integer('bgp.med', bgp.med, U32),
          localPref: bgp.localPref === undefined ? undefined : integer('bgp.localPref', bgp.localPref, U32),
          communities: sortTuples((bgp.communities ?? []).map((c) => tuple('bgp.communities', c, 2, 0xffff))),
          largeCommunities: sortTuples(
            (bgp.largeCommunities ?? []).map((c) => tuple('bgp.largeCommunities', c, 3, U32)),
          ),
        }
      : undefined,
  };
}

/** The next hop as BIRD config text (`via 198.18.0.254`, `via "lo"`, `blackhole`); throws if it does not fit. */
export function nextHopText(hop: StaticNextHop, family: BirdFamily, protocol: string): string {
  if ('via' in hop) {
    const address = parseAddress(hop.via);
    if (address.family !== family)
      throw new BirdInvalidInputError(`next hop of ${protocol}`, hop.via, `is not ${family}`);
    return `via ${address.text}`;
  }
  if ('device' in hop) {
    if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(hop.device))
      throw new BirdInvalidInputError(`next hop of ${protocol}`, hop.device, 'not an interface name');
    return `via "${hop.device}"`;
  }
  return hop.type;
}

/** The end of a route line: ` { bgp_med = 10; ... };` or `;`. */
export function routeTail(bgp: NormalizedBgp | undefined): string {
  return bgp ? attributeBlock(bgp) : ';';
}

function attributeBlock(bgp: NormalizedBgp): string {
  const statements: string[] = [];
  if (bgp.med !== undefined) statements.push(`bgp_med = ${bgp.med};`);
  if (bgp.localPref !== undefined) statements.push(`bgp_local_pref = ${bgp.localPref};`);
  for (const c of bgp.communities) statements.push(`bgp_community.add((${c.replaceAll(':', ',')}));`);
  for (const c of bgp.largeCommunities)
    statements.push(`bgp_large_community.add((${c.replaceAll(':', ',')}));`);
  return ` { ${statements.join(' ')} };`;
}

/**
 * Validates desired routes and groups them into the layout's protocols (sorted, de-duplicated). A route
 * that cannot be rendered throws, or with `collect` is left out and collected.
 */
export function planProtocols(
  routes: readonly DesiredRoute[],
  layout: IncludeLayout,
  collect?: RefusalCollector,
): RenderedProtocol[] {
  const byName = new Map<string, Map<string, NormalizedRoute>>();
  const owned = ownedProtocols(layout);
  for (const { name } of owned) byName.set(name, new Map());
  const names = new Map(owned.map((p) => [`${p.table}/${p.family}`, p.name]));
  const tableReasons = new Map((collect?.tables ?? []).map((t) => [t.table, t.reason]));
  const place = (route: DesiredRoute): void => {
    if (!Object.hasOwn(layout.tables, route.table))
      throw new BirdInvalidInputError('table', route.table, "is not one of the injector's tables");
    const normalized = normalizeValidTable(route);
    const name =
      names.get(`${normalized.table}/${normalized.family}`) ??
      protocolNameFor(layout, normalized.table, normalized.family);
    const bucket = byName.get(name);
    if (!bucket)
      throw new BirdInvalidInputError(
        'family',
        route.family,
        `is not carried by this include (${route.prefix})`,
      );
    const existing = bucket.get(normalized.key);
    if (existing && JSON.stringify(existing) !== JSON.stringify(normalized)) {
      throw new BirdInvalidInputError(
        'prefix',
        route.prefix,
        `appears twice in table ${route.table} with different attributes`,
      );
    }
    bucket.set(normalized.key, normalized);
  };
  for (const route of routes) {
    if (collect === undefined) {
      place(route);
      continue;
    }
    const tableReason = tableReasons.get(route.table);
    if (tableReason !== undefined) {
      collect.refused.push({ route, reason: tableReason });
      continue;
    }
    try {
      place(route);
    } catch (err) {
      collect.refused.push({ route, reason: (err as Error).message });
    }
  }
  return owned.map(({ name, table, family }) => ({
    name,
    table,
    family,
    nextHop: layout.tables[table]?.[family] ?? layout.defaultNextHop ?? DEFAULT_NEXT_HOP,
    routes: [...(byName.get(name)?.values() ?? [])].sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
    ),
  }));
}

/**
 * Renders the include file: one `protocol static` per owned table and family. Pure and deterministic. A
 * route that cannot be rendered throws, or with `collect` is left out and collected.
 */
export function renderInclude(
  routes: readonly DesiredRoute[],
  layout: IncludeLayout,
  collect?: RefusalCollector,
): RenderedInclude {
  const protocols = planProtocols(routes, layout, collect);
  const lines = [INCLUDE_HEADER];
  for (const protocol of protocols) {
    const hop = nextHopText(protocol.nextHop, protocol.family, protocol.name);
    lines.push('', `protocol static ${protocol.name} {`);
    if ((layout.dialect ?? 'bird2') === 'bird2') lines.push(`  ${protocol.family};`);
    for (const route of protocol.routes) {
      lines.push(`  route ${route.prefix} ${hop}${route.bgp ? attributeBlock(route.bgp) : ';'}`);
    }
    lines.push('}');
  }
  return { text: `${lines.join('\n')}\n`, protocols };
}
