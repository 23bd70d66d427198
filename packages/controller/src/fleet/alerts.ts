import { ALERT_KINDS } from '@rhi/contracts';
import type { NodeRecord } from './fleet.js';
import { liveness } from './liveness.js';
import type { VipView } from './vip-view.js';

/** Alert kinds, also the `kind` label of the alerts metric and of the timeline's alert events. */
export { ALERT_KINDS };
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
  /** Per node, the most transitions of one of its routes in the flapping window (from the event timeline). */
  readonly transitions?: ReadonlyMap<string, number>;
  /** A route with this many transitions in the window makes its node flapping. Default 6. */
  readonly flapThreshold?: number;
}

/** A VIP as the alert rules see it. */
export interface VipFacts {
  readonly id: string;
  readonly advertisers: number;
  readonly minimum: number;
  /** Nodes with a rule for it. */
  readonly nodes: number;
}

/**
 * What the alert rules judge: small next to the view, so that an incremental view hands it over without
 * walking every node of every VIP.
 */
export interface FleetFacts {
  /** By id. */
  readonly vips: readonly VipFacts[];
  /** Nodes up whose BIRD disagrees with the agent, with the VIP ids concerned (by id). */
  readonly drift: ReadonlyMap<string, readonly string[]>;
  readonly lost: readonly { readonly node: string; readonly receivedAt: number }[];
  /** Nodes up per rule-set hash (`none`: no rule set). */
  readonly ruleSets: ReadonlyMap<string, number>;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The facts the alert rules judge, recomputed from the whole view and every record. Pure. */
export function fleetFacts(
  vips: readonly VipView[],
  records: readonly NodeRecord[],
  options: Pick<AlertOptions, 'now' | 'heartbeatMs'>,
): FleetFacts {
  const drift = new Map<string, string[]>();
  for (const vip of vips)
    for (const n of vip.nodes)
      if (n.state === 'drift') drift.set(n.node, [...(drift.get(n.node) ?? []), vip.id]);
  const lost: { node: string; receivedAt: number }[] = [];
  const ruleSets = new Map<string, number>();
  for (const r of records) {
    if (liveness(r, options.now, options.heartbeatMs) === 'lost')
      lost.push({ node: r.status.node, receivedAt: r.receivedAt });
    else {
      const hash = r.status.ruleSet?.hash ?? 'none';
      ruleSets.set(hash, (ruleSets.get(hash) ?? 0) + 1);
    }
  }
  return {
    vips: vips.map((v) => ({
      id: v.id,
      advertisers: v.advertisers,
      minimum: v.minimum,
      nodes: v.nodes.length,
    })),
    drift,
    lost,
    ruleSets,
  };
}

/** Every condition that holds for the fleet now. Pure. */
export function alertConditions(
  vips: readonly VipView[],
  records: readonly NodeRecord[],
  options: AlertOptions,
): AlertCondition[] {
  return factConditions(fleetFacts(vips, records, options), options);
}

/** Every condition that the facts show to hold now. Pure; O(VIPs + drifting, lost and flapping nodes). */
export function factConditions(facts: FleetFacts, options: AlertOptions): AlertCondition[] {
  const out: AlertCondition[] = [];
  for (const vip of facts.vips) {
    if (vip.advertisers === 0)
      out.push({
        kind: 'vipNoAdvertiser',
        subject: vip.id,
        message: `no node advertises ${vip.id} (${plural(vip.nodes, 'node')} with a rule for it)`,
      });
    else if (vip.advertisers < vip.minimum)
      out.push({
        kind: 'vipBelowMinimum',
        subject: vip.id,
        message: `${vip.id} has ${plural(vip.advertisers, 'advertiser')}, fewer than its minimum of ${vip.minimum}`,
      });
  }
  for (const node of [...facts.drift.keys()].sort(byCodeUnit)) {
    const ids = facts.drift.get(node)!;
    out.push({
      kind: 'nodeDrift',
      subject: node,
      message: `${node}: BIRD disagrees with the agent on ${plural(ids.length, 'route')} (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''})`,
    });
  }
  for (const { node, receivedAt } of [...facts.lost].sort((a, b) => byCodeUnit(a.node, b.node)))
    out.push({
      kind: 'nodeLost',
      subject: node,
      message: `${node} has not reported for ${Math.round((options.now - receivedAt) / 1000)} s`,
    });
  const threshold = options.flapThreshold ?? 6;
  for (const [node, count] of options.transitions ?? [])
    if (count >= threshold)
      out.push({
        kind: 'nodeFlapping',
        subject: node,
        message: `${node}: ${plural(count, 'transition')} of one route in the flapping window`,
      });
  if (facts.ruleSets.size > 1) {
    const hashes = [...facts.ruleSets].sort(([ha, a], [hb, b]) => b - a || byCodeUnit(ha, hb));
    out.push({
      kind: 'ruleSetMismatch',
      subject: 'fleet',
      message: `nodes run ${hashes.length} different rule sets: ${hashes
        .map(([h, n]) => `${h === 'none' ? 'none' : h.slice(0, 12)} on ${plural(n, 'node')}`)
        .join(', ')}`,
    });
  }
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
