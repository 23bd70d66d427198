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

/** The injector port: declarative, the whole desired set each time. */
export interface RouteInjector {
  /** Makes BIRD hold exactly `routes`; rejects with an error when BIRD is unreachable or refuses. */
  set(routes: readonly DesiredRoute[]): Promise<void>;
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
    | 'birdReachable';
  readonly time: number;
  readonly reason: string;
  readonly table?: string;
  readonly prefix?: string;
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
  readonly bird: { readonly reachable: boolean; readonly error?: string };
  readonly drained: boolean;
  readonly routes: readonly PlannedRoute[];
  /** What BIRD held at the last successful apply or read-back, or null when unknown. */
  readonly inBird: readonly DesiredRoute[] | null;
}
