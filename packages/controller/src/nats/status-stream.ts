import { jetstream as names, subjects } from '@rhi/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureLatestStream, followLatest, type StoredMessage } from './latest-stream.js';
import { followLatestThenLive, type LatestThenLiveHandlers } from './latest-then-live.js';

/** How the status stream is kept. */
export interface StatusStreamOptions {
  /** Copies in a NATS cluster (1 on a single server, 3 on a cluster of three). */
  readonly replicas: number;
  /** How long a node that stopped reporting keeps its last status in the stream. */
  readonly maxAgeMs: number;
}

/** One status message as stored. */
export type StoredStatus = StoredMessage;

const statusStream = { name: names.statusStream, subject: subjects.allStatus };

/** Creates the status stream (one message per node), or updates it to `options`. Idempotent. */
export async function ensureStatusStream(nc: NatsConnection, options: StatusStreamOptions): Promise<void> {
  await ensureLatestStream(nc, { ...statusStream, ...options });
}

/**
 * Follows the status stream from the latest status of every node on: a cold replica gets the whole fleet
 * from JetStream first, then each status as it is published. Ends when `signal` aborts.
 */
export async function followStatuses(
  nc: NatsConnection,
  onStatus: (status: StoredStatus) => void,
  signal: AbortSignal,
  onCaughtUp?: () => void,
  onRestart?: (reason: string) => void,
): Promise<void> {
  await followLatest(nc, statusStream, onStatus, signal, onCaughtUp, onRestart);
}

const heartbeatStream = { name: names.heartbeatStream, subject: subjects.allHeartbeats };

/** Creates the heartbeat stream (the latest heartbeat per node: when it was last heard), or updates it. */
export async function ensureHeartbeatStream(nc: NatsConnection, options: StatusStreamOptions): Promise<void> {
  await ensureLatestStream(nc, { ...heartbeatStream, ...options });
}

/**
 * Follows the heartbeats: the latest of every node from the heartbeat stream (a cold replica knows at once
 * when each node was last heard), then live over core NATS (see {@link followLatestThenLive}). Ends when
 * `signal` aborts.
 */
export async function followHeartbeats(
  nc: NatsConnection,
  handlers: LatestThenLiveHandlers,
  signal: AbortSignal,
): Promise<void> {
  await followLatestThenLive(nc, heartbeatStream, handlers, signal);
}

const healthStream = { name: names.healthStream, subject: subjects.allHealth };

/** Creates the health stream (the latest `HealthReport` per node), or updates it. Idempotent. */
export async function ensureHealthStream(nc: NatsConnection, options: StatusStreamOptions): Promise<void> {
  await ensureLatestStream(nc, { ...healthStream, ...options });
}

/** Follows the health stream from the latest report of every node on. Ends when `signal` aborts. */
export async function followHealth(
  nc: NatsConnection,
  onReport: (report: StoredMessage) => void,
  signal: AbortSignal,
  onRestart?: (reason: string) => void,
): Promise<void> {
  await followLatest(nc, healthStream, onReport, signal, undefined, onRestart);
}
