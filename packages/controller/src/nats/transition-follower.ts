import { jetstream as names, subjects } from '@rhi/contracts';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseRouteTransition } from '../fleet/transitions.js';
import { followOrdered } from './ordered-follow.js';

const decoder = new TextDecoder();

/**
 * The first sequence of the events stream stored at or after `since` (one past the last if none): read
 * from the `delivered` cursor of a consumer created at that start time, then deleted.
 */
async function firstSeqSince(nc: NatsConnection, since: number): Promise<number> {
  const probe = await jetstream(nc).consumers.get(names.eventsStream, {
    filter_subjects: subjects.allNodeEvents,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(since).toISOString(),
  });
  const info = await probe.info(true);
  await probe.delete().catch(() => undefined);
  return info.delivered.stream_seq + 1;
}

/**
 * Follows the agents' events in the events stream (`rhi.v1.events.*`: not the controller's alert events)
 * from those stored at `since` on, and calls `onTransition` with the node, the route and the stored time (epoch ms)
 * of each route transition; other events and malformed messages count for nothing. An ordered consumer
 * ({@link followOrdered}): it resumes across reconnects and server losses, delivering each message once. `onCaughtUp`
 * is called once, when what the stream held at the start is delivered (at once if nothing). Ends when
 * `signal` aborts.
 */
export async function followTransitions(
  nc: NatsConnection,
  since: number,
  onTransition: (node: string, route: string, storedAt: number) => void,
  signal: AbortSignal,
  onCaughtUp: () => void = () => undefined,
  onRestart: (reason: string) => void = () => undefined,
): Promise<void> {
  // The consumer starts at a sequence, not a time: nats.js recreates an ordered consumer from its
  // config with a start sequence, which nats-server refuses beside an `opt_start_time`, forever.
  let caughtUp = false;
  const caughtUpNow = () => {
    if (caughtUp) return;
    caughtUp = true;
    onCaughtUp();
  };
  await followOrdered(nc, {
    stream: names.eventsStream,
    filter: subjects.allNodeEvents,
    start: { seq: await firstSeqSince(nc, since) },
    signal,
    onConsuming: async (consumer) => {
      if (!caughtUp && (await consumer.info(true)).num_pending === 0) caughtUpNow();
    },
    onMessage: (m) => {
      const t = parseRouteTransition(m.subject, decoder.decode(m.data));
      if (t !== null) onTransition(t.node, t.route, Math.floor(m.info.timestampNanos / 1_000_000));
      if (m.info.pending === 0) caughtUpNow();
    },
    onRestart,
  });
}
