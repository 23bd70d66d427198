import type { ProxyNames } from '@rhi/haproxy-client';
import type { HealthState } from '@rhi/rules-dsl';
import type { EventRingStatus } from '../core/event-ring.js';
import type { DesiredRoute, PlannedRoute } from '../core/planner.js';

/** What the health source reports: a fresh reading, or that HAProxy cannot be read (after the reload grace). */
export type HealthEvent =
  | {
      readonly type: 'snapshot';
      readonly state: HealthState;
      readonly pid?: number;
      /** HAProxy's current connections, all frontends together (for drains that wait for them to fall). */
      readonly sessions?: number;
      /**
       * When the read that counted `sessions` was sent (the clock's epoch ms): a drain that waits for
       * sessions to fall takes no count read before it began. Unknown counts as current.
       */
      readonly sessionsReadAt?: number;
    }
  | { readonly type: 'unreachable'; readonly error: string };

/** The routes BIRD holds for our protocols, as read back. */
export interface HeldRoutes {
  readonly routes: readonly DesiredRoute[];
}

/** A route the injector left out of an apply (it cannot be rendered), and why; the others were applied. */
export interface RefusedRoute {
  readonly table: string;
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly reason: string;
}

/** Whether BIRD sends a route it holds to a routing protocol (BGP, OSPF, RIP, Babel): what a router can receive. */
export interface RouteExport {
  readonly table: string;
  readonly prefix: string;
  readonly family: 'ipv4' | 'ipv6';
  /** The routing protocols that send it; empty: no router receives it. */
  readonly to: readonly string[];
  /** Why a routing protocol does not send it, in BIRD's terms where it has them. */
  readonly problems: readonly string[];
}

/** The last export check: every route BIRD held for us then, and where it goes. */
export interface ExportStatus {
  /** When BIRD was asked (the clock's ms). */
  readonly checkedAt: number;
  readonly routes: readonly RouteExport[];
}

/** What an apply did besides making BIRD hold the routes. */
export interface ApplyResult {
  /** Routes left out: BIRD holds the others. */
  readonly refused: readonly RefusedRoute[];
  /** Static protocols disabled as a fail-safe ({@link DisabledProtocol}), enabled again by this apply. */
  readonly enabled?: readonly string[];
}

/** What a reconcile did besides leaving BIRD holding the routes in force. */
export interface ReconcileResult extends Pick<ApplyResult, 'enabled'> {
  /** What differed from the routes in force (the include edited or lost, BIRD's routes), now repaired. */
  readonly repaired?: string;
}

/**
 * A static protocol the injector disabled because BIRD refused every `configure` (an error in its config)
 * while the protocol held a route to withdraw: the only way left to withdraw it. Its routes still
 * desired went with it.
 */
export interface DisabledProtocol {
  readonly protocol: string;
  readonly table: string;
  readonly family: 'ipv4' | 'ipv6';
  /** The prefixes that had to be withdrawn. */
  readonly withdrawn: readonly string[];
  /** The prefixes still desired, withdrawn with the protocol. */
  readonly alsoWithdrawn: readonly string[];
}

/**
 * Why an apply failed, for the loop to report it as it is: BIRD away (`unreachable`: retrying is all
 * there is), or BIRD (or the files it reads) refusing what it was given (`config`: an operator's
 * mistake, which no retry mends by itself).
 */
export class InjectorFailure extends Error {
  constructor(
    readonly kind: 'unreachable' | 'config',
    /** The underlying error's code, e.g. `BIRD_CONFIG_INVALID`, `BIRD_CONNECTION`. */
    readonly code: string,
    message: string,
    options?: {
      cause?: unknown;
      /** Protocols disabled as a fail-safe after this failure. */
      disabled?: readonly DisabledProtocol[];
      /** Why that fail-safe could not be carried out, when it was tried and failed. */
      failSafeError?: string;
    },
  ) {
    super(message, options);
    this.name = 'InjectorFailure';
    this.disabled = options?.disabled ?? [];
    if (options?.failSafeError !== undefined) this.failSafeError = options.failSafeError;
  }
  readonly disabled: readonly DisabledProtocol[];
  readonly failSafeError?: string;
}

/** The injector port: declarative, the whole desired set each time. */
export interface RouteInjector {
  /**
   * Makes BIRD hold exactly `routes`, owning `tables` (every table the rule set in force uses) besides
   * the configured ones. A route that cannot be rendered is left out and returned; the rest is applied.
   * Rejects (preferably with an {@link InjectorFailure}) when BIRD is unreachable or refuses as a whole.
   */
  set(routes: readonly DesiredRoute[], tables: readonly string[]): Promise<ApplyResult>;
  /** Reads what BIRD really holds for our protocols (also used at start). */
  held(): Promise<HeldRoutes>;
  /** Re-checks BIRD (and the include file) against the last `set()` and repairs drift. */
  reconcile(): Promise<void | ReconcileResult>;
  /**
   * Asks BIRD which routing protocols send each route it holds for us (every route, problems or not);
   * null when it cannot tell now (no apply yet, or one ran meanwhile). Optional: without it, no checks.
   */
  exports?(): Promise<readonly RouteExport[] | null>;
}

/** Where status and events go (NATS). Must not block: the failover path never waits on it. */
export interface StatusSink {
  status(status: AgentSnapshot): void;
  event(event: AgentTransition): void;
  /**
   * Every health event the loop is fed, with the proxies the rule set in force names (made when asked:
   * walking the rules costs). Optional: for the health report.
   */
  health?(event: HealthEvent, named: () => ProxyNames): void;
}

/** Time, injectable for tests. */
export interface Clock {
  now(): number;
  /** Calls `fn` at `at` (ms, same scale as now()); returns a cancel function. */
  at(at: number, fn: () => void): () => void;
}

/** An event the loop emits (routes, reachability, rule sets, drain). */
export interface AgentTransition {
  readonly event:
    | 'routeAnnounced'
    | 'routeWithdrawn'
    | 'ruleSetApplied'
    | 'ruleSetRejected'
    | 'drained'
    | 'undrained'
    | 'haproxyUnreachable'
    | 'haproxyReachable'
    | 'birdUnreachable'
    | 'birdReachable'
    | 'birdConfigError'
    | 'birdConfigAccepted'
    | 'routeRefused'
    | 'birdProtocolDisabled'
    | 'birdProtocolEnabled'
    | 'routeNotExported'
    | 'routeExported'
    | 'birdDriftRepaired'
    | 'eventRingUnavailable'
    | 'eventRingFollowed';
  readonly time: number;
  readonly reason: string;
  readonly table?: string;
  readonly prefix?: string;
}

/** A drain in force: waiting for HAProxy's connections to fall (routes de-preferred), or withdrawn. */
export interface DrainStatus {
  readonly mode: 'deprefer' | 'withdraw';
  /** The request's reason; once withdrawn after a wait, with how the wait ended. */
  readonly reason: string;
  /** When the drain was asked for (the clock's ms). */
  readonly since: number;
  /** While de-preferring: the connection count waited for. */
  readonly waitSessions?: number;
  /** While de-preferring: HAProxy's connections as last read since the drain began (none read yet: absent). */
  readonly sessions?: number;
  /** While de-preferring: when the routes are withdrawn whatever the connections (the clock's ms). */
  readonly deadline?: number;
}

/** The loop's view of itself, published on every change. */
export interface AgentSnapshot {
  readonly time: number;
  readonly ruleSet: {
    readonly hash: string;
    readonly serial: number;
    readonly source: string;
    readonly appliedAt: number;
  } | null;
  readonly haproxy: {
    readonly reachable: boolean;
    readonly pid?: number;
    readonly error?: string;
    /** `haproxy.eventRing`, when configured: whether HAProxy lets the agent follow it. */
    readonly eventRing?: EventRingStatus;
  };
  /** `error`: why the last apply failed (BIRD away, or reachable but refusing its config). */
  readonly bird: {
    readonly reachable: boolean;
    readonly error?: string;
    /** Static protocols disabled as a fail-safe while BIRD refuses its config (their routes withdrawn). */
    readonly disabled?: readonly string[];
  };
  readonly drained: boolean;
  readonly drain: DrainStatus | null;
  readonly routes: readonly PlannedRoute[];
  /** What BIRD held at the last successful apply or read-back, or null when unknown. */
  readonly inBird: readonly DesiredRoute[] | null;
  /** Desired routes the last apply left out because they cannot be rendered (the rest was applied). */
  readonly refused?: readonly RefusedRoute[];
  /** Where BIRD sends the routes it holds for us, as last checked; null before the first check. */
  readonly exports?: ExportStatus | null;
}
