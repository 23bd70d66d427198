import type { Logger } from 'pino';
import type { HaproxyClient } from './client.js';
import { HaproxyError } from './errors.js';
import type { FeedEvent, FeedState } from './feed-state.js';
import type { ProxyNames } from './health.js';
import { feedOnFailure, feedOnRead, INITIAL_FEED_STATE } from './feed-state.js';
import type { RingEvent } from './events.js';
import { patchWithRingEvents } from './ring-patch.js';
import type { Follower } from './transport.js';

const REATTACH_MIN_LIFETIME_MS = 100;
const FAILING_RETRY_MS = 50;

/** Options of `watch`. */
export interface WatchOptions {
  /** Time from the start of one read to the start of the next. Default 250 ms. */
  readonly intervalMs?: number;
  /**
   * How long reads may fail (e.g. during a reload) before `unreachable` is yielded. Default 2000 ms.
   * Reads answered by a stopping worker count as failures. Failed reads are retried every 50 ms at most.
   */
  readonly graceMs?: number;
  /** Read per-server status and counts (default true); false polls only FRONTEND/BACKEND rows. */
  readonly withServers?: boolean;
  /**
   * Poll only these proxies (the ones the rules name); see `ReadHealthOptions.proxies`. Requested names
   * HAProxy lacks are listed in `snapshot.missing`, and a proxy that disappears is in `changes.*.vanished`.
   */
  readonly proxies?: ProxyNames;
  /**
   * Also yield when a frontend's current sessions change (it is then in `changes.frontends.changed`) or the
   * worker's `currentConnections` do (`changes.connectionsChanged`), e.g. while a drain waits for them to
   * fall. A function is asked before every read, so tracking can be turned on only while it is needed.
   * Default false: counters alone are not changes.
   */
  readonly trackSessions?: boolean | (() => boolean);
  /**
   * A `ring` section that receives HAProxy's state-change logs (see the README). When set, the feed
   * follows `show events <ring> -w` and re-reads at once on every event; polling continues as a safety net.
   * An event that says for certain that a backend or frontend went up or down (`ringVerdict`) and arrives
   * while no read is under way is yielded at once, patched into the last snapshot (`SnapshotEvent.ringEvents`),
   * before that re-read confirms it.
   */
  readonly eventsRing?: string;
  /**
   * Told what became of the ring on each worker: HAProxy confirmed it (`following`), or refused it (no
   * such ring, not a ring, the socket's level too low: the feed then polls alone until another worker
   * serves, e.g. after a reload with a fixed config, and tries again there).
   */
  readonly onEventsRing?: (status: EventsRingStatus) => void;
  /** Ends the feed. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Clock, default `Date.now`. */
  readonly now?: () => number;
}

/** What the feed's ring follower found on one worker (see `WatchOptions.onEventsRing`). */
export type EventsRingStatus =
  | { readonly ring: string; readonly pid: number; readonly following: true }
  | { readonly ring: string; readonly pid: number; readonly following: false; readonly error: HaproxyError };

/**
 * The health feed: yields a `snapshot` event for the first read and whenever something relevant changes,
 * and an `unreachable` event when reads have failed for longer than the grace period. Ends when `signal`
 * aborts or the consumer stops iterating.
 */
export async function* watch(client: HaproxyClient, options: WatchOptions = {}): AsyncGenerator<FeedEvent> {
  const intervalMs = options.intervalMs ?? 250;
  const graceMs = options.graceMs ?? 2000;
  const withServers = options.withServers ?? true;
  const now = options.now ?? Date.now;
  const { signal, logger, eventsRing, proxies, onEventsRing } = options;
  const { trackSessions = false } = options;
  const sessionsTracked = (): boolean =>
    typeof trackSessions === 'function' ? trackSessions() : trackSessions;
  const wake = new Wakeup(signal);
  let state: FeedState = INITIAL_FEED_STATE;
  let follower: { follower: Follower; pid: number } | null = null;
  /** The worker that refused the ring: it is not asked again, another worker is. */
  let refusedBy: number | null = null;
  // Ring events that arrived while no read was under way; patchWithRingEvents keeps those stamped after
  // the last read was sent.
  let reading = false;
  let readSentAt = 0;
  const fresh: RingEvent[] = [];

  const attach = (pid: number): void => {
    if (eventsRing === undefined || refusedBy === pid) return;
    if (follower !== null && follower.pid === pid) return;
    // A follower stays on the worker it connected to, and keeps an old worker alive: move it.
    follower?.follower.close();
    const f = client.followEvents(eventsRing, (event) => {
      if (!reading && follower === current) fresh.push(event);
      wake.trigger();
    });
    const current = { follower: f, pid };
    const openedAt = now();
    follower = current;
    // Until HAProxy confirms the ring, a change goes to neither the follower nor the last read: read again
    // once it has (a follower that cannot tell is read after at once).
    if (f.attached === undefined) wake.trigger();
    void f.attached?.then((ok) => {
      if (!ok || follower !== current) return;
      onEventsRing?.({ ring: eventsRing, pid, following: true });
      wake.trigger();
    });
    // HAProxy closed it (idle `stats timeout`, worker stopping), or the connection broke (a reset, the
    // socket gone for a moment): re-read and re-attach now, unless it ends right away every time, in
    // which case the regular poll retries.
    const reattach = (): void => {
      if (follower !== current) return;
      follower = null;
      if (now() - openedAt >= REATTACH_MIN_LIFETIME_MS) wake.trigger();
    };
    f.closed.then(reattach, (err: unknown) => {
      if (
        err instanceof HaproxyError &&
        (err.code === 'HAPROXY_SOCKET_MISSING' || err.code === 'HAPROXY_CONNECTION_FAILED')
      ) {
        reattach();
        return;
      }
      if (follower === current) follower = null;
      if (err instanceof HaproxyError) {
        refusedBy = pid;
        logger?.warn(
          { event: 'haproxyEventsDisabled', op: 'followEvents', pid, err },
          'cannot follow the events ring; polling alone until another worker serves',
        );
        onEventsRing?.({ ring: eventsRing, pid, following: false, error: err });
      }
    });
  };

  try {
    while (signal?.aborted !== true) {
      wake.reset();
      const ringEvents = fresh.splice(0);
      const patched =
        ringEvents.length > 0 && state.last && !state.unreachable && state.failingSince === undefined
          ? patchWithRingEvents(state.last, ringEvents, readSentAt, now())
          : undefined;
      if (patched) {
        // A patch carries the last read's counts: it neither starts nor stops tracking them.
        const step = feedOnRead(state, patched, now(), graceMs, {
          sessions: state.trackingSessions === true,
        });
        state = step.state;
        if (step.event?.type === 'snapshot') yield { ...step.event, ringEvents };
      }
      reading = true;
      readSentAt = now();
      // Asked when the read is sent: a read sent before tracking began says nothing of the counts since,
      // and must not be the first tracked read (which is yielded whatever changed).
      const tracking = sessionsTracked();
      try {
        const snapshot = await client.readHealth({ withServers, ...(proxies && { proxies }) });
        reading = false;
        const step = feedOnRead(state, snapshot, now(), graceMs, { sessions: tracking });
        state = step.state;
        if (step.event) yield step.event;
        if (!snapshot.process.stopping) attach(snapshot.process.pid);
      } catch (err) {
        reading = false;
        if (!(err instanceof HaproxyError)) throw err;
        logger?.debug({ event: 'haproxyReadFailed', op: 'readHealth', err }, 'health read failed');
        const step = feedOnFailure(state, err, now(), graceMs);
        state = step.state;
        if (step.event) {
          logger?.warn({ event: 'haproxyUnreachable', err }, 'HAProxy unreachable');
          yield step.event;
        }
      }
      // Reads start every intervalMs (a read's own time does not stretch the period); while they fail
      // (a reload, most likely), sooner.
      const period = state.failingSince === undefined ? intervalMs : Math.min(intervalMs, FAILING_RETRY_MS);
      await wake.wait(Math.max(0, readSentAt + period - now()));
    }
  } finally {
    (follower as { follower: Follower } | null)?.follower.close();
    wake.dispose();
  }
}

/** A sleep that an event or an abort cuts short; a trigger during a read makes the next wait return at once. */
class Wakeup {
  #triggered = false;
  #resolve: (() => void) | null = null;
  #timer: NodeJS.Timeout | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.trigger();

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort);
  }

  reset(): void {
    this.#triggered = false;
  }

  trigger(): void {
    this.#triggered = true;
    this.#resolve?.();
  }

  wait(ms: number): Promise<void> {
    if (this.#triggered || this.#signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      this.#resolve = () => {
        clearTimeout(this.#timer);
        this.#resolve = null;
        resolve();
      };
      this.#timer = setTimeout(() => this.#resolve?.(), ms);
    });
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
