import type { NodeHead, VipHead } from './fleet-matrix.js';
import type { HealthReport, NodeStatus } from './schemas.js';

// The shapes of the controller's read API (GET /api/v1/...) that clients other than the controller's own
// read: rhictl and the dashboard. Types only: the controller makes them, nothing parses them.

/**
 * What one node does with one VIP:
 * - `advertising`: desired, BIRD holds it (read back) and, where the agent checked, sends it to a router;
 * - `not-sent`: desired and held, but BIRD sends it to no router (export filter, session down, next hop);
 * - `drift`: the agent wants it and BIRD lacks it, or BIRD holds it and the agent does not want it;
 * - `withdrawn`: not desired and not held (the reason says why: a rule term down, drain, allowlist...);
 * - `unknown`: BIRD could not be read;
 * - `stale`: the node is lost; its last known state, never counted as advertising.
 */
export type VipNodeState = 'advertising' | 'not-sent' | 'drift' | 'withdrawn' | 'unknown' | 'stale';

/** A VIP in the list: its advertiser count against its minimum, and how many nodes are in each state. */
export interface VipSummary extends VipHead {
  readonly states: Readonly<Partial<Record<VipNodeState, number>>>;
}

/** A node in the list. */
export interface NodeSummary extends NodeHead {
  readonly agentVersion: string;
  readonly ruleSet: { readonly hash: string; readonly serial: number; readonly source: string } | null;
  readonly routes: number;
  /** Routes it asks BIRD to advertise. */
  readonly desired: number;
}

/**
 * One node's rule sets as Envoy's CSDS shows a client's config: `synced` when it runs what it was
 * assigned; `error` when it rejected the assignment (NACK: the last good rule set stays in force, and a
 * rejection is never counted as applied); `pending` while the assigned serial is neither run nor
 * rejected; `unassigned` when nothing was assigned to it.
 */
export type RuleSetSync = 'synced' | 'pending' | 'error' | 'unassigned';

/** What the controller shows of one node's rule sets. */
export interface NodeRuleSetState {
  readonly sync: RuleSetSync;
  /** What the rule-set bucket assigns the node (`assign.<node>`), if anything. */
  readonly assigned: {
    readonly serial: number;
    readonly hash: string;
    readonly rollout: string | null;
  } | null;
  /**
   * What its last status says it runs, if it has reported: its last good rule set too, since an agent
   * never runs one it rejected (after a rejection it keeps this one in force).
   */
  readonly active: { readonly serial: number; readonly hash: string } | null;
  /** Its rejection of the assigned serial (code and reason as the agent gave them). */
  readonly error: {
    readonly serial: number;
    readonly hash: string;
    readonly code: string | null;
    readonly reason: string;
    readonly at: string;
  } | null;
}

/** An open alert as `GET /api/v1/alerts` lists it (and the live stream's `alertOpened`/`alertClosed` carry, with `since` in epoch ms). */
export interface ApiAlert {
  /** `kind:subject`: one alert per condition. */
  readonly key: string;
  readonly kind: string;
  /** A route id (`table%prefix`), a node name, or `fleet`. */
  readonly subject: string;
  readonly message: string;
  /** When it opened: ISO in the API, epoch ms on the stream. */
  readonly since: string | number;
}

/** `GET /api/v1/nodes/{name}`: a node's summary, its last status, health report and rule-set state. */
export interface NodeDetail {
  readonly node: NodeSummary;
  readonly status: NodeStatus;
  readonly health: HealthReport | null;
  readonly ruleSet: NodeRuleSetState | null;
  readonly stale: boolean;
  readonly generatedAt: string;
}

/** `GET /api/v1/whoami`: who the bearer token is. */
export interface ApiCaller {
  readonly name: string;
  readonly role: 'viewer' | 'operator';
}
