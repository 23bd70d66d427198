import { jetstream as names, subjects } from '@rhi/contracts';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureLatestStream, followLatest, type StoredMessage } from './latest-stream.js';

const ackStream = { name: names.ackStream, subject: subjects.allRuleSetAcks };

/**
 * Creates the acks stream (each node's last `RuleSetAck`: agents publish on core NATS, the stream keeps
 * it for a controller that was away), or updates it. Idempotent.
 */
export async function ensureAckStream(
  nc: NatsConnection,
  options: { readonly replicas: number; readonly maxAgeMs: number },
): Promise<void> {
  await ensureLatestStream(nc, { ...ackStream, ...options });
}

/**
 * Follows the acks stream from every node's last ack on; `onCaughtUp` once those held at the start are
 * delivered. Ends when `signal` aborts.
 */
export async function followAcks(
  nc: NatsConnection,
  onAck: (ack: StoredMessage) => void,
  signal: AbortSignal,
  onCaughtUp?: () => void,
  onRestart?: (reason: string) => void,
): Promise<void> {
  await followLatest(nc, ackStream, onAck, signal, onCaughtUp, onRestart);
}
