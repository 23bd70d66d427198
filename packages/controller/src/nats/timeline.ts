import { jetstream as names, routeId, subjects } from '@rhi/contracts';
import { DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Timeline, TimelineEntry, TimelineQuery } from '../ports.js';

/** How the event timeline is kept. */
export interface TimelineOptions {
  readonly replicas: number;
  /** How long events are kept (the stream's `max_age`). */
  readonly retentionMs: number;
}

/** The events stream's de-duplication window: a lease's TTL must be shorter. */
export const DEDUP_WINDOW_MS = 120_000;

/** Creates the events stream over `rhi.v1.events.>`, or updates its retention and replicas. Idempotent. */
export async function ensureTimeline(nc: NatsConnection, options: TimelineOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: names.eventsStream,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: options.retentionMs * 1_000_000,
    // The window in which `Nats-Msg-Id` de-duplicates (alert events): longer than a lease takeover.
    duplicate_window: Math.min(DEDUP_WINDOW_MS, options.retentionMs) * 1_000_000,
    num_replicas: options.replicas,
  };
  try {
    await jsm.streams.info(names.eventsStream);
    await jsm.streams.update(names.eventsStream, config);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add(config);
  }
}

const BATCH = 500;
const decoder = new TextDecoder();

function parse(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    return { invalid: decoder.decode(data).slice(0, 200) };
  }
}

function aboutVip(event: unknown, vip: string): boolean {
  const e = event as { table?: unknown; prefix?: unknown; vip?: unknown };
  if (e.vip === vip) return true;
  return (
    typeof e.table === 'string' &&
    typeof e.prefix === 'string' &&
    routeId({ table: e.table, prefix: e.prefix }) === vip
  );
}

const aboutNode = (event: unknown, node: string) => (event as { node?: unknown }).node === node;

/**
 * The timeline over JetStream: a query reads the events stream with short-lived ordered consumers started
 * at `since` on the server, one per filter subject (nats-server 2.9 allows one per consumer): the node's
 * own events, and the controller's alert events about it, merged in stream order. The VIP, an alert's node
 * and `until` are checked here.
 */
export class JetStreamTimeline implements Timeline {
  constructor(private readonly nc: NatsConnection) {}

  async query(q: TimelineQuery): Promise<{ entries: TimelineEntry[]; truncated: boolean }> {
    const keep = (event: unknown) => q.vip === undefined || aboutVip(event, q.vip);
    const reads =
      q.node === undefined
        ? [this.read(subjects.allEvents, q, keep)]
        : [
            this.read(subjects.event(q.node), q, keep),
            this.read(subjects.alertEvents, q, (e) => aboutNode(e, q.node!) && keep(e)),
          ];
    const entries = (await Promise.all(reads)).flat().sort((a, b) => a.seq - b.seq);
    return { entries: entries.slice(0, q.limit), truncated: entries.length > q.limit };
  }

  /** Up to `limit + 1` entries on `filter` passing `keep`, oldest first. */
  private async read(
    filter: string,
    q: TimelineQuery,
    keep: (event: unknown) => boolean,
  ): Promise<TimelineEntry[]> {
    const js = jetstream(this.nc);
    const consumer = await js.consumers.get(names.eventsStream, {
      filter_subjects: filter,
      ...(q.since === undefined
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(q.since).toISOString() }),
    });
    const entries: TimelineEntry[] = [];
    try {
      for (;;) {
        const batch = await consumer.fetch({ max_messages: BATCH, expires: 1000 });
        let got = 0;
        let pending = 0;
        for await (const m of batch) {
          got++;
          pending = m.info.pending;
          const storedAt = Math.floor(m.info.timestampNanos / 1_000_000);
          if (q.until !== undefined && storedAt > q.until) return entries;
          const event = parse(m.data);
          if (!keep(event)) {
            if (pending === 0) break;
            continue;
          }
          entries.push({ seq: m.seq, time: new Date(storedAt).toISOString(), subject: m.subject, event });
          if (entries.length > q.limit || pending === 0) break;
        }
        if (got === 0 || pending === 0 || entries.length > q.limit) return entries;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }
}
