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

/** A decision as the planner reads it: the rules language's, or "unreachable" made up for a route. */
export type PlanItem = Omit<Decision, 'rule' | 'explanation'> & { readonly explanation?: Explanation };

/** What one plan shares between its routes. */
export interface PlanContext {
  readonly now: number;
  readonly reading: boolean;
  readonly reachable: boolean;
  readonly drain: DrainMode;
  readonly damping: DampingConfig;
  readonly heldAtStart: (key: string) => boolean;
  /** The bounded explanation of each rule explanation this plan made: routes of one rule share it. */
  readonly bounded: Map<Explanation, ExplanationNode>;
}

/** One route planned: its memory, picture, what BIRD should hold of it, and its change, if any. */
export interface RoutePlan {
  readonly memory: RouteMemory;
  readonly route: PlannedRoute;
  /** The route as BIRD should hold it, or null when it is not desired. */
  readonly desired: DesiredRoute | null;
  readonly transition: Transition | null;
  /** When the damping needs a recheck without a reading, or null. */
  readonly recheckAt: number | null;
  /** False once the damping of the route is stable: a reading with the same decision changes nothing. */
  readonly pending: boolean;
}

/** The routes HAProxy unreachable makes of a rule set's routes: every one withdrawn (fail closed). */
export function unreachableItems(routes: readonly DesiredRoute[]): PlanItem[] {
  return routes.map((r) => ({
    ...r,
    advertise: false,
    reason: 'HAProxy unreachable',
    attributes: r.attributes,
  }));
}

/**
 * Plans one route: damping, then the policies in order (HAProxy unreachable -> nothing; not in the
 * allowlist -> never; drained -> nothing, or de-preferred while a drain waits for sessions to fall).
 * `reuse` is the route's last desired form: kept when equal, so that unchanged routes keep their identity.
 */
export function planRoute(
  item: PlanItem,
  key: string,
  before: RouteMemory | undefined,
  allowed: boolean,
  c: PlanContext,
  reuse?: DesiredRoute | null,
): RoutePlan {
  const damp0 = before?.damp ?? initialDampState(c.heldAtStart(key), c.now);
  const damped = step(damp0, item.advertise, c.now, c.damping, c.reading);
  const wants = c.reachable && damped.state.value && allowed && c.drain !== 'withdraw';
  const reason = reasonFor(item, {
    reachable: c.reachable,
    allowed,
    drain: c.drain,
    damped: damped.state.value,
    phase: damped.phase,
  });
  const wasDesired = before?.desired ?? c.heldAtStart(key);
  const since = before && before.desired === wants ? before.since : c.now;
  const attributes = c.drain === 'deprefer' ? { ...item.attributes, ...DEPREFER } : item.attributes;
  const route: DesiredRoute =
    reuse &&
    reuse.prefix === item.prefix &&
    reuse.table === item.table &&
    sameAttributes(reuse.attributes, attributes)
      ? reuse
      : {
          table: item.table,
          prefix: item.prefix,
          family: item.family,
          ...(attributes ? { attributes } : {}),
        };
  const planned = lazyExplanation(
    {
      table: route.table,
      prefix: route.prefix,
      family: route.family,
      ...(route.attributes ? { attributes: route.attributes } : {}),
      decision: item.advertise,
      phase: damped.phase,
      allowed,
      desired: wants,
      reason,
      since,
    },
    explainer(item, c.bounded),
  );
  return {
    memory: { damp: damped.state, desired: wants, since },
    route: planned,
    desired: wants ? route : null,
    transition:
      wants === wasDesired
        ? null
        : {
            event: wants ? 'routeAnnounced' : 'routeWithdrawn',
            table: item.table,
            prefix: item.prefix,
            reason,
          },
    recheckAt: damped.recheckAt,
    pending: damped.phase !== 'stable',
  };
}

const explainer = (item: PlanItem, bounded: Map<Explanation, ExplanationNode>) => (): ExplanationNode => {
  const e = item.explanation;
  if (e === undefined) return UNREACHABLE;
  let b = bounded.get(e);
  if (b === undefined) bounded.set(e, (b = boundExplanation(e)));
  return b;
};

/** Whether two attribute sets render the same (both absent, or the same values). */
export function sameAttributes(a: RouteAttributes | undefined, b: RouteAttributes | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Turns rule decisions into the routes BIRD should hold, every route from scratch ({@link planRoute} for
 * each). Pure.
 */
export function plan(memory: ReadonlyMap<string, RouteMemory>, input: PlanInput): Plan {
  const next = new Map<string, RouteMemory>();
  const routes: PlannedRoute[] = [];
  const desired: DesiredRoute[] = [];
  const transitions: Transition[] = [];
  let recheckAt: number | null = null;
  const items: readonly PlanItem[] = input.decisions ?? unreachableItems(input.routes);
  const context: PlanContext = {
    now: input.now,
    reading: input.reading,
    reachable: input.decisions !== null,
    drain: input.drain,
    damping: input.damping,
    heldAtStart: input.heldAtStart,
    bounded: new Map(),
  };
  for (const item of items) {
    const key = routeKey(item);
    if (next.has(key)) continue;
    const p = planRoute(item, key, memory.get(key), input.allowlist.allows(item.prefix), context);
    if (p.recheckAt !== null) recheckAt = recheckAt === null ? p.recheckAt : Math.min(recheckAt, p.recheckAt);
    next.set(key, p.memory);
    routes.push(p.route);
    if (p.desired) desired.push(p.desired);
    if (p.transition) transitions.push(p.transition);
  }
  for (const [key, before] of memory) {
    if (next.has(key) || !before.desired) continue;
    transitions.push(goneTransition(key));
  }
  return { routes, desired, transitions, memory: next, recheckAt };
}

/** The withdrawal of a desired route that a new rule set no longer has. */
export function goneTransition(key: string): Transition {
  const { table, prefix } = parseRouteId(key) ?? { table: '', prefix: key };
  return { event: 'routeWithdrawn', table, prefix, reason: 'no longer in the rule set' };
}
