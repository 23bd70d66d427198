import type { FeedEvent, HaproxyClient, SnapshotEvent, WatchOptions } from '../../src/index.js';
import { watch } from '../../src/index.js';

export const isSnapshot = (e: FeedEvent): e is SnapshotEvent => e.type === 'snapshot';

/** A predicate for `FeedRecorder.until`: a snapshot event that passes `test`. */
export const snapshotWhere =
  (test: (e: SnapshotEvent) => boolean) =>
  (e: FeedEvent): e is SnapshotEvent =>
    isSnapshot(e) && test(e);

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
