import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, QueuedIterator, Status } from '@nats-io/transport-node';
import type { StoredMessage } from './latest-stream.js';
import { PULL_EXPIRES_MS } from './ordered-follow.js';

const PULL_BATCH = 1000;

/** One message of {@link followLatestThenLive}: `replayed` when read from the stream, not live. */
export interface LatestOrLive extends StoredMessage {
  readonly replayed: boolean;
}

/** How long one read of the stream may take before it is given up (a cluster member went down under it). */
export const READ_TIMEOUT_MS = 10_000;

/**
 * Reads the latest message of every subject the stream holds, up to its last message at the start, then
 * closes the consumer. Returns how many were read; throws when the read took over `timeoutMs`.
 */
export async function readLatest(
  nc: NatsConnection,
  stream: { readonly name: string; readonly subject: string },
  onMessage: (message: LatestOrLive) => void,
  signal: AbortSignal,
  timeoutMs = READ_TIMEOUT_MS,
): Promise<number> {
  const overdue = AbortSignal.timeout(timeoutMs);
  const jsm = await jetstreamManager(nc, { timeout: Math.min(timeoutMs, 5000) });
  const { last_seq: lastSeq, messages: held } = (await jsm.streams.info(stream.name)).state;
  if (held === 0 || signal.aborted) return 0;
  const consumer = await jetstream(nc).consumers.get(stream.name, {
    deliver_policy: DeliverPolicy.LastPerSubject,
    filter_subjects: stream.subject,
  });
  const messages = await consumer.consume({ max_messages: PULL_BATCH, expires: PULL_EXPIRES_MS });
  const stop = () => void messages.close();
  signal.addEventListener('abort', stop, { once: true });
  overdue.addEventListener('abort', stop, { once: true });
  let read = 0;
  try {
    for await (const m of messages) {
      const { timestampNanos, pending } = m.info;
      const storedAt = Math.floor(timestampNanos / 1_000_000);
      onMessage({ subject: m.subject, data: m.data, storedAt, pending, replayed: true });
      read++;
      if (m.seq >= lastSeq || pending === 0) break;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    overdue.removeEventListener('abort', stop);
    await messages.close();
  }
  if (overdue.aborted && !signal.aborted)
    throw new Error(`reading ${stream.name} took over ${timeoutMs} ms (${read} read)`);
  return read;
}

/** What {@link followLatestThenLive} calls back. */
export interface LatestThenLiveHandlers {
  readonly onMessage: (message: LatestOrLive) => void;
  /** Once, after the first read of the stream. */
  readonly onCaughtUp?: () => void;
  /** A read of the stream after a reconnect failed; the live messages go on, the next reconnect reads again. */
  readonly onReadFailed?: (err: unknown) => void;
}

/**
 * For a stream of high rate whose every message only needs its latest (heartbeats): the latest of every
 * subject from JetStream, then each new one as core NATS delivers it (a JetStream consumer costs the
 * client about twice as much per message), and the stream read again after each reconnect for what was
 * published meanwhile. The live subscription starts first, so nothing falls between the two; a message
 * read twice or out of order is the reader's to judge (by time and seq). Live messages are `storedAt` their
 * arrival. Ends when `signal` aborts or the connection closes.
 */
export async function followLatestThenLive(
  nc: NatsConnection,
  stream: { readonly name: string; readonly subject: string },
  handlers: LatestThenLiveHandlers,
  signal: AbortSignal,
): Promise<void> {
  const { onMessage } = handlers;
  const live = nc.subscribe(stream.subject, {
    callback: (err, m) => {
      if (!err)
        onMessage({ subject: m.subject, data: m.data, storedAt: Date.now(), pending: 0, replayed: false });
    },
  });
  // The client's status iterator can be stopped (the type says less): an abort ends the loop at once.
  const statuses = nc.status() as AsyncIterable<Status> & Partial<Pick<QueuedIterator<Status>, 'stop'>>;
  const stop = () => {
    live.unsubscribe();
    statuses.stop?.();
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    // The first read is retried until it succeeds: the view waits for it before asking nodes for statuses.
    for (;;) {
      try {
        await readLatest(nc, stream, onMessage, signal);
        break;
      } catch (err) {
        if (signal.aborted || nc.isClosed()) return;
        handlers.onReadFailed?.(err);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    handlers.onCaughtUp?.();
    for await (const s of statuses) {
      if (s.type !== 'reconnect') continue;
      await readLatest(nc, stream, onMessage, signal).catch((err: unknown) => handlers.onReadFailed?.(err));
    }
  } finally {
    signal.removeEventListener('abort', stop);
    if (!live.isClosed()) live.unsubscribe();
  }
}
