import type { BirdInstance } from './daemons.js';

/** Updates and withdraws counted on one side of a BGP channel. */
export interface BgpRouteCounts {
  readonly updates: number;
  readonly withdraws: number;
}

/**
 * One channel's `Route change stats` from BIRD 2's `show protocols all <bgp>`. BIRD zeroes them when the
 * channel comes up again, so they count since the session was last established.
 */
export interface BgpChannelStats {
  /** `ipv4`, `ipv6`. */
  readonly channel: string;
  /** What the neighbour sent: the `received` column of `Import updates` / `Import withdraws`. */
  readonly imported: BgpRouteCounts;
  /** What was sent to the neighbour: the `accepted` column of `Export updates` / `Export withdraws`. */
  readonly exported: BgpRouteCounts;
}

/**
 * Parses the channels of a `show protocols all <bgp>` reply (raw or as birdc prints it). A row reads
 * `Import updates:  <received> <rejected> <filtered> <ignored> <accepted>`, `---` where BIRD has no count.
 */
export function parseBgpChannelStats(text: string): BgpChannelStats[] {
  const channels: BgpChannelStats[] = [];
  for (const section of text.split(/^(?:\d{4}-)?\s*Channel (?=\S+\s*$)/m).slice(1)) {
    const channel = /^\S+/.exec(section)?.[0] ?? '';
    const row = (name: string): string[] => {
      const found = new RegExp(`^\\s*${name}:\\s+(.*)$`, 'm').exec(section)?.[1];
      const cells = found?.trim().split(/\s+/) ?? [];
      if (cells.length !== 5) throw new Error(`no '${name}' row for channel ${channel} in:\n${text}`);
      return cells;
    };
    const count = (name: string, column: number): number => {
      const value = Number(row(name)[column]);
      if (!Number.isInteger(value))
        throw new Error(`'${name}' of channel ${channel} has no count in column ${column}`);
      return value;
    };
    channels.push({
      channel,
      imported: { updates: count('Import updates', 0), withdraws: count('Import withdraws', 0) },
      exported: { updates: count('Export updates', 4), withdraws: count('Export withdraws', 4) },
    });
  }
  if (channels.length === 0) throw new Error(`no channels in:\n${text}`);
  return channels;
}

/** The route change counters of every channel of the BGP protocol `protocol`, keyed by channel name. */
export async function bgpChannelStats(
  bird: Pick<BirdInstance, 'command'>,
  protocol: string,
): Promise<Record<string, BgpChannelStats>> {
  const stats = parseBgpChannelStats(await bird.command(`show protocols all ${protocol}`));
  return Object.fromEntries(stats.map((s) => [s.channel, s]));
}
