import type { ExplanationNode } from '@rhi/contracts';
import { boundExplanation, parseRouteId, routeId } from '@rhi/contracts';
import type { Decision, Explanation, Family, RouteAttributes } from '@rhi/rules-dsl';
import type { Allowlist } from './allowlist.js';
import type { DampingConfig, DampingPhase, DampState } from './damping.js';
import { initialDampState, step } from './damping.js';

/** A route the agent wants BIRD to hold. */
export interface DesiredRoute {
  readonly table: string;
  readonly prefix: string;
  readonly family: Family;
  readonly attributes?: RouteAttributes;
}

/** What the planner remembers of a route between plans. */
export interface RouteMemory {
  readonly damp: DampState;
  /** Whether the route was in the desired set of the last plan. */
  readonly desired: boolean;
  /** When `desired` last changed (ms). */
  readonly since: number;
}

/** A route's full picture after a plan: the raw decision, the damping, the policies, the result. */
export interface PlannedRoute extends DesiredRoute {
  /** What the rule says (false too while HAProxy is unreachable). */
  readonly decision: boolean;
  readonly phase: DampingPhase;
  readonly allowed: boolean;
  readonly desired: boolean;
  /** Why `desired` is what it is, in one line. */
  readonly reason: string;
  /** Why the rule decided what it did, bounded for the wire (`boundExplanation`): made once per plan. */
  readonly explanation: ExplanationNode;
  readonly since: number;
}

/** A change of a route's desired state, for logs and events. */
export interface Transition {
  readonly event: 'routeAnnounced' | 'routeWithdrawn';
  readonly table: string;
  readonly prefix: string;
  readonly reason: string;
}

/** Everything the planner needs besides its memory. */
export interface PlanInput {
  /** The rule decisions, or null when HAProxy is unreachable (fail closed: nothing is advertised). */
  readonly decisions: readonly Decision[] | null;
  /** The routes of the rule set, used when `decisions` is null. */
  readonly routes: readonly DesiredRoute[];
  readonly now: number;
  /** True for a fresh health reading, false for a timer recheck. */
  readonly reading: boolean;
  /** `deprefer`: still advertised, with {@link DEPREFER} attributes; `withdraw`: nothing advertised. */
  readonly drain: DrainMode;
  readonly allowlist: Allowlist;
  readonly damping: DampingConfig;
  /** Whether BIRD held a route when the agent started: the first damper state of a new route. */
  readonly heldAtStart: (key: string) => boolean;
}

/** The result of a plan. */
export interface Plan {
  readonly routes: readonly PlannedRoute[];
  /** Exactly what BIRD should hold: the input of `injector.set()`. */
  readonly desired: readonly DesiredRoute[];
  readonly transitions: readonly Transition[];
  readonly memory: ReadonlyMap<string, RouteMemory>;
  /** When to plan again without a new reading (a damping timer), or null. */
  readonly recheckAt: number | null;
}

/** Drain modes: none, de-preferring (advertised with worse attributes), or withdrawn. */
export type DrainMode = 'none' | 'deprefer' | 'withdraw';

/**
 * Attributes that make routers prefer other nodes while this one drains: the largest MED routers do not
 * treat as "missing" (4294967294; some turn 4294967295 into it anyway) and local preference 0 (iBGP).
 */
export const DEPREFER = { med: 4294967294, localPref: 0 } as const;

/** The identity of a route: `<table>%<prefix>` (the contracts' `routeId`). */
export const routeKey = routeId;

/** The explanation of every route while HAProxy cannot be read: nothing is evaluated. */
const UNREACHABLE: ExplanationNode = {
  term: 'haproxy',
  value: false,
  detail: 'HAProxy unreachable: every rule fails (fail closed)',
  children: [],
};

/**
 * `route` with an enumerable `explanation` made on first read and kept: the rules language builds a
 * decision's explanation only when asked, and the failover path never asks.
 */
function lazyExplanation(
  route: Omit<PlannedRoute, 'explanation'>,
  make: () => ExplanationNode,
): PlannedRoute {
  let made: ExplanationNode | undefined;
  return Object.defineProperty(route, 'explanation', {
    enumerable: true,
    get: () => (made ??= make()),
  }) as PlannedRoute;
}

function reasonFor(
  item: { readonly prefix: string; readonly reason: string },
  c: { reachable: boolean; allowed: boolean; drain: DrainMode; damped: boolean; phase: DampingPhase },
): string {
  if (!c.reachable) return 'HAProxy unreachable';
  if (!c.allowed) return `${item.prefix} is outside this node's prefix allowlist`;
  if (c.damped && c.drain === 'withdraw') return 'node drained';
  if (c.damped && c.drain === 'deprefer') return 'node draining: de-preferred';
  return c.phase === 'stable' ? item.reason : `${item.reason} (${c.phase})`;
}

/**
 * Turns rule decisions into the routes BIRD should hold: damping per route, then the policies in order
 * (HAProxy unreachable -> nothing; not in the allowlist -> never; drained -> nothing, or everything
 * de-preferred while a drain waits for sessions to fall). Pure.
 */
export function plan(memory: ReadonlyMap<string, RouteMemory>, input: PlanInput): Plan {
  const next = new Map<string, RouteMemory>();
  const routes: PlannedRoute[] = [];
  const desired: DesiredRoute[] = [];
  const transitions: Transition[] = [];
  let recheckAt: number | null = null;
  const items: readonly (Omit<Decision, 'rule' | 'explanation'> & { readonly explanation?: Explanation })[] =
    input.decisions ??
    input.routes.map((r) => ({
      ...r,
      advertise: false,
      reason: 'HAProxy unreachable',
      attributes: r.attributes,
    }));
  // Routes of one rule share its explanation: bounded once, and only when read (after BIRD has the change).
  const bounded = new Map<Explanation, ExplanationNode>();
  const explain = (item: (typeof items)[number]) => (): ExplanationNode => {
    const e = item.explanation;
    if (e === undefined) return UNREACHABLE;
    let b = bounded.get(e);
    if (b === undefined) bounded.set(e, (b = boundExplanation(e)));
    return b;
  };

  for (const item of items) {
    const key = routeKey(item);
    if (next.has(key)) continue;
    const before = memory.get(key);
    const damp0 = before?.damp ?? initialDampState(input.heldAtStart(key), input.now);
    const damped = step(damp0, item.advertise, input.now, input.damping, input.reading);
    if (damped.recheckAt !== null)
      recheckAt = recheckAt === null ? damped.recheckAt : Math.min(recheckAt, damped.recheckAt);
    const allowed = input.allowlist.allows(item.prefix);
    const reachable = input.decisions !== null;
    const wants = reachable && damped.state.value && allowed && input.drain !== 'withdraw';
    const reason = reasonFor(item, {
      reachable,
      allowed,
      drain: input.drain,
      damped: damped.state.value,
      phase: damped.phase,
    });
    const wasDesired = before?.desired ?? input.heldAtStart(key);
    const since = before && before.desired === wants ? before.since : input.now;
    next.set(key, { damp: damped.state, desired: wants, since });
    const attributes = input.drain === 'deprefer' ? { ...item.attributes, ...DEPREFER } : item.attributes;
    const route: DesiredRoute = {
      table: item.table,
      prefix: item.prefix,
      family: item.family,
      ...(attributes ? { attributes } : {}),
    };
    routes.push(
      lazyExplanation(
        { ...route, decision: item.advertise, phase: damped.phase, allowed, desired: wants, reason, since },
        explain(item),
      ),
    );
    if (wants) desired.push(route);
    if (wants !== wasDesired) {
      transitions.push({
        event: wants ? 'routeAnnounced' : 'routeWithdrawn',
        table: item.table,
        prefix: item.prefix,
        reason,
      });
    }
  }
  for (const [key, before] of memory) {
    if (next.has(key) || !before.desired) continue;
    const { table, prefix } = parseRouteId(key) ?? { table: '', prefix: key };
    transitions.push({ event: 'routeWithdrawn', table, prefix, reason: 'no longer in the rule set' });
  }
  return { routes, desired, transitions, memory: next, recheckAt };
}
