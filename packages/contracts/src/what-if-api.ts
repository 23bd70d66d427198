// The shapes of `POST /api/v1/whatif` (and of a `409 ROLLOUT_BLOCKED`'s `error.whatIf`): what the
// controller's what-if and guard make, what rhictl and the dashboard read. Types only: the controller
// makes them, nothing parses them.
import type { RuleSetTarget } from './rollout.js';

/** Why a targeted node was not simulated. */
export type WhatIfUnknownReason = 'noStatus' | 'noHealthReport' | 'lost';

/** What the candidate would change for one VIP, over the nodes counted (simulated and untargeted). */
export interface WhatIfVip {
  /** `table%prefix`. */
  readonly id: string;
  readonly table: string;
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  /** Whether the candidate has a rule for it (false: only the nodes' current rule sets have). */
  readonly inCandidate: boolean;
  /** Nodes advertising it now, and with the candidate. */
  readonly before: number;
  readonly after: number;
  /** Simulated nodes that would start advertising it, and those that would withdraw it, by name. */
  readonly added: readonly string[];
  readonly withdrawn: readonly string[];
  /** Targeted nodes left unsimulated (no health report) whose status advertises it now: not in the counts. */
  readonly unknownAdvertisers: number;
}

/** What the candidate would change on one simulated node. Only nodes with something to say are listed. */
export interface WhatIfNodeResult {
  readonly node: string;
  readonly drained: boolean;
  /** False when its last report says HAProxy could not be read: the agent would advertise nothing. */
  readonly haproxyReachable: boolean;
  /** VIP ids it would start advertising, and those it would withdraw. */
  readonly added: readonly string[];
  readonly withdrawn: readonly string[];
  /** Proxies the candidate names (`b:<name>`, `f:<name>`) that its HAProxy lacks: the agent rejects it. */
  readonly unknownProxies: readonly string[];
  /**
   * Proxies the candidate names that its report lacks, but which may be among those the report left out
   * to stay small (`omitted`) or does not cover (`reportCovers: 'named'`): not known to be missing. Their
   * health is unknown: the simulation takes them as down.
   */
  readonly unverifiedProxies: readonly string[];
  /** VIP ids of the candidate outside the node's allowlist: never advertised there. */
  readonly outsideAllowlist: readonly string[];
  /** Whether its allowlist was given; if not, `outsideAllowlist` holds only what its status showed. */
  readonly allowlistKnown: boolean;
}

/** The what-if of a candidate rule set over the fleet. */
export interface WhatIfResult {
  /** Every VIP of the candidate or advertised now, by id. */
  readonly vips: readonly WhatIfVip[];
  /** Simulated nodes with a change or a problem, by name. */
  readonly nodes: readonly WhatIfNodeResult[];
  /** Targeted nodes not simulated, by name. */
  readonly unknown: readonly { readonly node: string; readonly reason: WhatIfUnknownReason }[];
  readonly counts: {
    readonly simulated: number;
    /** Simulated nodes whose advertised routes would change. */
    readonly changed: number;
    readonly drained: number;
    readonly unknown: number;
    readonly untargeted: number;
  };
}

/** Who overrides the guard, and why (recorded in the rollout's timeline). */
export interface GuardForce {
  readonly by: string;
  readonly reason: string;
}

/** Something that blocks a change unless forced. */
export type GuardBlocker =
  | {
      readonly kind: 'belowMinimum';
      readonly vip: string;
      readonly before: number;
      readonly after: number;
      readonly minimum: number;
      /** The nodes that would withdraw it. */
      readonly withdrawnBy: readonly string[];
    }
  /** The node's agent would reject the rule set (`RULESET_UNKNOWN_PROXIES`). */
  | { readonly kind: 'unknownProxies'; readonly node: string; readonly proxies: readonly string[] }
  /** Routes the node would never advertise: its allowlist forbids them. */
  | { readonly kind: 'outsideAllowlist'; readonly node: string; readonly vips: readonly string[] };

/** The guard's verdict on a what-if. */
export interface GuardVerdict {
  /** True when nothing blocks, or when forced. */
  readonly allowed: boolean;
  /** Everything that blocks (or that the force overrode), VIPs first by id, then nodes by name. */
  readonly blockers: readonly GuardBlocker[];
  /** The force given, to be recorded; null when not forced. */
  readonly forced: GuardForce | null;
  /** Worth telling, not blocking. */
  readonly warnings: {
    /** Targeted nodes not simulated: their part in the counts is unknown. */
    readonly unknownNodes: readonly { readonly node: string; readonly reason: WhatIfUnknownReason }[];
    /** Proxies not known to be missing: the node's report left some out. */
    readonly unverifiedProxies: readonly { readonly node: string; readonly proxies: readonly string[] }[];
  };
}

/** One diagnostic of a rule-set text as the API shows it: where (line and column, 1-based) and what. */
export interface DiagnosticView {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly length: number;
}

/** A what-if's answer: what would change, and whether the guard lets a rollout of it go ahead. */
export interface WhatIfAnswer {
  /** The candidate: a stored serial, or null for a text not stored. */
  readonly serial: number | null;
  readonly hash: string | null;
  readonly target: RuleSetTarget;
  readonly whatIf: WhatIfResult;
  readonly guard: GuardVerdict;
  /** The candidate's lint warnings. */
  readonly warnings: readonly DiagnosticView[];
}
