import type { Decision } from '@rhi/rules-dsl';
import type { Allowlist } from './allowlist.js';
import type { DampingConfig } from './damping.js';
import type {
  DesiredRoute,
  DrainMode,
  PlanContext,
  PlanItem,
  PlannedRoute,
  RouteMemory,
  Transition,
} from './planner.js';
import { goneTransition, planRoute, routeKey, sameAttributes, unreachableItems } from './planner.js';

/** What the planner is given once: the node's policies. */
export interface RoutePlannerSettings {
  readonly allowlist: Allowlist;
  readonly damping: DampingConfig;
  /** Whether BIRD held a route when the agent started: the first damper state of a new route. */
  readonly heldAtStart: (key: string) => boolean;
}

/** Everything a plan from scratch needs. */
export interface FullPlanInput {
  /** One decision per route of the rule set, in its order; null while HAProxy is unreachable. */
  readonly decisions: readonly Decision[] | null;
  /** The rule set's routes, in the order of its decisions. */
  readonly routes: readonly DesiredRoute[];
  readonly now: number;
  readonly reading: boolean;
  readonly drain: DrainMode;
}

/** New decisions for some routes of the rule set in force; the others decide as before. */
export interface PartialPlanInput {
  /** Positions in the rule set's route order (as `routeStart` of the rules language counts them). */
  readonly indices: readonly number[];
  /** The new decision of each position in `indices`. */
  readonly decisions: readonly Decision[];
  readonly now: number;
  readonly reading: boolean;
}

/** The outcome of a plan. */
export interface PlanChange {
  /** Every route's picture, in rule-set order: a new array when any route changed, else the last one. */
  readonly routes: readonly PlannedRoute[];
  /** What BIRD should hold: the same array as before as long as its content is the same. */
  readonly desired: readonly DesiredRoute[];
  readonly transitions: readonly Transition[];
  /** When to plan again without a new reading (a damping timer), or null. */
  readonly recheckAt: number | null;
}

interface Slot {
  item: PlanItem;
  readonly key: string;
  readonly allowed: boolean;
  /** Its position in {@link PlanChange.routes}. */
  at: number;
  memory: RouteMemory;
  route: PlannedRoute;
  /** The route as BIRD should hold it (kept while it is not desired, to keep its identity). */
  shape: DesiredRoute | null;
  desired: boolean;
  recheckAt: number | null;
}

/**
 * Plans the routes BIRD should hold, keeping every route's plan between readings, so that a reading which
 * changes the decisions of a few routes costs what those routes cost ({@link partial}), whatever the node
 * holds. A new rule set, a drain change and HAProxy lost or back are planned from scratch ({@link full}).
 * Both give exactly what `plan()` gives for the same decisions. Pure: values in, values out.
 */
export class RoutePlanner {
  /** Per position of the rule set's route order; null for a second route with the same key. */
  private slots: (Slot | null)[] = [];
  private byKey = new Map<string, Slot>();
  /** Positions whose damping is not stable: stepped at every reading, whatever their decision. */
  private readonly pending = new Set<number>();
  private reachable = false;
  private drain: DrainMode = 'none';
  private routes: readonly PlannedRoute[] = [];
  private desired: readonly DesiredRoute[] = [];

  constructor(private readonly settings: RoutePlannerSettings) {}

  /** True when {@link partial} can follow: a plan from scratch with HAProxy readable came last. */
  get incremental(): boolean {
    return this.reachable && this.slots.length > 0;
  }

  /** Whether the last plan desires the route with this key. */
  desires(key: string): boolean {
    return this.byKey.get(key)?.desired ?? false;
  }

  /** Plans every route from scratch. */
  full(input: FullPlanInput): PlanChange {
    const items: readonly PlanItem[] = input.decisions ?? unreachableItems(input.routes);
    const context = this.context(input.now, input.reading, input.decisions !== null, input.drain);
    const before = this.byKey;
    const slots: (Slot | null)[] = new Array<Slot | null>(items.length);
    const byKey = new Map<string, Slot>();
    const transitions: Transition[] = [];
    this.pending.clear();
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as PlanItem;
      const key = routeKey(item);
      if (byKey.has(key)) {
        slots[i] = null;
        continue;
      }
      const was = before.get(key);
      const allowed = was?.allowed ?? this.settings.allowlist.allows(item.prefix);
      const slot = this.slot(item, key, allowed, was, context, transitions);
      slot.at = byKey.size;
      if (this.isPending(slot)) this.pending.add(i);
      slots[i] = slot;
      byKey.set(key, slot);
    }
    for (const [key, slot] of before) {
      if (!byKey.has(key) && slot.memory.desired) transitions.push(goneTransition(key));
    }
    this.slots = slots;
    this.byKey = byKey;
    this.reachable = input.decisions !== null;
    this.drain = input.drain;
    this.routes = slots.filter((s): s is Slot => s !== null).map((s) => s.route);
    const desired = this.collectDesired();
    if (!sameRoutes(desired, this.desired)) this.desired = desired;
    return this.result(transitions);
  }

  /**
   * Plans the routes at `indices` with their new decisions, and steps those whose damping is pending;
   * the others stay as they are. Only after a {@link full} plan with HAProxy readable.
   */
  partial(input: PartialPlanInput): PlanChange {
    if (!this.incremental)
      throw new Error('RoutePlanner.partial() needs a full plan with HAProxy readable first');
    const context = this.context(input.now, input.reading, true, this.drain);
    const transitions: Transition[] = [];
    const touched = new Set<number>();
    let desiredChanged = false;
    const replan = (i: number, item: PlanItem) => {
      const slot = this.slots[i];
      if (!slot) return;
      touched.add(i);
      const wasDesired = slot.desired;
      const wasShape = slot.shape;
      this.update(slot, item, context, transitions);
      if (slot.desired !== wasDesired || (slot.desired && slot.shape !== wasShape)) desiredChanged = true;
      if (this.isPending(slot)) this.pending.add(i);
      else this.pending.delete(i);
    };
    // In rule-set order, as a plan from scratch tells the transitions.
    const items = new Map<number, PlanItem>();
    for (const i of this.pending) {
      const slot = this.slots[i];
      if (slot) items.set(i, slot.item);
    }
    for (let k = 0; k < input.indices.length; k++) {
      const decision = input.decisions[k];
      if (decision !== undefined) items.set(input.indices[k] as number, decision);
    }
    for (const i of [...items.keys()].sort((a, b) => a - b)) replan(i, items.get(i) as PlanItem);
    if (touched.size > 0) {
      const routes = this.routes.slice();
      for (const i of touched) {
        const slot = this.slots[i] as Slot;
        routes[slot.at] = slot.route;
      }
      this.routes = routes;
    }
    if (desiredChanged) this.desired = this.collectDesired();
    return this.result(transitions);
  }

  private context(now: number, reading: boolean, reachable: boolean, drain: DrainMode): PlanContext {
    return {
      now,
      reading,
      reachable,
      drain,
      damping: this.settings.damping,
      heldAtStart: this.settings.heldAtStart,
      bounded: new Map(),
    };
  }

  private slot(
    item: PlanItem,
    key: string,
    allowed: boolean,
    was: Slot | undefined,
    context: PlanContext,
    transitions: Transition[],
  ): Slot {
    const p = planRoute(item, key, was?.memory, allowed, context, was?.shape);
    if (p.transition) transitions.push(p.transition);
    return {
      item,
      key,
      allowed,
      at: 0,
      memory: p.memory,
      route: p.route,
      shape: p.desired ?? reshape(was?.shape ?? null, item, context.drain),
      desired: p.desired !== null,
      recheckAt: p.recheckAt,
    };
  }

  private update(slot: Slot, item: PlanItem, context: PlanContext, transitions: Transition[]): void {
    const p = planRoute(item, slot.key, slot.memory, slot.allowed, context, slot.shape);
    if (p.transition) transitions.push(p.transition);
    slot.item = item;
    slot.memory = p.memory;
    slot.route = p.route;
    slot.shape = p.desired ?? reshape(slot.shape, item, context.drain);
    slot.desired = p.desired !== null;
    slot.recheckAt = p.recheckAt;
  }

  private isPending(slot: Slot): boolean {
    return slot.route.phase !== 'stable';
  }

  private collectDesired(): DesiredRoute[] {
    const out: DesiredRoute[] = [];
    for (const slot of this.slots) if (slot?.desired && slot.shape) out.push(slot.shape);
    return out;
  }

  private result(transitions: readonly Transition[]): PlanChange {
    let recheckAt: number | null = null;
    for (const i of this.pending) {
      const at = this.slots[i]?.recheckAt ?? null;
      if (at !== null) recheckAt = recheckAt === null ? at : Math.min(recheckAt, at);
    }
    return { routes: this.routes, desired: this.desired, transitions, recheckAt };
  }
}

/** A route's shape while not desired: the last one if it still fits, so that it keeps its identity. */
function reshape(shape: DesiredRoute | null, item: PlanItem, drain: DrainMode): DesiredRoute | null {
  if (shape === null || drain === 'deprefer') return null;
  return shape.prefix === item.prefix &&
    shape.table === item.table &&
    sameAttributes(shape.attributes, item.attributes)
    ? shape
    : null;
}

/** Whether two desired sets hold the same routes in the same order with the same attributes. */
function sameRoutes(a: readonly DesiredRoute[], b: readonly DesiredRoute[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as DesiredRoute;
    const y = b[i] as DesiredRoute;
    if (x === y) continue;
    if (x.table !== y.table || x.prefix !== y.prefix || !sameAttributes(x.attributes, y.attributes))
      return false;
  }
  return true;
}
