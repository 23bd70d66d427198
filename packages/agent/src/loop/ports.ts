import type { HealthState } from '@rhi/rules-dsl';
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

/** What an apply did besides making BIRD hold the routes. */
export interface ApplyResult {
  /** Routes left out: BIRD holds the others. */
  readonly refused: readonly RefusedRoute[];
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
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InjectorFailure';
  }
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
  reconcile(): Promise<void>;
}

/** Where status and events go (NATS). Must not block: the failover path never waits on it. */
export interface StatusSink {
  status(status: AgentSnapshot): void;
  event(event: AgentTransition): void;
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
    | 'routeRefused';
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
  readonly haproxy: { readonly reachable: boolean; readonly pid?: number; readonly error?: string };
  /** `error`: why the last apply failed (BIRD away, or reachable but refusing its config). */
  readonly bird: { readonly reachable: boolean; readonly error?: string };
  readonly drained: boolean;
  readonly drain: DrainStatus | null;
  readonly routes: readonly PlannedRoute[];
  /** What BIRD held at the last successful apply or read-back, or null when unknown. */
  readonly inBird: readonly DesiredRoute[] | null;
  /** Desired routes the last apply left out because they cannot be rendered (the rest was applied). */
  readonly refused?: readonly RefusedRoute[];
}
