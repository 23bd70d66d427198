import type { ProcessInfo } from './info.js';
import type { StatTable } from './stat-csv.js';

/** One server of a backend as `show stat` reports it. */
export interface ServerStatus {
  /** HAProxy's status text: `UP`, `UP 1/2`, `DOWN`, `DRAIN`, `MAINT (via be/s2)`, `no check`, ... */
  readonly status: string;
  /** Can take traffic: `UP`, `UP x/y` (still up while falling) or `no check`. */
  readonly usable: boolean;
  /** A `backup` server (`bck` column). */
  readonly backup: boolean;
}

/** A frontend: up when `OPEN` or `FULL`; down when disabled (`PAUSED` on 2.6, `STOP` on older builds). */
export interface FrontendHealth {
  readonly up: boolean;
  /** HAProxy's status text, e.g. `OPEN` or `PAUSED`. */
  readonly reason: string;
  /**
   * Current sessions (`scur`), e.g. to wait for them to fall during a drain. A counter: a change of it
   * alone is not a change of health (`diffSnapshots` ignores it, so the feed does not yield for it).
   */
  readonly sessions: number;
}

/**
 * A backend: up exactly when HAProxy's BACKEND row says `UP` (which already accounts for backups,
 * drain, weight 0 and maintenance; a backend without servers reports `UP`).
 */
export interface BackendHealth {
  readonly up: boolean;
  /** HAProxy's status, plus the usable server count when servers were read: `DOWN, 0/3 servers usable`. */
  readonly reason: string;
  /** Usable servers (backups included); absent when the read skipped server rows. */
  readonly serversUp?: number;
  /** All servers (backups included); absent when the read skipped server rows. */
  readonly serversTotal?: number;
  /** Every server by name; absent when the read skipped server rows. */
  readonly servers?: Readonly<Record<string, ServerStatus>>;
}

/** Which HAProxy worker answered: a reload shows up as a new `pid`, an old worker as `stopping`. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly uptimeSec: number;
  readonly stopping: boolean;
  readonly version: string;
  /** Connections the worker holds now (`CurrConns`), e.g. for a drain that waits for them to fall. */
  readonly currentConnections: number;
}

/**
 * Everything the agent knows about HAProxy's health after one read. The `frontends` and `backends` maps
 * have the shape of the rules language's state: `{"backends":{"be":{"up":true,"serversUp":2,"serversTotal":3}}}`.
 */
export interface HealthSnapshot {
  /** When the read completed, in milliseconds since the epoch. */
  readonly readAt: number;
  /**
   * When the read was sent: HAProxy's answers (counters such as `currentConnections` included) are from
   * between this and `readAt`. A snapshot patched with ring events keeps the `sentAt` of its read.
   */
  readonly sentAt: number;
  readonly process: ProcessIdentity;
  readonly frontends: Readonly<Record<string, FrontendHealth>>;
  readonly backends: Readonly<Record<string, BackendHealth>>;
  /**
   * Only for a read limited to some proxies (`proxies` option): the requested names HAProxy does not
   * have, e.g. a typo in a rule or a proxy removed by a reload. They appear in neither map above.
   */
  readonly missing?: ProxyNames;
}

/** Names of frontends and backends (a `listen` section is both). */
export interface ProxyNames {
  readonly frontends: readonly string[];
  readonly backends: readonly string[];
}

/** Is a server with this `show stat` status able to take traffic? */
export function isServerUsable(status: string): boolean {
  return status === 'UP' || status === 'no check' || /^UP \d+\/\d+$/.test(status);
}

/** Is a frontend with this `show stat` status accepting connections? */
export function isFrontendUp(status: string): boolean {
  return status === 'OPEN' || status === 'FULL';
}

/** Options of `buildHealthSnapshot`. */
export interface SnapshotOptions {
  /** Epoch milliseconds of the read's end. */
  readonly readAt: number;
  /** Epoch milliseconds when the read was sent; default `readAt`. */
  readonly sentAt?: number;
  /** Whether the stat table holds server rows (then every backend gets server counts). */
  readonly withServers: boolean;
  /** Keep only these proxies, and list the ones the table lacks in `missing`. Default: keep all. */
  readonly proxies?: ProxyNames;
}

/** Builds a snapshot from one `show info` and one `show stat` read. Pure. */
export function buildHealthSnapshot(
  info: ProcessInfo,
  table: StatTable,
  options: SnapshotOptions,
): HealthSnapshot {
  const frontends: Record<string, FrontendHealth> = {};
  const backends: Record<string, BackendHealth> = {};
  const backendStatus = new Map<string, string>();
  const servers = new Map<string, Record<string, ServerStatus>>();
  const wantFrontend = nameFilter(options.proxies?.frontends);
  const wantBackend = nameFilter(options.proxies?.backends);
  for (const row of table.rows) {
    if (row.type === 'frontend') {
      if (!wantFrontend(row.proxy)) continue;
      frontends[row.proxy] = { up: isFrontendUp(row.status), reason: row.status, sessions: row.sessions };
    } else if (row.type === 'backend') {
      if (!wantBackend(row.proxy)) continue;
      if (options.withServers) backendStatus.set(row.proxy, row.status);
      else backends[row.proxy] = { up: row.status === 'UP', reason: row.status };
    } else if (row.type === 'server' && options.withServers && wantBackend(row.proxy)) {
      let list = servers.get(row.proxy);
      if (list === undefined) servers.set(row.proxy, (list = {}));
      list[row.name] = {
        status: row.status,
        usable: isServerUsable(row.status),
        backup: row.backup,
      };
    }
  }
  for (const [name, status] of backendStatus) {
    const up = status === 'UP';
    const list = servers.get(name) ?? {};
    const all = Object.values(list);
    const serversUp = all.filter((s) => s.usable).length;
    backends[name] = {
      up,
      reason: `${status}, ${serversUp}/${all.length} servers usable`,
      serversUp,
      serversTotal: all.length,
      servers: list,
    };
  }
  const snapshot: HealthSnapshot = {
    readAt: options.readAt,
    sentAt: options.sentAt ?? options.readAt,
    process: {
      pid: info.pid,
      uptimeSec: info.uptimeSec,
      stopping: info.stopping,
      version: info.version,
      currentConnections: info.currentConnections,
    },
    frontends,
    backends,
  };
  const { proxies } = options;
  if (proxies === undefined) return snapshot;
  const missing: ProxyNames = {
    frontends: unique(proxies.frontends).filter((name) => frontends[name] === undefined),
    backends: unique(proxies.backends).filter((name) => backends[name] === undefined),
  };
  return { ...snapshot, missing };
}

function nameFilter(names: readonly string[] | undefined): (name: string) => boolean {
  if (names === undefined) return () => true;
  const set = new Set(names);
  return (name) => set.has(name);
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/** What differs between two snapshots, ignoring counters, uptime and the read time. */
export interface SnapshotChanges {
  /** True when anything below is non-empty or the worker changed. */
  readonly any: boolean;
  /** The pid or the stopping flag differs: a reload happened (or is under way). */
  readonly processChanged: boolean;
  /** Only with the `sessions` option: the worker's `currentConnections` differs. */
  readonly connectionsChanged: boolean;
  readonly frontends: ProxyChanges;
  readonly backends: ProxyChanges;
}

/** Names of proxies that appeared, vanished (e.g. renamed or removed by a reload) or changed health. */
export interface ProxyChanges {
  readonly appeared: readonly string[];
  readonly vanished: readonly string[];
  readonly changed: readonly string[];
}

/** Options of `diffSnapshots`. */
export interface DiffOptions {
  /**
   * Count a change of a frontend's `sessions` as a change of that frontend, and a change of the worker's
   * `currentConnections` as a change (`connectionsChanged`). Default false.
   */
  readonly sessions?: boolean;
}

/** Compares two snapshots on what the rules can see. `previous` undefined means everything appeared. */
export function diffSnapshots(
  previous: HealthSnapshot | undefined,
  next: HealthSnapshot,
  options: DiffOptions = {},
): SnapshotChanges {
  const processChanged =
    previous !== undefined &&
    (previous.process.pid !== next.process.pid || previous.process.stopping !== next.process.stopping);
  const sameFe = options.sessions === true ? sameFrontendAndSessions : sameFrontend;
  const frontends = diffProxies(previous?.frontends ?? {}, next.frontends, sameFe);
  const backends = diffProxies(previous?.backends ?? {}, next.backends, sameBackend);
  const connectionsChanged =
    options.sessions === true &&
    previous !== undefined &&
    previous.process.currentConnections !== next.process.currentConnections;
  const any =
    previous === undefined ||
    processChanged ||
    connectionsChanged ||
    [frontends, backends].some((c) => c.appeared.length + c.vanished.length + c.changed.length > 0);
  return { any, processChanged, connectionsChanged, frontends, backends };
}

function diffProxies<T>(
  before: Readonly<Record<string, T>>,
  after: Readonly<Record<string, T>>,
  same: (a: T, b: T) => boolean,
): ProxyChanges {
  const appeared: string[] = [];
  const changed: string[] = [];
  for (const [name, value] of Object.entries(after)) {
    const old = before[name];
    if (old === undefined) appeared.push(name);
    else if (!same(old, value)) changed.push(name);
  }
  const vanished = Object.keys(before).filter((name) => after[name] === undefined);
  return { appeared, vanished, changed };
}

function sameFrontend(a: FrontendHealth, b: FrontendHealth): boolean {
  return a.up === b.up && a.reason === b.reason;
}

function sameFrontendAndSessions(a: FrontendHealth, b: FrontendHealth): boolean {
  return sameFrontend(a, b) && a.sessions === b.sessions;
}

function sameBackend(a: BackendHealth, b: BackendHealth): boolean {
  if (a.up !== b.up || a.reason !== b.reason || a.serversTotal !== b.serversTotal) return false;
  const as = a.servers ?? {};
  const bs = b.servers ?? {};
  const names = Object.keys(as);
  if (names.length !== Object.keys(bs).length) return false;
  return names.every((n) => {
    const x = as[n];
    const y = bs[n];
    return x !== undefined && y !== undefined && x.status === y.status && x.backup === y.backup;
  });
}
