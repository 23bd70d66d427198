import type { FeedEvent, HealthSnapshot } from '@rhi/haproxy-client';
import type { Logger } from 'pino';
import type { HealthEvent } from '../loop/ports.js';

/** The loop's health event for one HAProxy read. Sessions are the worker's current connections (`CurrConns`). */
export function snapshotEvent(snapshot: HealthSnapshot): HealthEvent {
  return {
    type: 'snapshot',
    state: { frontends: snapshot.frontends, backends: snapshot.backends },
    pid: snapshot.process.pid,
    sessions: snapshot.process.currentConnections,
    sessionsReadAt: snapshot.sentAt,
  };
}

/** The loop's health event for one event of haproxy-client's feed; logs proxies that vanished. */
export function toHealthEvent(event: FeedEvent, logger: Logger): HealthEvent {
  if (event.type === 'unreachable') {
    return { type: 'unreachable', error: `${event.error.code}: ${event.error.message}` };
  }
  const { snapshot, changes } = event;
  for (const name of changes.frontends.vanished) {
    logger.warn({ event: 'proxyVanished', frontend: name }, `frontend ${name} is gone from HAProxy`);
  }
  for (const name of changes.backends.vanished) {
    logger.warn({ event: 'proxyVanished', backend: name }, `backend ${name} is gone from HAProxy`);
  }
  return snapshotEvent(snapshot);
}
