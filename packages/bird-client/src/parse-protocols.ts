import type { BirdReply } from './reply-reader.js';

/** A channel block of `show protocols all`. */
export interface BirdChannel {
  readonly name: string;
  readonly state: string | undefined;
  readonly table: string | undefined;
  readonly imported: number | undefined;
  readonly exported: number | undefined;
  readonly preferred: number | undefined;
  /** BGP channels of an established session: `BGP Next hop:`, the address(es) BIRD sends as next hop. */
  readonly bgpNextHop: readonly string[] | undefined;
}

/** One protocol row of `show protocols [all]`; `details` only with `all`. */
export interface BirdProtocol {
  readonly name: string;
  readonly proto: string;
  /** `---` for protocols without a single table (BGP in BIRD 2). */
  readonly table: string;
  readonly state: string;
  /** BIRD's `timeformat protocol` text; changes whenever the protocol changes state (a BGP reset). */
  readonly since: string;
  readonly info: string;
  readonly details: readonly string[];
  /** From the details: `BGP state:` (e.g. `Established`). */
  readonly bgpState: string | undefined;
  readonly neighborAddress: string | undefined;
  readonly channels: readonly BirdChannel[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseShowProtocols(reply: BirdReply): BirdProtocol[] {
  const rows: { row: string; details: string[] }[] = [];
  for (const line of reply.lines) {
    if (line.code === 1002) rows.push({ row: line.text, details: [] });
    else if (line.code === 1006) rows.at(-1)?.details.push(line.text);
  }
  return rows.map(({ row, details }) =>
    protocol(
      row,
      details.filter((d) => d.trim() !== ''),
    ),
  );
}

function protocol(row: string, details: string[]): BirdProtocol {
  const [name = '', proto = '', table = '', state = '', ...rest] = row.trim().split(/\s+/);
  const sinceParts = rest[0] !== undefined && DATE.test(rest[0]) ? 2 : 1;
  const since = rest.slice(0, sinceParts).join(' ');
  const info = rest.slice(sinceParts).join(' ');
  const detail = (key: string): string | undefined => {
    const found = details.find((d) => d.trimStart().startsWith(key));
    return found?.trimStart().slice(key.length).trim();
  };
  return {
    name,
    proto,
    table,
    state,
    since,
    info,
    details,
    bgpState: detail('BGP state:'),
    neighborAddress: detail('Neighbor address:'),
    channels: channels(details),
  };
}

function channels(details: string[]): BirdChannel[] {
  const result: BirdChannel[] = [];
  let current: { name: string; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const value = (key: string) =>
      current?.lines
        .find((l) => l.startsWith(key))
        ?.slice(key.length)
        .trim();
    const routes = /(\d+) imported, (\d+) exported, (\d+) preferred/.exec(value('Routes:') ?? '');
    result.push({
      name: current.name,
      state: value('State:'),
      table: value('Table:'),
      imported: routes ? Number(routes[1]) : undefined,
      exported: routes ? Number(routes[2]) : undefined,
      preferred: routes ? Number(routes[3]) : undefined,
      bgpNextHop: value('BGP Next hop:')?.split(/\s+/).filter(Boolean),
    });
  };
  for (const raw of details) {
    const line = raw.trim();
    const channel = /^Channel (\S+)$/.exec(line);
    if (channel?.[1]) {
      flush();
      current = { name: channel[1], lines: [] };
    } else current?.lines.push(line);
  }
  flush();
  return result;
}
