import { DeliverPolicy, jetstream, type Consumer, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Each pull of a follower lasts this long, with the server's heartbeats every half of it: a follower
 * whose consumer went with a server (a cluster member down, the quorum lost and back) misses two and is
 * made again within seconds, not the 30 s of the client's default.
 */
export const PULL_EXPIRES_MS = 5000;
/** How often a follower asks its consumer's info, and how long it waits for it. */
export const WATCHDOG_MS = 5000;
const WATCHDOG_TIMEOUT_MS = 3000;

/** What {@link followOrdered} follows, from where, and what it calls back. */
export interface OrderedFollow {
  readonly stream: string;
  readonly filter: string;
  /** Where the first consumer starts: every subject's last message, or a stream sequence. */
  readonly start: 'lastPerSubject' | { readonly seq: number };
  readonly maxMessages?: number;
  readonly onMessage: (m: JsMsg) => void;
  /** After each consumer is made (the first, and each one made again), e.g. to see whether it is caught up. */
  readonly onConsuming?: (consumer: Consumer) => Promise<void> | void;
  /** The consumer stalled or failed and is made again from the next sequence. */
  readonly onRestart?: (reason: string) => void;
  readonly signal: AbortSignal;
}

/**
 * Follows a stream with an ordered consumer, and makes it again, from the sequence after the last one
 * delivered, when it stops answering. nats.js recovers an ordered consumer when the server says it is
 * gone, but not when the server holding it went down in a cluster: its info then times out, and the
 * client asks again forever while delivering nothing (seen on 2.9.10 with one of three servers down).
 * Ends when `signal` aborts.
 */
export async function followOrdered(nc: NatsConnection, f: OrderedFollow): Promise<void> {
  const js = jetstream(nc, { timeout: WATCHDOG_TIMEOUT_MS });
  let next: number | null = typeof f.start === 'object' ? f.start.seq : null;
  while (!f.signal.aborted && !nc.isClosed()) {
    let restart: string | null = null;
    try {
      const consumer = await js.consumers.get(f.stream, {
        filter_subjects: f.filter,
        ...(next === null
          ? { deliver_policy: DeliverPolicy.LastPerSubject }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next }),
      });
      const messages = await consumer.consume({
        expires: PULL_EXPIRES_MS,
        ...(f.maxMessages === undefined ? {} : { max_messages: f.maxMessages }),
      });
      const stop = () => void messages.close();
      f.signal.addEventListener('abort', stop, { once: true });
      if (f.signal.aborted) stop();
      let asking = false;
      const watchdog = setInterval(() => {
        if (asking) return;
        asking = true;
        consumer
          .info()
          .catch((err: unknown) => {
            restart = `its consumer does not answer (${(err as Error).message})`;
            stop();
          })
          .finally(() => {
            asking = false;
          });
      }, WATCHDOG_MS);
      try {
        await f.onConsuming?.(consumer);
        for await (const m of messages) {
          next = m.seq + 1;
          f.onMessage(m);
        }
      } finally {
        clearInterval(watchdog);
        f.signal.removeEventListener('abort', stop);
      }
    } catch (err) {
      if (f.signal.aborted || nc.isClosed()) return;
      restart = (err as Error).message;
    }
    if (restart === null) return;
    f.onRestart?.(restart);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
