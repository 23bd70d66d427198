import type { HealthSnapshot, ReadHealthOptions } from '@rhi/haproxy-client';
import { HaproxyClient } from '@rhi/haproxy-client';
import { waitFor } from '@rhi/test-support';
import type { MockInstance } from 'vitest';
import { vi } from 'vitest';

/** One HAProxy read of an in-process agent's health feed, stamped with {@link FeedReads} ticks. */
export interface FeedRead {
  readonly started: number;
  ended?: number;
  /** What HAProxy answered, or undefined when the read failed. */
  snapshot?: HealthSnapshot;
}

/**
 * Records the HAProxy reads of every in-process agent's health feed (`HaproxyClient.readHealth` with
 * options; the rule-set check reads without), to wait for "the agent has read and handled HAProxy since
 * X" instead of sleeping. Reads, their ends and `mark()` share one counter, so "after a mark" is exact.
 * The feed handles a read (and hands its event to the loop, synchronously) before it starts the next one,
 * so a read followed by another has been handled. The reads pass through unchanged.
 */
export class FeedReads {
  readonly reads: FeedRead[] = [];
  private tick = 0;
  private readonly spy: MockInstance<HaproxyClient['readHealth']>;

  constructor() {
    const original = HaproxyClient.prototype.readHealth;
    const reads = this.reads;
    const next = () => ++this.tick;
    this.spy = vi.spyOn(HaproxyClient.prototype, 'readHealth').mockImplementation(function (
      this: HaproxyClient,
      options?: ReadHealthOptions,
    ) {
      if (options === undefined) return original.call(this);
      const read: FeedRead = { started: next() };
      reads.push(read);
      return original.call(this, options).then(
        (snapshot) => {
          read.ended = next();
          read.snapshot = snapshot;
          return snapshot;
        },
        (err: unknown) => {
          read.ended = next();
          throw err;
        },
      );
    });
  }

  /** A point in the feed's history: reads that start later come after it. */
  mark(): number {
    return ++this.tick;
  }

  /**
   * Waits until `count` reads that started after `mark` (and that `accept` takes) have been handled by
   * the agent; resolves with them. Only for a feed that is not being replaced by a new rule set's.
   */
  handled(
    what: string,
    mark: number,
    accept: (read: FeedRead) => boolean = () => true,
    count = 1,
  ): Promise<FeedRead[]> {
    return waitFor(`the agent to have read HAProxy ${what}`, () => {
      const done = this.reads.filter(
        (r) =>
          r.started > mark &&
          r.ended !== undefined &&
          accept(r) &&
          this.reads.some((later) => later.started > (r.ended ?? Infinity)),
      );
      return done.length >= count ? done : undefined;
    });
  }

  restore(): void {
    this.spy.mockRestore();
  }
}
