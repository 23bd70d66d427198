import type { NodeRecord } from './fleet.js';

/** A node is `lost` once it has been silent for this many heartbeat intervals. */
export const LOST_AFTER_HEARTBEATS = 3;

/** `up` while the node reports, `lost` once it has been silent for 3 heartbeat intervals. Pure. */
export function liveness(record: NodeRecord, now: number, heartbeatMs: number): 'up' | 'lost' {
  return now - record.receivedAt > LOST_AFTER_HEARTBEATS * heartbeatMs ? 'lost' : 'up';
}

/** When a silent node turns lost (the controller's clock): for a timer that re-evaluates the view then. */
export function lostAt(record: NodeRecord, heartbeatMs: number): number {
  return record.receivedAt + LOST_AFTER_HEARTBEATS * heartbeatMs + 1;
}
