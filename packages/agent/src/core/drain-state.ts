import type { PersistedDrain } from './state-files.js';

/** Drain and undrain requests, from the admin endpoint or NATS. */
export interface DrainRequest {
  readonly reason?: string;
  readonly waitSessions?: number;
  readonly timeoutMs?: number;
}

/** A drain as the loop takes it. */
export interface DrainOrder {
  readonly reason: string;
  readonly options: { readonly waitSessions?: number; readonly timeoutMs?: number };
}

/** The reason of a drain asked for without one. */
export const DEFAULT_DRAIN_REASON = 'drain requested';
/** The reason of a drain carried over from before a restart whose file has none. */
export const RESTORED_DRAIN_REASON = 'drained before restart';

/** The loop's drain for a request. */
export function drainOrder(request: DrainRequest): DrainOrder {
  return {
    reason: request.reason ?? DEFAULT_DRAIN_REASON,
    options: {
      ...(request.waitSessions === undefined ? {} : { waitSessions: request.waitSessions }),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
    },
  };
}

/**
 * The drain file written once a drain is in force (`reason`) or lifted (undefined); `now` is when. A drain
 * that waits for sessions is persisted as drained: after a restart it withdraws at once.
 */
export function drainRecord(reason: string | undefined, now: Date): PersistedDrain {
  const since = now.toISOString();
  return reason === undefined
    ? { schema: 'rhi.v1.drain', drained: false, since }
    : { schema: 'rhi.v1.drain', drained: true, reason, since };
}

/** The reason to drain with at boot, before the first plan, or null when the node was not drained. */
export function restoredDrainReason(persisted: PersistedDrain | null): string | null {
  return persisted?.drained ? (persisted.reason ?? RESTORED_DRAIN_REASON) : null;
}
