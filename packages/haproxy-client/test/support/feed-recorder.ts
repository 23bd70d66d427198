import type { FeedEvent, Follower, HealthSnapshot, ReadHealthOptions, RingEvent } from '../../src/index.js';
import type { SnapshotEvent, WatchOptions } from '../../src/index.js';
import { HaproxyClient, watch } from '../../src/index.js';
import { waitFor } from '@rhi/test-support';

export const isSnapshot = (e: FeedEvent): e is SnapshotEvent => e.type === 'snapshot';

/** A predicate for `FeedRecorder.until`: a snapshot event that passes `test`. */
export const snapshotWhere =
  (test: (e: SnapshotEvent) => boolean) =>
  (e: FeedEvent): e is SnapshotEvent =>
    isSnapshot(e) && test(e);

/**
 * A client that counts what the feed does with it: reads completed and under way, and event followers
 * opened. Tests wait on these instead of sleeping: "ten more reads and no event" is an absence that a slow
 * machine cannot fake.
 */
export class CountingClient extends HaproxyClient {
  reads = 0;
  readsInFlight = 0;
  follows = 0;

  override async readHealth(options?: ReadHealthOptions): Promise<HealthSnapshot> {
    this.readsInFlight++;
    try {
      return await super.readHealth(options);
    } finally {
      this.readsInFlight--;
      this.reads++;
    }
  }

  /** Followers HAProxy has confirmed and not yet closed. */
  following = 0;

  override followEvents(ring: string, onEvent: (event: RingEvent) => void): Follower {
    this.follows++;
    const follower = super.followEvents(ring, onEvent);
    void follower.attached?.then((ok) => {
      if (!ok) return;
      this.following++;
      const done = (): void => void this.following--;
      follower.closed.then(done, done);
    });
    return follower;
  }

  /** Resolves once a follower is attached: from then on a change reaches the feed through the ring. */
  async untilFollowing(timeoutMs?: number): Promise<void> {
    await waitFor('a follower attached', () => (this.following > 0 ? true : undefined), timeoutMs, 5);
  }

  /** Resolves once `count` more reads have completed (the feed has looked, and looked again). */
  async moreReads(count: number, timeoutMs?: number): Promise<void> {
    const target = this.reads + count;
    await waitFor(`${count} more reads`, () => (this.reads >= target ? true : undefined), timeoutMs, 5);
  }
}

/** Runs `watch()` in the background and records every event, for tests to wait on. */
export class FeedRecorder {
  readonly events: FeedEvent[] = [];
  readonly #controller = new AbortController();
  readonly #done: Promise<void>;
  #notify: (() => void) | null = null;

  constructor(client: HaproxyClient, options: Omit<WatchOptions, 'signal'>) {
    this.#done = (async () => {
      for await (const event of watch(client, { ...options, signal: this.#controller.signal })) {
        this.events.push(event);
        this.#notify?.();
      }
    })();
  }

  /** Index of the next event, to wait only for events after this point. */
  mark(): number {
    return this.events.length;
  }

  /** The first event from `from` on that matches, waiting for it at most `timeoutMs`. */
  async until<T extends FeedEvent>(
    what: string,
    match: (e: FeedEvent) => e is T,
    from = 0,
    timeoutMs = 10_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found as T;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.slice(from))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#done;
  }
}
