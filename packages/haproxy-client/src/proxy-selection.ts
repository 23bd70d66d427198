import type { StatObjectType } from './commands.js';
import { showStatOf } from './commands.js';
import { parseCommandError } from './errors.js';
import type { ProxyNames } from './health.js';
import type { StatRow, StatTable } from './stat-csv.js';
import { parseStat } from './stat-csv.js';

/** One `show stat <proxy or id> <mask> -1` of a selection, and what it must return. */
export interface SelectionQuery {
  readonly proxy: string;
  readonly frontend: boolean;
  readonly backend: boolean;
  readonly command: string;
}

// HAProxy accepts only these characters in proxy names (`invalid_char()` of its config parser).
const PROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/**
 * Proxy ids (`iid`) of requested names, by name, learned from a full read (`selectionIds`). HAProxy
 * selects by name only the first proxy of that name; by id it selects each of a frontend and a backend
 * that share a name.
 */
export type ProxyIds = ReadonlyMap<string, { readonly frontend?: number; readonly backend?: number }>;

/**
 * One query per requested name: a name wanted both as frontend and backend (a `listen` section) is
 * read once with both row types. A name with known `ids` is selected by id, and a frontend and a
 * backend sharing the name by one id each. A name HAProxy could not have (e.g. with a space) gets no
 * query; the snapshot lists it as missing. Pure.
 */
export function selectionQueries(
  proxies: ProxyNames,
  withServers: boolean,
  ids: ProxyIds = new Map(),
): SelectionQuery[] {
  const frontends = new Set(proxies.frontends);
  const backends = new Set(proxies.backends);
  const names = [...new Set([...frontends, ...backends])].filter((name) => PROXY_NAME.test(name));
  const query = (proxy: string, target: string, frontend: boolean, backend: boolean): SelectionQuery => {
    const types: StatObjectType[] = [];
    if (frontend) types.push('frontend');
    if (backend) types.push('backend', ...(withServers ? (['server'] as const) : []));
    return { proxy, frontend, backend, command: showStatOf(target, types) };
  };
  return names.flatMap((proxy) => {
    const frontend = frontends.has(proxy);
    const backend = backends.has(proxy);
    const known = ids.get(proxy);
    const frontendId = frontend ? known?.frontend : undefined;
    const backendId = backend ? known?.backend : undefined;
    if (frontendId !== undefined && backendId !== undefined && frontendId !== backendId) {
      return [query(proxy, String(frontendId), true, false), query(proxy, String(backendId), false, true)];
    }
    const id = frontendId ?? backendId;
    const allKnown = (!frontend || frontendId !== undefined) && (!backend || backendId !== undefined);
    return [query(proxy, id !== undefined && allKnown ? String(id) : proxy, frontend, backend)];
  });
}

/** The ids of the requested proxies found in a `show stat` table (its `iid` column). Pure. */
export function selectionIds(table: StatTable, proxies: ProxyNames): ProxyIds {
  const wanted = new Set([...proxies.frontends, ...proxies.backends]);
  const ids = new Map<string, { frontend?: number; backend?: number }>();
  for (const row of table.rows) {
    if (!wanted.has(row.proxy) || (row.type !== 'frontend' && row.type !== 'backend')) continue;
    const iid = row.iid;
    if (!Number.isInteger(iid) || iid <= 0) continue;
    ids.set(row.proxy, { ...ids.get(row.proxy), [row.type]: iid });
  }
  return ids;
}

/**
 * Joins the replies to `selectionQueries` into one table. `No such proxy.` means HAProxy has no proxy
 * of that name at all, so it is left out (the snapshot lists it as missing). Returns `null` when the
 * replies cannot be trusted to be complete, and the caller must read every proxy instead: a name that
 * selects another proxy (a numeric name is taken as a proxy id) or lacks a wanted row type (a frontend
 * and a backend share the name, and HAProxy selects only the first). Other error replies are thrown. Pure.
 */
export function selectionTable(
  queries: readonly SelectionQuery[],
  replies: readonly string[],
): StatTable | null {
  let columns: StatTable | undefined;
  const rows: StatRow[] = [];
  for (const [i, query] of queries.entries()) {
    const reply = replies[i] ?? '';
    const error = parseCommandError(query.command, reply);
    if (error?.code === 'HAPROXY_UNKNOWN_PROXY') continue;
    if (error) throw error;
    const table = parseStat(reply);
    columns ??= table;
    let frontend = false;
    let backend = false;
    for (const row of table.rows) {
      if (row.proxy !== query.proxy) return null;
      if (row.type === 'frontend') frontend = true;
      else if (row.type === 'backend') backend = true;
      rows.push(row);
    }
    if (frontend !== query.frontend || backend !== query.backend) return null;
  }
  return { columns: columns?.columns ?? [], columnIndex: columns?.columnIndex ?? new Map(), rows };
}
