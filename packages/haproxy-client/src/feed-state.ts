import type { HaproxyError } from './errors.js';
import type { RingEvent } from './events.js';
import { HaproxyWorkerStoppingError } from './errors.js';
import type { DiffOptions, HealthSnapshot, SnapshotChanges } from './health.js';
import { diffSnapshots } from './health.js';

/** What the health feed yields. */
export type FeedEvent = SnapshotEvent | UnreachableEvent;

/** A read whose result differs from the previous one (or the first read, or the first after an outage). */
export interface SnapshotEvent {
  readonly type: 'snapshot';
  readonly snapshot: HealthSnapshot;
  /** What changed since the previous yielded snapshot; proxies gone after a reload are in `vanished`. */
  readonly changes: SnapshotChanges;
  /** True for the first snapshot after an `unreachable` event. */
  readonly recovered: boolean;
  /**
   * Set when the snapshot is the last read patched with these events of HAProxy's events ring, yielded
   * before the re-read that confirms it (see `WatchOptions.eventsRing`).
   */
  readonly ringEvents?: readonly RingEvent[];
}

/**
 * HAProxy could not be read for longer than the grace period (reloads shorter than that are absorbed).
 * The agent should fail closed; no further event comes until a read succeeds again.
 */
export interface UnreachableEvent {
  readonly type: 'unreachable';
  /** Epoch ms of the first failed read of this outage. */
  readonly since: number;
  /** The latest failure. */
  readonly error: HaproxyError;
  readonly lastSnapshot?: HealthSnapshot;
}

/** The feed's memory between reads. */
export interface FeedState {
  readonly last?: HealthSnapshot;
  /** Epoch ms of the first failure of the current run of failures. */
  readonly failingSince?: number;
  readonly unreachable: boolean;
  /** The previous read was diffed with the `sessions` option. */
  readonly trackingSessions?: boolean;
}

/** The state before the first read. */
export const INITIAL_FEED_STATE: FeedState = { unreachable: false };

/** Result of feeding one read into the state. */
export interface FeedStep {
  readonly state: FeedState;
  readonly event?: FeedEvent;
}

/**
 * A read succeeded at `now`: yield it when anything relevant changed or when it ends an outage. A read
 * answered by a stopping worker (a reload under way; its frontends show `STOP`) counts as a failure. The
 * first read with the `sessions` option after reads without it is yielded even when nothing changed: the
 * consumer that starts tracking connections learns their current count at once. Pure.
 */
export function feedOnRead(
  state: FeedState,
  snapshot: HealthSnapshot,
  now: number,
  graceMs: number,
  diff: DiffOptions = {},
): FeedStep {
  if (snapshot.process.stopping) {
    return feedOnFailure(state, new HaproxyWorkerStoppingError(snapshot.process.pid), now, graceMs);
  }
  const changes = diffSnapshots(state.last, snapshot, diff);
  const tracking = diff.sessions === true;
  const next: FeedState = {
    last: snapshot,
    unreachable: false,
    ...(tracking ? { trackingSessions: true } : {}),
  };
  const startsTracking = tracking && state.trackingSessions !== true;
  if (!changes.any && !state.unreachable && !startsTracking) return { state: next };
  return { state: next, event: { type: 'snapshot', snapshot, changes, recovered: state.unreachable } };
}

/** A read failed at `now`: report `unreachable` once the failures have lasted `graceMs`. Pure. */
export function feedOnFailure(state: FeedState, error: HaproxyError, now: number, graceMs: number): FeedStep {
  const since = state.failingSince ?? now;
  if (state.unreachable || now - since < graceMs) return { state: { ...state, failingSince: since } };
  const event: UnreachableEvent =
    state.last === undefined
      ? { type: 'unreachable', since, error }
      : { type: 'unreachable', since, error, lastSnapshot: state.last };
  return { state: { ...state, failingSince: since, unreachable: true }, event };
}
