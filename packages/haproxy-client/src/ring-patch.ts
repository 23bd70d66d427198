import type { RingEvent } from './events.js';
import type { BackendHealth, FrontendHealth, HealthSnapshot } from './health.js';

/** What one ring line says for certain about a proxy's health. */
export interface RingVerdict {
  readonly kind: 'backend' | 'frontend';
  readonly proxy: string;
  readonly up: boolean;
}

// After every server transition HAProxy prints the backend's usable (non-zero weight) servers; its BACKEND
// row says UP exactly when there is one: "... 0 active and 1 backup servers left. Running on backup.".
const SERVER_COUNTS =
  /^(?:Backup )?Server ([^/\s]+)\/\S+ .*?\b(\d+) active and (\d+) backup servers (?:left|online)\./;
const NO_SERVER = /^backend (\S+) has no server available!$/;
const FRONTEND = /^(Paused|Resumed) frontend (\S+)\.$/;

/**
 * What a line of HAProxy's events ring says for certain about a backend or frontend, or undefined. Only
 * these forms count (checked against `show stat` in test/fixtures/ring-transitions.json): a server line
 * with HAProxy's usable-server counts, `backend X has no server available!`, `Paused`/`Resumed frontend
 * X.`. Lines without counts (`UP (leaving forced drain)`, `UP/READY (leaving forced maintenance)`) and
 * weight changes (not logged at all) are left to the next read. Pure.
 */
export function ringVerdict(event: RingEvent): RingVerdict | undefined {
  const { message } = event;
  const counts = SERVER_COUNTS.exec(message);
  if (counts) return { kind: 'backend', proxy: counts[1]!, up: Number(counts[2]) + Number(counts[3]) > 0 };
  const none = NO_SERVER.exec(message);
  if (none) return { kind: 'backend', proxy: none[1]!, up: false };
  const fe = FRONTEND.exec(message);
  if (fe) return { kind: 'frontend', proxy: fe[2]!, up: fe[1] === 'Resumed' };
  return undefined;
}

/**
 * The snapshot as it stands after these ring events: each certain verdict about a proxy in the snapshot
 * sets its `up`, in order; server rows and counts stay as read (the next read brings them). Only events
 * of the snapshot's worker stamped at or after `notBefore` (epoch ms, when the snapshot's read was sent)
 * count: an older one is already in the read, and a change HAProxy does not log (a weight) may have
 * overtaken it. Events without pid and timestamp (a ring not in `format rfc5424`) are not used. Undefined
 * when no event changes a proxy of the snapshot. Pure.
 */
export function patchWithRingEvents(
  snapshot: HealthSnapshot,
  events: readonly RingEvent[],
  notBefore: number,
  now: number,
): HealthSnapshot | undefined {
  let frontends: Record<string, FrontendHealth> | undefined;
  let backends: Record<string, BackendHealth> | undefined;
  for (const event of events) {
    if (event.pid !== snapshot.process.pid || event.timestamp === undefined) continue;
    if (!(Date.parse(event.timestamp) >= notBefore)) continue;
    const verdict = ringVerdict(event);
    if (verdict === undefined) continue;
    const reason = `${verdict.up ? 'UP' : 'DOWN'} (HAProxy event: ${event.message})`;
    if (verdict.kind === 'backend') {
      const old = (backends ?? snapshot.backends)[verdict.proxy];
      if (old === undefined || old.up === verdict.up) continue;
      backends ??= { ...snapshot.backends };
      backends[verdict.proxy] = { ...old, up: verdict.up, reason };
    } else {
      const old = (frontends ?? snapshot.frontends)[verdict.proxy];
      if (old === undefined || old.up === verdict.up) continue;
      frontends ??= { ...snapshot.frontends };
      frontends[verdict.proxy] = { ...old, up: verdict.up, reason: verdict.up ? 'OPEN' : 'PAUSED' };
    }
  }
  if (frontends === undefined && backends === undefined) return undefined;
  return {
    ...snapshot,
    readAt: now,
    frontends: frontends ?? snapshot.frontends,
    backends: backends ?? snapshot.backends,
  };
}
