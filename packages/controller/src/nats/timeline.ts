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

/** Creates the events stream over `rhi.v1.events.>`, or updates its retention and replicas. Idempotent. */
export async function ensureTimeline(nc: NatsConnection, options: TimelineOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: names.eventsStream,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: options.retentionMs * 1_000_000,
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
  const e = event as { table?: unknown; prefix?: unknown };
  return (
    typeof e.table === 'string' &&
    typeof e.prefix === 'string' &&
    routeId({ table: e.table, prefix: e.prefix }) === vip
  );
}

/**
 * The timeline over JetStream: a query reads the events stream with a short-lived ordered consumer,
 * filtered on the node's subject and started at `since` on the server; the VIP and `until` are checked
 * here (one filter subject per consumer on nats-server 2.9).
 */
export class JetStreamTimeline implements Timeline {
  constructor(private readonly nc: NatsConnection) {}

  async query(q: TimelineQuery): Promise<{ entries: TimelineEntry[]; truncated: boolean }> {
    const js = jetstream(this.nc);
    const consumer = await js.consumers.get(names.eventsStream, {
      filter_subjects: q.node === undefined ? subjects.allEvents : subjects.event(q.node),
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
          if (q.until !== undefined && storedAt > q.until) return { entries, truncated: false };
          const event = parse(m.data);
          if (q.vip !== undefined && !aboutVip(event, q.vip)) continue;
          if (entries.length === q.limit) return { entries, truncated: true };
          entries.push({ seq: m.seq, time: new Date(storedAt).toISOString(), subject: m.subject, event });
          if (pending === 0) break;
        }
        if (got === 0 || pending === 0) return { entries, truncated: false };
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }
}
