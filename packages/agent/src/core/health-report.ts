import type { HealthReport } from '@rhi/contracts';
import { HEALTH_REPORT_MAX_BYTES } from '@rhi/contracts';
import type { ProxyNames } from '@rhi/haproxy-client';
import type { HealthState } from '@rhi/rules-dsl';
import type { HealthEvent } from '../loop/ports.js';

/** A health report without its envelope (node, time, seq): what is compared to publish only changes. */
export type CompactHealth = Omit<HealthReport, 'schema' | 'node' | 'time' | 'seq'>;

/** The longest proxy name a report carries (the contract's); longer ones are left out and counted. */
const MAX_NAME = 256;

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

interface Entry {
  readonly side: 'frontends' | 'backends';
  readonly name: string;
  readonly value: CompactHealth['frontends'][string] | CompactHealth['backends'][string];
}

/** Bytes an entry adds to its map: `"name":{...},`. */
const entryBytes = (e: Entry) => utf8Length(JSON.stringify(e.name)) + utf8Length(JSON.stringify(e.value)) + 2;

/**
 * The compact form of a health event: per frontend `up`, per backend `up` and its usable and total servers
 * (0 of 0 when the agent does not read server rows: no rule has a capacity threshold). When the report
 * would exceed `maxBytes`, proxies are left out and counted in `omitted`: the ones `named` (the rule set
 * in force) first kept, in their order, then the others by name. `node` is the reporting node's name, to
 * size the envelope. Pure.
 */
export function compactHealth(
  reading: HealthEvent,
  named: ProxyNames,
  node: string,
  maxBytes: number = HEALTH_REPORT_MAX_BYTES,
  inventory: ProxyInventory | null = null,
): CompactHealth {
  if (reading.type === 'unreachable')
    return { reachable: false, frontends: {}, backends: {}, omitted: { frontends: 0, backends: 0 } };
  const { state } = reading;
  const entries: Entry[] = [];
  const seen = { frontends: new Set<string>(), backends: new Set<string>() };
  const add = (side: Entry['side'], name: string) => {
    if (seen[side].has(name)) return;
    const source = side === 'frontends' ? state.frontends : state.backends;
    if (!Object.hasOwn(source, name)) return;
    seen[side].add(name);
    const h = source[name]!;
    if (side === 'frontends') {
      entries.push({ side, name, value: { up: h.up } });
      return;
    }
    const b = h as HealthState['backends'][string];
    const total = b.serversTotal ?? 0;
    entries.push({
      side,
      name,
      value: { up: b.up, serversUp: Math.min(b.serversUp ?? 0, total), serversTotal: total },
    });
  };
  for (const name of named.frontends) add('frontends', name);
  for (const name of named.backends) add('backends', name);
  for (const name of Object.keys(state.frontends).sort()) add('frontends', name);
  for (const name of Object.keys(state.backends).sort()) add('backends', name);

  const out: { frontends: CompactHealth['frontends']; backends: CompactHealth['backends'] } = {
    frontends: {},
    backends: {},
  };
  const omitted = { frontends: 0, backends: 0 };
  // The envelope at its largest: the longest seq and omitted counts there can be.
  const envelope: HealthReport = {
    schema: 'rhi.v1.health',
    node,
    time: new Date(0).toISOString(),
    seq: Number.MAX_SAFE_INTEGER,
    reachable: true,
    ...(reading.pid === undefined ? {} : { pid: reading.pid }),
    frontends: {},
    backends: {},
    omitted: { frontends: Number.MAX_SAFE_INTEGER, backends: Number.MAX_SAFE_INTEGER },
  };
  let budget = maxBytes - utf8Length(JSON.stringify(envelope));
  let full = false;
  for (const e of entries) {
    const cost = entryBytes(e);
    if (full || e.name.length === 0 || e.name.length > MAX_NAME || cost > budget) {
      // Once one does not fit, none after it is kept: a named proxy is never dropped for an unnamed one.
      if (cost > budget) full = true;
      omitted[e.side]++;
      continue;
    }
    budget -= cost;
    (out[e.side] as Record<string, Entry['value']>)[e.name] = e.value;
  }
  // The inventory goes with the worker it was read from, and only whole, where it fits.
  let proxies: CompactHealth['proxies'];
  const valid = (n: string) => n.length > 0 && n.length <= MAX_NAME;
  if (
    inventory &&
    reading.pid !== undefined &&
    inventory.pid === reading.pid &&
    inventory.frontends.every(valid) &&
    inventory.backends.every(valid)
  ) {
    const list = { frontends: [...inventory.frontends], backends: [...inventory.backends] };
    if (utf8Length(JSON.stringify(list)) + 12 <= budget) proxies = list;
  }
  return {
    reachable: true,
    ...(reading.pid === undefined ? {} : { pid: reading.pid }),
    ...out,
    omitted,
    ...(proxies ? { proxies } : {}),
  };
}

/** Every proxy of one HAProxy worker, by name, as its last full read saw them. */
export interface ProxyInventory {
  readonly pid: number;
  readonly frontends: readonly string[];
  readonly backends: readonly string[];
}

/** The report (`rhi.v1.health`) of a compact health. Pure. */
export function healthReport(node: string, body: CompactHealth, seq: number, now: number): HealthReport {
  return { schema: 'rhi.v1.health', node, time: new Date(now).toISOString(), seq, ...body };
}
