import { subjects, jetstream as names } from '@rhi/contracts';
import { DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** How the status stream is kept. */
export interface StatusStreamOptions {
  /** Copies in a NATS cluster (1 on a single server, 3 on a cluster of three). */
  readonly replicas: number;
  /** How long a node that stopped reporting keeps its last status in the stream. */
  readonly maxAgeMs: number;
}

/** One status message as stored: its subject, bytes and when the server stored it (epoch ms). */
export interface StoredStatus {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly storedAt: number;
  /** Messages of the stream still to come: 0 once the follower has caught up. */
  readonly pending: number;
}

/**
 * Creates the status stream, or updates it to `options` (an update keeps what it holds). Idempotent:
 * every replica runs it at start.
 */
export async function ensureStatusStream(nc: NatsConnection, options: StatusStreamOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: names.statusStream,
    subjects: [subjects.allStatus],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs_per_subject: 1,
    max_age: options.maxAgeMs * 1_000_000,
    num_replicas: options.replicas,
  };
  try {
    await jsm.streams.info(names.statusStream);
    await jsm.streams.update(names.statusStream, config);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add(config);
  }
}

/**
 * Follows the status stream from the latest status of every node on (an ordered consumer, `last per
 * subject`): a cold replica gets the whole fleet from JetStream first, then each status as it is
 * published. The consumer resumes by itself across reconnects. Ends when `signal` aborts.
 */
export async function followStatuses(
  nc: NatsConnection,
  onStatus: (status: StoredStatus) => void,
  signal: AbortSignal,
): Promise<void> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(names.statusStream, {
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subjects: subjects.allStatus,
  });
  const messages = await consumer.consume();
  const stop = () => void messages.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages) {
      onStatus({
        subject: m.subject,
        data: m.data,
        storedAt: Math.floor(m.info.timestampNanos / 1_000_000),
        pending: m.info.pending,
      });
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
