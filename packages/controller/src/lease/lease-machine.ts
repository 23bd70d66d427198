/** How a lease is kept: its time to live (the bucket's TTL) and how often it is renewed and tried. */
export interface LeaseTiming {
  /** The lease bucket's TTL: an unrenewed lease is free this long after its last write. */
  readonly ttlMs: number;
  /** The holder renews this long after its last write. Default 0.75 TTL. */
  readonly renewMs?: number;
  /** A replica without the lease tries to take it this often. Default TTL / 4. */
  readonly retryMs?: number;
}

/** What the I/O shell should do now: try to take the lease, renew it, or wait until `until`. */
export type LeaseStep =
  | { readonly do: 'create' }
  | { readonly do: 'update'; readonly revision: number }
  | { readonly do: 'wait'; readonly until: number };

/** A change of who holds the lease, as this replica sees it. */
export type LeaseChange =
  | { readonly kind: 'acquired'; readonly revision: number }
  | { readonly kind: 'lost'; readonly reason: string };

type State =
  | { readonly held: false; readonly nextTryAt: number }
  | { readonly held: true; readonly revision: number; readonly writtenAt: number };

/**
 * The lease of one replica, without I/O: the shell asks {@link next} what to do, does it on the KV bucket
 * and reports the outcome. Times are those at which the shell *sent* its write, so that the holder's idea
 * of its lease never outlives the server's. A holder steps down the moment a renewal fails, or when its
 * lease would have expired before a renewal came back.
 */
export class LeaseMachine {
  private state: State;
  private readonly renewMs: number;
  private readonly retryMs: number;

  /** `firstTryAt`: when to try first (a newcomer waits a random splay, chosen by the shell). */
  constructor(
    private readonly timing: LeaseTiming,
    firstTryAt: number,
  ) {
    if (!(timing.ttlMs > 0)) throw new RangeError(`lease ttlMs must be positive, got ${timing.ttlMs}`);
    this.renewMs = timing.renewMs ?? Math.floor(timing.ttlMs * 0.75);
    this.retryMs = timing.retryMs ?? Math.max(1, Math.floor(timing.ttlMs / 4));
    if (this.renewMs >= timing.ttlMs)
      throw new RangeError(`lease renewMs (${this.renewMs}) must be below ttlMs (${timing.ttlMs})`);
    this.state = { held: false, nextTryAt: firstTryAt };
  }

  /** Whether this replica holds the lease at `now` (held, and not past its TTL on this clock). */
  holds(now: number): boolean {
    return this.state.held && now < this.state.writtenAt + this.timing.ttlMs;
  }

  /** The revision of the lease entry while held (a fencing token: it only grows), else null. */
  get revision(): number | null {
    return this.state.held ? this.state.revision : null;
  }

  /** What to do at `now`; a lease that expired unrenewed is given up first (`lost`). */
  next(now: number): { step: LeaseStep; change: LeaseChange | null } {
    const s = this.state;
    if (s.held) {
      if (now >= s.writtenAt + this.timing.ttlMs) {
        this.state = { held: false, nextTryAt: now + this.retryMs };
        return {
          step: { do: 'wait', until: now + this.retryMs },
          change: { kind: 'lost', reason: `not renewed within its ${this.timing.ttlMs} ms TTL` },
        };
      }
      const renewAt = s.writtenAt + this.renewMs;
      return {
        step: now >= renewAt ? { do: 'update', revision: s.revision } : { do: 'wait', until: renewAt },
        change: null,
      };
    }
    return { step: now >= s.nextTryAt ? { do: 'create' } : { do: 'wait', until: s.nextTryAt }, change: null };
  }

  /** The create sent at `sentAt` succeeded with `revision`: the lease is ours. */
  created(revision: number, sentAt: number): LeaseChange {
    this.state = { held: true, revision, writtenAt: sentAt };
    return { kind: 'acquired', revision };
  }

  /** The create sent at `sentAt` failed (another replica holds the lease, or NATS is away). */
  createFailed(sentAt: number): void {
    if (!this.state.held) this.state = { held: false, nextTryAt: sentAt + this.retryMs };
  }

  /** The renewal sent at `sentAt` succeeded with the entry's new `revision`. */
  renewed(revision: number, sentAt: number): void {
    if (this.state.held) this.state = { held: true, revision, writtenAt: sentAt };
  }

  /** The renewal sent at `sentAt` failed: step down at once. */
  renewFailed(sentAt: number, reason: string): LeaseChange | null {
    if (!this.state.held) return null;
    this.state = { held: false, nextTryAt: sentAt + this.retryMs };
    return { kind: 'lost', reason: `renewal failed: ${reason}` };
  }

  /** Gives the lease up (the shell deletes the entry); tries again after `retryMs` unless stopped. */
  release(now: number): LeaseChange | null {
    if (!this.state.held) return null;
    this.state = { held: false, nextTryAt: now + this.retryMs };
    return { kind: 'lost', reason: 'released' };
  }
}
