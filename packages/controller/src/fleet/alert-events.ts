import type { AlertEvent } from '@rhi/contracts';
import type { Alert } from './alerts.js';

/** An alert the lease holder published as open: its opening event, and whether it reached the timeline. */
export interface PublishedAlert {
  readonly opening: AlertEvent;
  /** False between claiming the alert's id and its opening being stored: a new holder publishes it. */
  readonly published: boolean;
}

/** What the lease holder still has to publish to make the timeline agree with the open alerts. */
export interface AlertEventPlan {
  /** Alerts open now that were never claimed: claim each, then publish its opening. */
  readonly open: AlertEvent[];
  /** Claimed openings not yet known stored (a holder stopped between the two): publish them again. */
  readonly republish: AlertEvent[];
  /** Published alerts no longer open: publish the closing, then forget the claim. */
  readonly close: AlertEvent[];
}

const VIP_KINDS = new Set<string>(['vipNoAdvertiser', 'vipBelowMinimum']);
const NODE_KINDS = new Set<string>(['nodeDrift', 'nodeLost', 'nodeFlapping']);

/** The opening event of an alert; its id is the alert's key and when it opened. Pure. */
export function openingOf(alert: Alert, now: number): AlertEvent {
  const since = new Date(alert.since).toISOString();
  return {
    schema: 'rhi.v1.alert',
    event: 'alertOpened',
    id: `${alert.key}@${since}`,
    kind: alert.kind,
    subject: alert.subject,
    ...(VIP_KINDS.has(alert.kind) ? { vip: alert.subject } : {}),
    ...(NODE_KINDS.has(alert.kind) ? { node: alert.subject } : {}),
    reason: alert.message,
    since,
    time: new Date(now).toISOString(),
  };
}

/** The closing of a published alert: the same id, kind, subject and reason. Pure. */
export function closingOf(opening: AlertEvent, now: number): AlertEvent {
  return { ...opening, event: 'alertClosed', time: new Date(now).toISOString() };
}

/**
 * Compares the open alerts (this replica's view) with those published (the alert bucket, keyed by alert
 * key `kind:subject`). An alert still open keeps the id it was published with, whoever published it. Pure.
 */
export function planAlertEvents(
  open: readonly Alert[],
  published: ReadonlyMap<string, PublishedAlert>,
  now: number,
): AlertEventPlan {
  const openKeys = new Set(open.map((a) => a.key));
  const plan: AlertEventPlan = { open: [], republish: [], close: [] };
  for (const a of open) {
    const was = published.get(a.key);
    if (!was) plan.open.push(openingOf(a, now));
    else if (!was.published) plan.republish.push(was.opening);
  }
  for (const [key, p] of published) {
    if (openKeys.has(key)) continue;
    if (!p.published) plan.republish.push(p.opening);
    plan.close.push(closingOf(p.opening, now));
  }
  return plan;
}
