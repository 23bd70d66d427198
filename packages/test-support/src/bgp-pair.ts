import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BirdInstance } from './daemons.js';
import { bgpChannelStats } from './bgp-stats.js';
import { startBird } from './daemons.js';
import { loopbackPair, waitFor } from './util.js';

const TIMERS =
  'connect delay time 1; connect retry time 1; error wait time 1,2; hold time 6; keepalive time 2;';

/** A node's BIRD (with rhi's include file) and a router BIRD that learns its routes over iBGP. */
export interface BgpPair {
  readonly node: BirdInstance;
  readonly router: BirdInstance;
  /** The include file the node's BIRD reads (created empty). */
  readonly includePath: string;
  /** The IPv4 prefixes the router holds, sorted. */
  routerRoutes(): Promise<string[]>;
  /** The BGP updates and withdraws the router has received from the node (its import counters). */
  routerReceived(): Promise<{ updates: number; withdraws: number }>;
  /**
   * With `routeLog`: every route the router's session with the node brought in or took away, in order,
   * stamped by the router's BIRD itself (epoch ms, microsecond resolution).
   */
  routerRouteLog(): Promise<RouteLogEntry[]>;
  stop(): Promise<void>;
}

/** One line of the router's route log: `node1.ipv4 > added|removed [...] <prefix> ...`. */
export interface RouteLogEntry {
  /** Epoch ms, from BIRD's `timeformat log "%s.%6f"`. */
  readonly at: number;
  readonly op: 'added' | 'removed';
  readonly prefix: string;
}

const ROUTE_LOG_LINE = /^(\d+\.\d+) <TRACE> node1\.ipv4 > (added|removed) \[[^\]]*\] (\S+)/;

/** Parses the router's route log (lines of other kinds are skipped). Pure. */
export function parseRouteLog(text: string): RouteLogEntry[] {
  const entries: RouteLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = ROUTE_LOG_LINE.exec(line);
    if (m) entries.push({ at: Number(m[1]) * 1000, op: m[2] as 'added' | 'removed', prefix: m[3]! });
  }
  return entries;
}

/**
 * Starts the pair on two fresh loopback addresses with short BGP timers and waits for the session. The
 * node exports the static protocols named in `exports` (e.g. `vol1`, `vol2`), IPv4 only. With
 * `includeOnTmpfs`, the include lives in a fresh directory under /dev/shm (as rhi recommends /run), not
 * in the node's directory on disk.
 */
export async function startBgpPair(options: {
  readonly exports: readonly string[];
  readonly includeOnTmpfs?: boolean;
  /** The router logs each route of the session to a file, with microsecond timestamps (`routerRouteLog`). */
  readonly routeLog?: boolean;
}): Promise<BgpPair> {
  const link = loopbackPair();
  const filter = options.exports.map((p) => `proto = "${p}"`).join(' || ');
  const tmpfsDir = options.includeOnTmpfs ? await mkdtemp('/dev/shm/rhi-include-') : undefined;
  if (tmpfsDir) await writeFile(join(tmpfsDir, 'rhi-routes.conf'), '');
  const includeIn = (d: string) => join(tmpfsDir ?? d, 'rhi-routes.conf');
  const node = await startBird({
    name: 'node',
    files: tmpfsDir ? {} : { 'rhi-routes.conf': '' },
    config: (d) => `router id 198.18.0.11;
protocol device { scan time 10; }
include "${includeIn(d)}";
protocol bgp router1 {
  local ${link.local} port ${link.port} as 65001; neighbor ${link.remote} port ${link.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}
  ipv4 { next hop self; import none; export where ${filter}; };
}
`,
  });
  const routeLog = (d: string) => join(d, 'routes.log');
  const router = await startBird({
    name: 'router',
    config: (
      d,
    ) => `${options.routeLog ? `log "${routeLog(d)}" all;\ntimeformat log "%s.%6f";\n` : ''}router id 198.18.0.1;
protocol device { scan time 10; }
protocol bgp node1 {
  local ${link.remote} port ${link.port} as 65001; neighbor ${link.local} port ${link.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}${options.routeLog ? '\n  debug { routes };' : ''}
  ipv4 { import all; export none; };
}
`,
  });
  await waitFor('the BGP session', async () =>
    (await node.command('show protocols router1')).includes('Established') ? true : undefined,
  );
  return {
    node,
    router,
    includePath: includeIn(node.dir),
    routerRoutes: async () =>
      [...(await router.command('show route')).matchAll(/^(?:1007-| )(\d+\.\d+\.\d+\.\d+\/\d+)\s/gm)]
        .map((m) => m[1] ?? '')
        .sort(),
    routerReceived: async () => {
      const ipv4 = (await bgpChannelStats(router, 'node1'))['ipv4'];
      if (ipv4 === undefined) throw new Error('the router has no ipv4 channel on node1');
      return ipv4.imported;
    },
    routerRouteLog: async () => {
      if (!options.routeLog) throw new Error('startBgpPair: routerRouteLog needs { routeLog: true }');
      return parseRouteLog(await readFile(routeLog(router.dir), 'utf8'));
    },
    stop: async () => {
      await Promise.allSettled([node.stop(), router.stop()]);
      if (tmpfsDir) await rm(tmpfsDir, { recursive: true, force: true });
    },
  };
}
