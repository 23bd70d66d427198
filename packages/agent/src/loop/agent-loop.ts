import type { ProxyNames } from '@rhi/haproxy-client';
import type { Logger } from 'pino';
import type { RuleSet } from '@rhi/rules-dsl';
import type { HealthState } from '@rhi/rules-dsl';
import {
  evaluate,
  evaluateRules,
  healthChanges,
  ruleDependencies,
  ruleSetHash,
  ruleSetRoutes,
} from '@rhi/rules-dsl';
import type { Allowlist } from '../core/allowlist.js';
import type { DampingConfig } from '../core/damping.js';
import type { DesiredRoute, DrainMode, PlannedRoute, Transition } from '../core/planner.js';
import { routeKey } from '../core/planner.js';
import type { PlanChange } from '../core/route-planner.js';
import { RoutePlanner } from '../core/route-planner.js';
import { feedSelection } from '../core/feed-selection.js';
import type {
  AgentSnapshot,
  AgentTransition,
  DisabledProtocol,
  Clock,
  ExportStatus,
  HealthEvent,
  RefusedRoute,
  RouteExport,
  RouteInjector,
  StatusSink,
} from './ports.js';
import { InjectorFailure } from './ports.js';
import { ExportWatch } from './export-watch.js';
import { diffExports, exportEvents } from '../core/export-changes.js';

/** After a connection to BIRD ended under the agent: how soon BIRD is checked (and repaired). */
export const BIRD_LOST_RECHECK_MS = 250;

/** Settings and ports of the loop. */
export interface AgentLoopOptions {
  readonly injector: RouteInjector;
  readonly sink: StatusSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly allowlist: Allowlist;
  readonly damping: DampingConfig;
  /** Backoff of a failed BIRD apply: doubles from `initialMs` up to `maxMs`. */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  /** How often BIRD is read back and repaired when it drifted (0 = never). */
  readonly reconcileIntervalMs?: number;
  /** Called when BIRD took a change, with the ms since the health event that caused it. */
  readonly onApplied?: (latencyMs: number) => void;
  /**
   * Asks BIRD what it sends to routers after each change it took and every `intervalMs` (0: after changes
   * only), when the injector can tell. Absent: never.
   */
  readonly exportCheck?: { readonly intervalMs: number; readonly delayMs?: number };
}

/** Where a rule set came from, and its serial (0 for a local file). */
export interface RuleSetMeta {
  readonly source: 'file' | 'controller' | 'persisted';
  readonly serial: number;
}

interface ActiveRuleSet extends RuleSetMeta {
  readonly ruleSet: RuleSet;
  readonly hash: string;
  readonly appliedAt: number;
  readonly routes: readonly DesiredRoute[];
}

/**
 * The agent's event-driven loop: health event -> evaluate -> damping and policies -> `injector.set()`.
 * Acts on each event when it arrives; BIRD applies are serialized and coalesced (the newest desired set
 * wins), retried with backoff on failure, and the desired state is never lost. Status and events go to
 * the sink without waiting.
 */
export class AgentLoop {
  private active: ActiveRuleSet | null = null;
  private health: HealthEvent | null = null;
  private readonly planner: RoutePlanner;
  /**
   * Whether the next plan starts from scratch: a new rule set or drain mode (HAProxy lost or back the
   * planner knows itself). Otherwise only the rules naming proxies whose health changed are decided again.
   */
  private planAll = true;
  /** The health state the last plan decided from. */
  private planned: HealthState | null = null;
  private routes: readonly PlannedRoute[] = [];
  private desired: readonly DesiredRoute[] | null = null;
  /** What BIRD was last given with success (the planner hands out the same arrays while unchanged). */
  private applied: { readonly routes: readonly DesiredRoute[]; readonly tables: readonly string[] } | null =
    null;
  private inBird: readonly DesiredRoute[] | null = null;
  private heldAtStart = new Set<string>();
  /**
   * Routes whose announcement was told (or that BIRD held at start), their withdrawal not since:
   * `routeAnnounced` is told once BIRD holds the route, `routeWithdrawn` as the withdrawal is handed to it.
   */
  private announced = new Set<string>();
  /** Planned announcements not told yet: BIRD does not hold the route yet (an apply failed, or it was refused). */
  private pendingAnnounce = new Map<string, Transition>();
  private drainMode: DrainMode = 'none';
  /** The drain's reason; once withdrawn after a wait, with how the wait ended. */
  private drainReason = '';
  /** When the drain in force was asked for (the clock's ms). */
  private drainSince = 0;
  private drainWait: {
    readonly sessions: number;
    readonly reason: string;
    readonly since: number;
    readonly deadline: number;
    /** The last count read since the drain began. */
    counted?: number;
  } | null = null;
  private birdReachable = true;
  private birdError: string | undefined;
  /** The failure the last applies share: told once with its error, then only at debug level. */
  private failure: { readonly kind: 'unreachable' | 'config'; readonly message: string } | null = null;
  /** The tables the rule set in force uses: the injector renders them besides the configured ones. */
  private tables: readonly string[] = [];
  private refused: readonly RefusedRoute[] = [];
  /** Static protocols the injector disabled as a fail-safe while BIRD refuses its config, by name. */
  private disabled = new Map<string, DisabledProtocol>();
  private applying = false;
  private dirty = false;
  private stopped = false;
  private retryDelay: number;
  /** When the oldest health event whose change BIRD has not taken yet arrived. */
  private changeSince: number | null = null;
  private readonly cancels = {
    recheck: null as null | (() => void),
    retry: null as null | (() => void),
    reconcile: null as null | (() => void),
    drain: null as null | (() => void),
  };

  private exports: ExportStatus | null = null;
  /** The export check answer last diffed: BIRD's reader hands back the same array while nothing changed. */
  private exportsAnswer: readonly RouteExport[] | null = null;
  /** The proxies the rule set in force names, once asked for (by the health report). */
  private named: { readonly hash: string; readonly proxies: ProxyNames } | null = null;
  private readonly exportWatch: ExportWatch | null;

  constructor(private readonly options: AgentLoopOptions) {
    this.retryDelay = options.retry?.initialMs ?? 100;
    this.planner = new RoutePlanner({
      allowlist: options.allowlist,
      damping: options.damping,
      heldAtStart: (key) => this.heldAtStart.has(key),
    });
    this.exportWatch = options.exportCheck
      ? new ExportWatch({
          injector: options.injector,
          clock: options.clock,
          logger: options.logger,
          ...options.exportCheck,
          onReport: (all) => this.onExports(all),
        })
      : null;
  }

  /**
   * Reads what BIRD already holds (so that a restart keeps healthy routes) and starts the reconcile timer.
   * The first plan is always handed to the injector, which then checks the include file and BIRD and
   * changes nothing when they already match.
   */
  async start(): Promise<void> {
    try {
      const held = await this.options.injector.held();
      this.heldAtStart = new Set(held.routes.map(routeKey));
      this.announced = new Set(this.heldAtStart);
      this.inBird = held.routes;
    } catch (err) {
      this.birdFailed(err, 'read');
    }
    this.scheduleReconcile();
    this.exportWatch?.start();
  }

  /** The node's prefix allowlist, as the loop enforces it. */
  get allowlist(): Allowlist {
    return this.options.allowlist;
  }

  /** True while a drain waits for HAProxy's connections to fall (the feed then reports their changes). */
  get waitingForSessions(): boolean {
    return this.drainWait !== null;
  }

  /** The current rule set's identity, or null. */
  get ruleSetHash(): string | null {
    return this.active?.hash ?? null;
  }

  /** The rule set in force, with its identity and where it came from (for `rhi-agent explain`), or null. */
  get ruleSetInForce(): (RuleSetMeta & { readonly ruleSet: RuleSet; readonly hash: string }) | null {
    if (!this.active) return null;
    const { ruleSet, hash, source, serial } = this.active;
    return { ruleSet, hash, source, serial };
  }

  /** Replaces the rule set atomically (the caller validated it) and acts on it at once. */
  setRuleSet(ruleSet: RuleSet, meta: RuleSetMeta): void {
    const hash = ruleSetHash(ruleSet);
    // From the parse's compact program: reading `rules` would build every rule as objects on the failover path.
    const routes = ruleSetRoutes(ruleSet);
    // Which rules name each proxy: built now, not at the first health change it is needed for.
    ruleDependencies(ruleSet);
    this.active = { ruleSet, hash, routes, appliedAt: this.options.clock.now(), ...meta };
    this.tables = [...new Set(routes.map((r) => r.table))].sort();
    this.emit({
      event: 'ruleSetApplied',
      reason: `${meta.source} rule set ${hash.slice(0, 12)} (serial ${meta.serial})`,
    });
    this.replanAll();
  }

  /** Feeds a health event (a snapshot, or HAProxy unreachable). */
  onHealth(event: HealthEvent): void {
    const was = this.health;
    this.health = event;
    if (
      this.drainWait &&
      event.type === 'snapshot' &&
      event.sessions !== undefined &&
      (event.sessionsReadAt === undefined || event.sessionsReadAt >= this.drainWait.since)
    ) {
      this.drainWait.counted = event.sessions;
      if (event.sessions <= this.drainWait.sessions) this.finishDrain(`sessions fell to ${event.sessions}`);
    }
    if (event.type === 'unreachable' && was?.type !== 'unreachable') {
      this.emit({ event: 'haproxyUnreachable', reason: event.error });
    } else if (event.type === 'snapshot' && was?.type === 'unreachable') {
      this.emit({
        event: 'haproxyReachable',
        reason: `HAProxy answers again${event.pid ? ` (pid ${event.pid})` : ''}`,
      });
    }
    const told = this.replan(true);
    // The status also carries HAProxy's worker and a drain's connection count: told even when no route changed.
    const news =
      was?.type !== event.type ||
      (event.type === 'snapshot' &&
        was.type === 'snapshot' &&
        (event.pid !== was.pid || (this.drainWait !== null && event.sessions !== was.sessions)));
    if (!told && news) this.publish();
    this.options.sink.health?.(event, this.namedProxies);
  }

  private readonly namedProxies = (): ProxyNames => {
    const active = this.active;
    if (!active) return { frontends: [], backends: [] };
    if (this.named?.hash !== active.hash)
      this.named = { hash: active.hash, proxies: feedSelection(active.ruleSet).proxies };
    return this.named.proxies;
  };

  /**
   * Withdraws every route while decisions go on; `undrain` restores at once. With `waitSessions`, the
   * routes are first de-preferred (the planner's `DEPREFER` attributes) and withdrawn once HAProxy's frontend sessions fall
   * to that many, or after `timeoutMs` (default 60 s), whichever comes first.
   */
  drain(reason: string, options: { readonly waitSessions?: number; readonly timeoutMs?: number } = {}): void {
    if (this.drainMode !== 'none') return;
    this.cancels.drain?.();
    this.drainReason = reason;
    this.drainSince = this.options.clock.now();
    if (options.waitSessions === undefined) {
      this.drainMode = 'withdraw';
      this.emit({ event: 'drained', reason });
    } else {
      this.drainMode = 'deprefer';
      const deadline = this.options.clock.now() + (options.timeoutMs ?? 60_000);
      this.drainWait = { sessions: options.waitSessions, reason, since: this.options.clock.now(), deadline };
      this.cancels.drain = this.options.clock.at(deadline, () =>
        this.finishDrain('timed out waiting for sessions to fall'),
      );
      this.options.logger.info(
        { event: 'drainStarted', reason, waitSessions: options.waitSessions },
        'de-preferring routes before withdrawing them',
      );
    }
    this.replanAll();
  }

  undrain(): void {
    if (this.drainMode === 'none') return;
    this.cancels.drain?.();
    this.drainMode = 'none';
    this.drainWait = null;
    this.emit({ event: 'undrained', reason: 'undrain requested' });
    this.replanAll();
  }

  get isDrained(): boolean {
    return this.drainMode !== 'none';
  }

  private finishDrain(why: string): void {
    if (this.drainMode !== 'deprefer' || !this.drainWait) return;
    this.cancels.drain?.();
    this.drainMode = 'withdraw';
    this.drainReason = `${this.drainWait.reason} (${why})`;
    this.emit({ event: 'drained', reason: this.drainReason });
    this.drainWait = null;
    this.replanAll();
  }

  /** The loop's full state, as published. */
  snapshot(): AgentSnapshot {
    const health = this.health;
    return {
      time: this.options.clock.now(),
      ruleSet: this.active
        ? {
            hash: this.active.hash,
            serial: this.active.serial,
            source: this.active.source,
            appliedAt: this.active.appliedAt,
          }
        : null,
      haproxy:
        health?.type === 'snapshot'
          ? { reachable: true, ...(health.pid === undefined ? {} : { pid: health.pid }) }
          : { reachable: false, ...(health ? { error: health.error } : { error: 'no reading yet' }) },
      bird: {
        reachable: this.birdReachable,
        ...(this.birdError ? { error: this.birdError } : {}),
        ...(this.disabled.size ? { disabled: [...this.disabled.keys()] } : {}),
      },
      drained: this.drainMode !== 'none',
      drain:
        this.drainMode === 'none'
          ? null
          : {
              mode: this.drainMode,
              reason: this.drainReason,
              since: this.drainSince,
              ...(this.drainWait
                ? {
                    waitSessions: this.drainWait.sessions,
                    deadline: this.drainWait.deadline,
                    ...(this.drainWait.counted === undefined ? {} : { sessions: this.drainWait.counted }),
                  }
                : {}),
            },
      routes: this.routes,
      inBird: this.inBird,
      refused: this.refused,
      exports: this.exports,
    };
  }

  /** An export check's answer: every route BIRD holds for us, and where it goes. */
  private onExports(all: readonly RouteExport[]): void {
    if (this.stopped) return;
    const before = this.exports?.routes ?? null;
    if (before !== null && all === this.exportsAnswer) {
      this.exports = { checkedAt: this.options.clock.now(), routes: before };
      return;
    }
    this.exportsAnswer = all;
    const { routes, changed } = diffExports(before, all);
    this.exports = { checkedAt: this.options.clock.now(), routes };
    if (routes === before) return;
    for (const t of exportEvents(changed)) this.emit(t);
    this.publish();
  }

  /** Stops timers; with `withdraw`, first makes BIRD hold nothing (a clean stop must not blackhole traffic). */
  async stop(withdraw: boolean): Promise<void> {
    this.stopped = true;
    for (const cancel of Object.values(this.cancels)) cancel?.();
    this.exportWatch?.stop();
    if (!withdraw) return;
    try {
      await this.options.injector.set([], this.tables);
    } catch (err) {
      // BIRD refusing its config: withdrawn all the same once every protocol holding a route is disabled.
      if (!(err instanceof InjectorFailure) || err.disabled.length === 0) throw err;
      this.noteDisabled(err);
    }
    for (const r of this.inBird ?? []) {
      this.emit({ event: 'routeWithdrawn', table: r.table, prefix: r.prefix, reason: 'agent stopping' });
    }
    this.inBird = [];
  }

  /** Plans every route from scratch (a new rule set, a drain change) and acts on it. */
  private replanAll(): void {
    this.planAll = true;
    this.replan(false);
  }

  /** Plans and acts on the plan; false when it changed nothing (no route, no transition: nothing told). */
  private replan(reading: boolean): boolean {
    if (this.stopped || !this.active || !this.health) return false;
    const result = this.plan(reading);
    const { routes: before, desired: desiredBefore } = this;
    this.routes = result.routes;
    this.desired = result.desired;
    if (reading && this.changeSince === null && this.differsFromApplied(result.desired)) {
      this.changeSince = this.options.clock.now();
    }
    this.cancels.recheck?.();
    this.cancels.recheck =
      result.recheckAt === null ? null : this.options.clock.at(result.recheckAt, () => this.replan(false));
    // A reading that changes no route (HAProxy polled, a proxy no rule names): nothing to tell.
    if (result.routes === before && result.desired === desiredBefore && result.transitions.length === 0)
      return false;
    // The change is handed to BIRD before it is logged and published.
    const kicked = this.kick();
    for (const t of result.transitions) this.transition(t);
    if (kicked === 'unchanged') {
      this.tellTaken();
      this.publish();
    }
    return true;
  }

  /**
   * Decides and plans: every rule from scratch after a new rule set, a drain change or HAProxy lost or
   * back; otherwise only the rules that name a proxy whose health changed since the last plan.
   */
  private plan(reading: boolean): PlanChange {
    const active = this.active as ActiveRuleSet;
    const health = this.health as HealthEvent;
    const now = this.options.clock.now();
    if (health.type !== 'snapshot') {
      this.planned = null;
      this.planAll = true;
      return this.planner.full({
        decisions: null,
        routes: active.routes,
        now,
        reading,
        drain: this.drainMode,
      });
    }
    const state = health.state;
    if (this.planAll || !this.planner.incremental || this.planned === null) {
      const result = this.planner.full({
        decisions: evaluate(active.ruleSet, state),
        routes: active.routes,
        now,
        reading,
        drain: this.drainMode,
      });
      this.planned = state;
      this.planAll = false;
      return result;
    }
    const dependencies = ruleDependencies(active.ruleSet);
    const rules = dependencies.affected(healthChanges(this.planned, state));
    this.planned = state;
    const decisions = rules.length ? evaluateRules(active.ruleSet, state, rules) : [];
    const indices: number[] = [];
    for (const rule of rules)
      for (let i = dependencies.routeStart[rule] ?? 0; i < (dependencies.routeStart[rule + 1] ?? 0); i++)
        indices.push(i);
    return this.planner.partial({ indices, decisions, now, reading });
  }

  private differsFromApplied(routes: readonly DesiredRoute[]): boolean {
    return this.applied === null || this.applied.routes !== routes || this.applied.tables !== this.tables;
  }

  private apply(): void {
    if (this.kick() === 'unchanged') this.publish();
  }

  /** Starts `injector.set(desired)` unless BIRD already has it or a set is under way (then it follows). */
  private kick(): 'started' | 'queued' | 'unchanged' | 'idle' {
    if (this.stopped || this.desired === null) return 'idle';
    if (this.applying) {
      this.dirty = true;
      return 'queued';
    }
    const routes = this.desired;
    const tables = this.tables;
    if (!this.differsFromApplied(routes)) return 'unchanged';
    this.applying = true;
    this.cancels.retry?.();
    this.cancels.retry = null;
    this.options.injector.set(routes, tables).then(
      (result) => {
        this.applying = false;
        this.applied = { routes, tables };
        const refused = new Set(result.refused.map(routeKey));
        this.inBird = refused.size ? routes.filter((r) => !refused.has(routeKey(r))) : routes;
        if (this.changeSince !== null) {
          this.options.onApplied?.(this.options.clock.now() - this.changeSince);
          this.changeSince = null;
        }
        this.retryDelay = this.options.retry?.initialMs ?? 100;
        this.birdTook();
        this.noteEnabled(result.enabled);
        this.noteRefused(result.refused);
        this.tellTaken();
        this.afterApply();
      },
      (err: unknown) => {
        this.applying = false;
        this.birdFailed(err, 'set');
        if (err instanceof InjectorFailure) this.noteDisabled(err);
        const delay = this.retryDelay;
        this.retryDelay = Math.min(delay * 2, this.options.retry?.maxMs ?? 10_000);
        if (!this.stopped)
          this.cancels.retry = this.options.clock.at(this.options.clock.now() + delay, () => this.apply());
        // Published at once, even when a newer set follows: the status must say that BIRD fails.
        this.publish();
        if (this.dirty) {
          this.dirty = false;
          this.apply();
        }
      },
    );
    return 'started';
  }

  private afterApply(): void {
    if (this.dirty) {
      this.dirty = false;
      this.apply();
    } else {
      this.publish();
    }
  }

  /** An apply went through: a failure before it is over. */
  private birdTook(): void {
    this.exportWatch?.changed();
    const was = this.failure;
    this.failure = null;
    this.birdError = undefined;
    if (!this.birdReachable) {
      this.birdReachable = true;
      this.emit({ event: 'birdReachable', reason: 'BIRD accepted the routes' });
    }
    if (was?.kind === 'config')
      this.emit({ event: 'birdConfigAccepted', reason: 'BIRD accepted the routes' });
  }

  /**
   * An apply, read-back or repair failed. BIRD away is `birdUnreachable`; BIRD refusing its config (or
   * the include file) is `birdConfigError`. Each failure is logged with its error once; the same failure
   * again, at every retry, only at debug level.
   */
  private birdFailed(err: unknown, op: 'set' | 'read' | 'reconcile'): void {
    const kind = err instanceof InjectorFailure ? err.kind : 'unreachable';
    const code = err instanceof InjectorFailure ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    const again = this.failure?.kind === kind && this.failure.message === message;
    this.failure = { kind, message };
    this.birdError = message;
    const { logger } = this.options;
    // bird-client's own error: pino shows its chain of causes, which the wrapper would only repeat.
    const shown = err instanceof InjectorFailure && err.cause !== undefined ? err.cause : err;
    if (again) {
      logger.debug({ event: 'birdStillFailing', op, code, reason: message }, 'BIRD still refuses; retrying');
      return;
    }
    if (kind === 'unreachable') {
      logger.warn(
        { event: 'birdUnreachable', op, code, err: shown },
        'BIRD did not take the routes; retrying',
      );
      if (this.birdReachable) {
        this.birdReachable = false;
        this.emit({ event: 'birdUnreachable', reason: message });
      }
      return;
    }
    logger.error(
      { event: 'birdConfigError', op, code, err: shown },
      'BIRD refuses its configuration: nothing changes in BIRD until it is fixed; retrying',
    );
    if (!this.birdReachable) {
      this.birdReachable = true;
      this.emit({ event: 'birdReachable', reason: 'BIRD answers again' });
    }
    this.emit({ event: 'birdConfigError', reason: message });
  }

  /**
   * A planned change of a route. A withdrawal is told as it is handed to BIRD, if the route's announcement
   * was told; an announcement waits until BIRD holds the route ({@link tellTaken}).
   */
  private transition(t: Transition): void {
    const key = routeKey(t);
    if (t.event === 'routeAnnounced') {
      this.pendingAnnounce.set(key, t);
      return;
    }
    this.pendingAnnounce.delete(key);
    if (this.announced.delete(key)) this.emit({ ...t });
  }

  /** Tells each planned announcement whose route BIRD now holds, as long as the plan still wants it. */
  private tellTaken(): void {
    if (this.pendingAnnounce.size === 0) return;
    // BIRD holding exactly the plan's routes (the usual case): what the plan desires, BIRD holds.
    const held = this.inBird === this.desired ? null : new Set((this.inBird ?? []).map(routeKey));
    for (const [key, t] of this.pendingAnnounce) {
      if (!this.planner.desires(key) || (held !== null && !held.has(key))) continue;
      this.pendingAnnounce.delete(key);
      this.announced.add(key);
      this.emit({ ...t });
    }
  }

  /**
   * BIRD refuses its config and routes had to be withdrawn: the injector disabled the static protocols
   * holding them, the only way left to withdraw them. Told loudly, once per protocol; the desired routes
   * that went with them are told withdrawn, and announced again once BIRD holds them.
   */
  private noteDisabled(err: InjectorFailure): void {
    const { logger, sink, clock } = this.options;
    if (err.failSafeError !== undefined)
      logger.error(
        { event: 'birdProtocolDisableFailed', reason: err.failSafeError },
        'BIRD refuses its configuration and a route must be withdrawn, but disabling its protocol failed too; retrying',
      );
    for (const d of err.disabled) {
      this.disabled.set(d.protocol, d);
      const along = d.alsoWithdrawn.length
        ? `, and with it ${d.alsoWithdrawn.length} route(s) still wanted (${d.alsoWithdrawn.join(', ')})`
        : '';
      const reason = `BIRD refuses its configuration, so withdrawals cannot reach it: protocol ${d.protocol} disabled to withdraw ${d.withdrawn.join(', ')}${along}, until a configure succeeds`;
      logger.error(
        {
          event: 'birdProtocolDisabled',
          protocol: d.protocol,
          table: d.table,
          family: d.family,
          withdrawn: d.withdrawn,
          alsoWithdrawn: d.alsoWithdrawn,
          reason: err.message,
        },
        reason,
      );
      sink.event({ event: 'birdProtocolDisabled', table: d.table, reason, time: clock.now() });
      for (const prefix of d.alsoWithdrawn) {
        const key = routeKey({ table: d.table, prefix });
        if (!this.announced.delete(key)) continue;
        this.emit({
          event: 'routeWithdrawn',
          table: d.table,
          prefix,
          reason: `protocol ${d.protocol} disabled: BIRD refuses its configuration`,
        });
        const planned = this.routes.find((p) => routeKey(p) === key)?.reason ?? 'protocol enabled again';
        this.pendingAnnounce.set(key, { event: 'routeAnnounced', table: d.table, prefix, reason: planned });
      }
    }
    if (err.disabled.length === 0) return;
    if (this.inBird)
      this.inBird = this.inBird.filter(
        (r) => !err.disabled.some((d) => d.table === r.table && d.family === r.family),
      );
    // BIRD no longer holds what was last applied: retried until a configure brings the protocols back,
    // even if the desired set returns to it meanwhile.
    this.applied = null;
  }

  /** The protocols disabled as a fail-safe that an apply enabled again. */
  private noteEnabled(enabled: readonly string[] | undefined): void {
    for (const protocol of enabled ?? []) {
      const table = this.disabled.get(protocol)?.table;
      this.disabled.delete(protocol);
      const reason = `protocol ${protocol} enabled again: BIRD took a configure and holds the desired routes`;
      this.options.logger.warn({ event: 'birdProtocolEnabled', protocol, table }, reason);
      this.options.sink.event({
        event: 'birdProtocolEnabled',
        ...(table === undefined ? {} : { table }),
        reason,
        time: this.options.clock.now(),
      });
    }
  }

  /** Tells each route newly left out of BIRD (once, not at every apply), and each one taken again. */
  private noteRefused(refused: readonly RefusedRoute[]): void {
    const told = (r: RefusedRoute) => `${routeKey(r)} ${r.reason}`;
    const before = new Set(this.refused.map(told));
    const now = new Set(refused.map(told));
    for (const r of refused) {
      if (before.has(told(r))) continue;
      this.options.logger.error(
        { event: 'routeRefused', table: r.table, prefix: r.prefix, reason: r.reason },
        `routeRefused ${routeKey(r)}: ${r.reason}; the other routes are applied`,
      );
      this.options.sink.event({
        event: 'routeRefused',
        table: r.table,
        prefix: r.prefix,
        reason: r.reason,
        time: this.options.clock.now(),
      });
      // Announced before, now left out of the include: BIRD no longer holds it. Announced again once it does.
      const key = routeKey(r);
      if (this.announced.delete(key)) {
        this.emit({
          event: 'routeWithdrawn',
          table: r.table,
          prefix: r.prefix,
          reason: `refused by the injector: ${r.reason}`,
        });
        const reason = this.routes.find((p) => routeKey(p) === key)?.reason ?? 'no longer refused';
        this.pendingAnnounce.set(key, { event: 'routeAnnounced', table: r.table, prefix: r.prefix, reason });
      }
    }
    for (const r of this.refused) {
      if (now.has(told(r))) continue;
      this.options.logger.info(
        { event: 'routeRefusalCleared', table: r.table, prefix: r.prefix },
        `${routeKey(r)} is no longer refused`,
      );
    }
    this.refused = refused;
  }

  /** The next reconcile, `after` ms from now (default: the interval); replaces one already scheduled. */
  private scheduleReconcile(after = this.options.reconcileIntervalMs ?? 0): void {
    if ((this.options.reconcileIntervalMs ?? 0) <= 0 || this.stopped) return;
    this.cancels.reconcile?.();
    this.cancels.reconcile = this.options.clock.at(this.options.clock.now() + after, () => {
      void this.reconcile().finally(() => this.scheduleReconcile());
    });
  }

  /**
   * A connection to BIRD ended under the agent (BIRD stopped or restarted, perhaps without the routes):
   * the next reconcile comes after `BIRD_LOST_RECHECK_MS` instead of at its interval, and the interval
   * starts again after it.
   */
  birdConnectionLost(): void {
    this.scheduleReconcile(BIRD_LOST_RECHECK_MS);
  }

  /** Repairs drift (BIRD restarted, include edited or lost) and reads back what BIRD holds. */
  async reconcile(): Promise<void> {
    if (this.stopped || this.applying || this.desired === null) return;
    try {
      const repaired = await this.options.injector.reconcile();
      const failed = this.failure !== null;
      // Nothing repaired after a verified apply: BIRD holds what that apply gave it, which inBird already
      // says (the reconcile compared every route). Otherwise read back what BIRD holds now.
      if (
        failed ||
        repaired?.repaired ||
        repaired?.enabled?.length ||
        this.applied === null ||
        this.inBird === null
      )
        this.inBird = (await this.options.injector.held()).routes;
      // BIRD or the include changed behind the agent's back; a failed apply carried out now is not drift.
      if (!failed && repaired && repaired.repaired)
        this.emit({ event: 'birdDriftRepaired', reason: repaired.repaired });
      if (failed) this.birdTook();
      this.noteEnabled(repaired ? repaired.enabled : undefined);
      this.tellTaken();
      if (failed) {
        // BIRD took the routes again: retry the apply that failed now rather than at its backoff.
        this.cancels.retry?.();
        this.cancels.retry = null;
        this.apply();
      }
      this.publish();
    } catch (err) {
      this.birdFailed(err, 'reconcile');
      // Published now: the retry below may take a while, and the status must say BIRD fails meanwhile.
      this.publish();
      this.applied = null;
      this.apply();
    }
  }

  /** Reports a transition that happened outside the loop (e.g. a rejected rule set) like its own. */
  notify(t: Omit<AgentTransition, 'time'>): void {
    this.emit(t);
  }

  private emit(t: Omit<AgentTransition, 'time'>): void {
    const transition: AgentTransition = { ...t, time: this.options.clock.now() };
    const { event, reason, table, prefix } = transition;
    this.options.logger[event === 'routeNotExported' ? 'warn' : 'info'](
      { event, reason, table, prefix },
      `${event}${prefix ? ` ${routeKey({ table: table ?? '', prefix })}` : ''}: ${reason}`,
    );
    this.options.sink.event(transition);
  }

  private publish(): void {
    this.options.sink.status(this.snapshot());
  }
}
