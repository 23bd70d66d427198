/** `haproxy.eventRing` as the agent reports it (`/status`, NATS, `/healthz`, metrics). */
export interface EventRingStatus {
  readonly name: string;
  /**
   * `pending` until HAProxy has confirmed or refused the ring; `unavailable` while it refuses it (no such
   * ring, not a ring, the socket's level too low): changes are then seen only at the poll interval.
   */
  readonly state: 'pending' | 'following' | 'unavailable';
  /** The worker that last confirmed or refused it. */
  readonly pid?: number;
  /** Why HAProxy refused it, and the error's code (e.g. `HAPROXY_UNKNOWN_RING`). */
  readonly error?: string;
  readonly code?: string;
}

/** What the feed found of the ring on one worker. */
export type EventRingReport =
  | { readonly following: true; readonly pid: number }
  | { readonly following: false; readonly pid: number; readonly code: string; readonly message: string };

/** A change worth telling: the ring lost (detection falls back to polling) or followed again. */
export interface EventRingTransition {
  readonly event: 'eventRingUnavailable' | 'eventRingFollowed';
  readonly reason: string;
}

/** The ring's status before HAProxy has said anything. */
export const pendingRing = (name: string): EventRingStatus => ({ name, state: 'pending' });

/**
 * The ring's new status after a report, and what to tell: `eventRingUnavailable` when HAProxy refuses it
 * (again only if the reason changed), `eventRingFollowed` when it is followed after having been refused.
 * Being followed from the start, or again on a new worker after a reload, is not news. Pure.
 */
export function eventRingStep(
  status: EventRingStatus,
  report: EventRingReport,
  pollIntervalMs: number,
): { status: EventRingStatus; transition?: EventRingTransition } {
  if (report.following) {
    const next: EventRingStatus = { name: status.name, state: 'following', pid: report.pid };
    return status.state === 'unavailable'
      ? {
          status: next,
          transition: {
            event: 'eventRingFollowed',
            reason: `HAProxy's ring '${status.name}' is followed (pid ${report.pid}): changes are acted on at once again`,
          },
        }
      : { status: next };
  }
  const next: EventRingStatus = {
    name: status.name,
    state: 'unavailable',
    pid: report.pid,
    error: report.message,
    code: report.code,
  };
  const told = status.state === 'unavailable' && status.error === report.message;
  return told
    ? { status: next }
    : {
        status: next,
        transition: {
          event: 'eventRingUnavailable',
          reason: `${report.message}: HAProxy's changes are seen only by the poll every ${pollIntervalMs} ms until the ring can be followed (asked again of each new worker, e.g. after a reload)`,
        },
      };
}
