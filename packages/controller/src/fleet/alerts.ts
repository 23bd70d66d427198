import type { NodeRecord } from './fleet.js';
import { liveness } from './liveness.js';
import type { VipView } from './vip-view.js';

/** Alert kinds, also the `kind` label of the alerts metric and the suffix of their log events. */
export const ALERT_KINDS = [
  'vipNoAdvertiser',
  'vipBelowMinimum',
  'nodeDrift',
  'nodeLost',
  'nodeFlapping',
  'ruleSetMismatch',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** A condition that holds now: what it is about (`subject`: a VIP id, a node, or `fleet`) and why. */
export interface AlertCondition {
  readonly kind: AlertKind;
  readonly subject: string;
  readonly message: string;
}

/** An open alert: a condition and since when it has held (the controller's clock). */
export interface Alert extends AlertCondition {
  /** `kind:subject`: one alert per condition. */
  readonly key: string;
  readonly since: number;
}

/** What the alert rules need besides the view. */
export interface AlertOptions {
  readonly now: number;
  readonly heartbeatMs: number;
  /** Route transitions per node in the flapping window (from the event timeline). */
  readonly transitions?: ReadonlyMap<string, number>;
  /** This many transitions in the window make a node flapping. Default 6. */
  readonly flapThreshold?: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Every condition that holds for the fleet now. Pure. */
export function alertConditions(
  vips: readonly VipView[],
  records: readonly NodeRecord[],
  options: AlertOptions,
): AlertCondition[] {
  const out: AlertCondition[] = [];
  for (const vip of vips) {
    if (vip.advertisers === 0)
      out.push({
        kind: 'vipNoAdvertiser',
        subject: vip.id,
        message: `no node advertises ${vip.id} (${plural(vip.nodes.length, 'node')} with a rule for it)`,
      });
    else if (vip.advertisers < vip.minimum)
      out.push({
        kind: 'vipBelowMinimum',
        subject: vip.id,
        message: `${vip.id} has ${plural(vip.advertisers, 'advertiser')}, fewer than its minimum of ${vip.minimum}`,
      });
  }
  const drift = new Map<string, string[]>();
  for (const vip of vips)
    for (const n of vip.nodes)
      if (n.state === 'drift') drift.set(n.node, [...(drift.get(n.node) ?? []), vip.id]);
  for (const [node, ids] of drift)
    out.push({
      kind: 'nodeDrift',
      subject: node,
      message: `${node}: BIRD disagrees with the agent on ${plural(ids.length, 'route')} (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''})`,
    });
  const live: NodeRecord[] = [];
  for (const r of records) {
    if (liveness(r, options.now, options.heartbeatMs) === 'lost')
      out.push({
        kind: 'nodeLost',
        subject: r.status.node,
        message: `${r.status.node} has not reported for ${Math.round((options.now - r.receivedAt) / 1000)} s`,
      });
    else live.push(r);
  }
  const threshold = options.flapThreshold ?? 6;
  for (const [node, count] of options.transitions ?? [])
    if (count >= threshold)
      out.push({
        kind: 'nodeFlapping',
        subject: node,
        message: `${node}: ${plural(count, 'route transition')} in the flapping window`,
      });
  const hashes = new Map<string, string[]>();
  for (const r of live) {
    const hash = r.status.ruleSet?.hash ?? 'none';
    hashes.set(hash, [...(hashes.get(hash) ?? []), r.status.node]);
  }
  if (hashes.size > 1)
    out.push({
      kind: 'ruleSetMismatch',
      subject: 'fleet',
      message: `nodes run ${hashes.size} different rule sets: ${[...hashes]
        .map(([h, nodes]) => `${h === 'none' ? 'none' : h.slice(0, 12)} on ${plural(nodes.length, 'node')}`)
        .join(', ')}`,
    });
  return out;
}

/**
 * Carries open alerts from one evaluation to the next: a condition that still holds keeps its `since`,
 * a new one opens now, one that no longer holds is closed. Pure.
 */
export function trackAlerts(
  open: ReadonlyMap<string, Alert>,
  conditions: readonly AlertCondition[],
  now: number,
): { open: Map<string, Alert>; opened: Alert[]; closed: Alert[] } {
  const next = new Map<string, Alert>();
  const opened: Alert[] = [];
  for (const c of conditions) {
    const key = `${c.kind}:${c.subject}`;
    const was = open.get(key);
    const alert = { ...c, key, since: was?.since ?? now };
    next.set(key, alert);
    if (!was) opened.push(alert);
  }
  const closed = [...open.values()].filter((a) => !next.has(a.key));
  return { open: next, opened, closed };
}
