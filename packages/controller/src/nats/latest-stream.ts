import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { followOrdered } from './ordered-follow.js';

const PULL_BATCH = 1000;

/** A stream keeping one message per subject: the latest of each node (statuses, health reports). */
export interface LatestStreamOptions {
  readonly name: string;
  /** The subjects it keeps, e.g. `rhi.v1.status.*`. */
  readonly subject: string;
  /** Copies in a NATS cluster (1 on a single server, 3 on a cluster of three). */
  readonly replicas: number;
  /** How long a node that stopped publishing keeps its last message in the stream. */
  readonly maxAgeMs: number;
}

/** One message as stored: its subject, bytes and when the server stored it (epoch ms). */
export interface StoredMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly storedAt: number;
  /** Messages of the stream still to come: 0 once the follower has caught up. */
  readonly pending: number;
}

/**
 * Creates the stream, or updates it to `options` (an update keeps what it holds). Idempotent: every
 * replica runs it at start.
 */
export async function ensureLatestStream(nc: NatsConnection, options: LatestStreamOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: options.name,
    subjects: [options.subject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs_per_subject: 1,
    max_age: options.maxAgeMs * 1_000_000,
    num_replicas: options.replicas,
  };
  try {
    await jsm.streams.info(options.name);
    await jsm.streams.update(options.name, config);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add(config);
  }
}

/**
 * Follows the stream from the latest message of every subject on (an ordered consumer, `last per
 * subject`): a cold replica gets every node's latest first, then each message as it is published. The
 * consumer resumes across reconnects, and is made again when the server holding it went down
 * ({@link followOrdered}; `onRestart` says so). `onCaughtUp` is called once, when the stream's messages
 * at the start are all delivered (at once if it held none). Ends when `signal` aborts.
 */
export async function followLatest(
  nc: NatsConnection,
  stream: { readonly name: string; readonly subject: string },
  onMessage: (message: StoredMessage) => void,
  signal: AbortSignal,
  onCaughtUp: () => void = () => undefined,
  onRestart: (reason: string) => void = () => undefined,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  let caughtUp = false;
  const caughtUpNow = () => {
    if (caughtUp) return;
    caughtUp = true;
    onCaughtUp();
  };
  // Pulls of 1,000 (the next one when 750 are left): a fleet's heartbeats cost a pull every 250 messages,
  // not every 25 as with the default of 100.
  await followOrdered(nc, {
    stream: stream.name,
    filter: stream.subject,
    start: 'lastPerSubject',
    maxMessages: PULL_BATCH,
    signal,
    onConsuming: async () => {
      if (!caughtUp && (await jsm.streams.info(stream.name)).state.messages === 0) caughtUpNow();
    },
    onMessage: (m) => {
      const { timestampNanos, pending } = m.info;
      onMessage({
        subject: m.subject,
        data: m.data,
        storedAt: Math.floor(timestampNanos / 1_000_000),
        pending,
      });
      if (pending === 0) caughtUpNow();
    },
    onRestart,
  });
}
