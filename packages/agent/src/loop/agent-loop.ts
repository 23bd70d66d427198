import type { Logger } from 'pino';
import type { RuleSet } from '@rhi/rules-dsl';
import { evaluate, ruleSetHash } from '@rhi/rules-dsl';
import type { Allowlist } from '../core/allowlist.js';
import type { DampingConfig } from '../core/damping.js';
import type { DesiredRoute, DrainMode, PlannedRoute, RouteMemory } from '../core/planner.js';
import { plan, routeKey } from '../core/planner.js';
import type {
  AgentSnapshot,
  AgentTransition,
  Clock,
  HealthEvent,
  RefusedRoute,
  RouteInjector,
  StatusSink,
} from './ports.js';
import { InjectorFailure } from './ports.js';

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

const setKey = (routes: readonly DesiredRoute[], tables: readonly string[]) =>
  [
    `tables ${tables.join(' ')}`,
    ...routes.map((r) => `${routeKey(r)} ${JSON.stringify(r.attributes ?? {})}`).sort(),
  ].join('\n');

/**
 * The agent's event-driven loop: health event -> evaluate -> damping and policies -> `injector.set()`.
 * Acts on each event when it arrives; BIRD applies are serialized and coalesced (the newest desired set
 * wins), retried with backoff on failure, and the desired state is never lost. Status and events go to
 * the sink without waiting.
 */
export class AgentLoop {
  private active: ActiveRuleSet | null = null;
  private health: HealthEvent | null = null;
  private memory: ReadonlyMap<string, RouteMemory> = new Map();
  private routes: readonly PlannedRoute[] = [];
  private desired: readonly DesiredRoute[] | null = null;
  private appliedKey: string | null = null;
  private inBird: readonly DesiredRoute[] | null = null;
  private heldAtStart = new Set<string>();
  private drainMode: DrainMode = 'none';
  /** The drain's reason; once withdrawn after a wait, with how the wait ended. */
  private drainReason = '';
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

  constructor(private readonly options: AgentLoopOptions) {
    this.retryDelay = options.retry?.initialMs ?? 100;
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
      this.inBird = held.routes;
    } catch (err) {
      this.birdFailed(err, 'read');
    }
    this.scheduleReconcile();
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

  /** Replaces the rule set atomically (the caller validated it) and acts on it at once. */
  setRuleSet(ruleSet: RuleSet, meta: RuleSetMeta): void {
    const hash = ruleSetHash(ruleSet);
    const routes = ruleSet.rules.flatMap((r) =>
      r.routes.map((route) => ({ ...route, ...(r.attributes ? { attributes: r.attributes } : {}) })),
    );
    this.active = { ruleSet, hash, routes, appliedAt: this.options.clock.now(), ...meta };
    this.tables = [...new Set(routes.map((r) => r.table))].sort();
    this.emit({
      event: 'ruleSetApplied',
      reason: `${meta.source} rule set ${hash.slice(0, 12)} (serial ${meta.serial})`,
    });
    this.replan(false);
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
    this.replan(true);
  }

  /**
   * Withdraws every route while decisions go on; `undrain` restores at once. With `waitSessions`, the
   * routes are first de-preferred (the planner's `DEPREFER` attributes) and withdrawn once HAProxy's frontend sessions fall
   * to that many, or after `timeoutMs` (default 60 s), whichever comes first.
   */
  drain(reason: string, options: { readonly waitSessions?: number; readonly timeoutMs?: number } = {}): void {
    if (this.drainMode !== 'none') return;
    this.cancels.drain?.();
    this.drainReason = reason;
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
    this.replan(false);
  }

  undrain(): void {
    if (this.drainMode === 'none') return;
    this.cancels.drain?.();
    this.drainMode = 'none';
    this.drainWait = null;
    this.emit({ event: 'undrained', reason: 'undrain requested' });
    this.replan(false);
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
    this.replan(false);
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
      bird: { reachable: this.birdReachable, ...(this.birdError ? { error: this.birdError } : {}) },
      drained: this.drainMode !== 'none',
      drain:
        this.drainMode === 'none'
          ? null
          : {
              mode: this.drainMode,
              reason: this.drainReason,
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
    };
  }

  /** Stops timers; with `withdraw`, first makes BIRD hold nothing (a clean stop must not blackhole traffic). */
  async stop(withdraw: boolean): Promise<void> {
    this.stopped = true;
    for (const cancel of Object.values(this.cancels)) cancel?.();
    if (!withdraw) return;
    await this.options.injector.set([], this.tables);
    for (const r of this.inBird ?? []) {
      this.emit({ event: 'routeWithdrawn', table: r.table, prefix: r.prefix, reason: 'agent stopping' });
    }
    this.inBird = [];
  }

  private replan(reading: boolean): void {
    if (this.stopped || !this.active || !this.health) return;
    const decisions =
      this.health.type === 'snapshot' ? evaluate(this.active.ruleSet, this.health.state) : null;
    const result = plan(this.memory, {
      decisions,
      routes: this.active.routes,
      now: this.options.clock.now(),
      reading,
      drain: this.drainMode,
      allowlist: this.options.allowlist,
      damping: this.options.damping,
      heldAtStart: (key) => this.heldAtStart.has(key),
    });
    this.memory = result.memory;
    this.routes = result.routes;
    this.desired = result.desired;
    if (reading && this.changeSince === null && setKey(result.desired, this.tables) !== this.appliedKey) {
      this.changeSince = this.options.clock.now();
    }
    this.cancels.recheck?.();
    this.cancels.recheck =
      result.recheckAt === null ? null : this.options.clock.at(result.recheckAt, () => this.replan(false));
    // The change is handed to BIRD before it is logged and published.
    const kicked = this.kick();
    for (const t of result.transitions) this.emit({ ...t });
    if (kicked === 'unchanged') this.publish();
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
    const key = setKey(routes, tables);
    if (key === this.appliedKey) return 'unchanged';
    this.applying = true;
    this.cancels.retry?.();
    this.cancels.retry = null;
    this.options.injector.set(routes, tables).then(
      (result) => {
        this.applying = false;
        this.appliedKey = key;
        const refused = new Set(result.refused.map(routeKey));
        this.inBird = refused.size ? routes.filter((r) => !refused.has(routeKey(r))) : routes;
        if (this.changeSince !== null) {
          this.options.onApplied?.(this.options.clock.now() - this.changeSince);
          this.changeSince = null;
        }
        this.retryDelay = this.options.retry?.initialMs ?? 100;
        this.birdTook();
        this.noteRefused(result.refused);
        this.afterApply();
      },
      (err: unknown) => {
        this.applying = false;
        this.birdFailed(err, 'set');
        const delay = this.retryDelay;
        this.retryDelay = Math.min(delay * 2, this.options.retry?.maxMs ?? 10_000);
        if (!this.stopped)
          this.cancels.retry = this.options.clock.at(this.options.clock.now() + delay, () => this.apply());
        this.afterApply();
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

  /** Tells each route newly left out of BIRD (once, not at every apply), and each one taken again. */
  private noteRefused(refused: readonly RefusedRoute[]): void {
    const told = (r: RefusedRoute) => `${r.table}%${r.prefix} ${r.reason}`;
    const before = new Set(this.refused.map(told));
    const now = new Set(refused.map(told));
    for (const r of refused) {
      if (before.has(told(r))) continue;
      this.options.logger.error(
        { event: 'routeRefused', table: r.table, prefix: r.prefix, reason: r.reason },
        `routeRefused ${r.table}%${r.prefix}: ${r.reason}; the other routes are applied`,
      );
      this.options.sink.event({
        event: 'routeRefused',
        table: r.table,
        prefix: r.prefix,
        reason: r.reason,
        time: this.options.clock.now(),
      });
    }
    for (const r of this.refused) {
      if (now.has(told(r))) continue;
      this.options.logger.info(
        { event: 'routeRefusalCleared', table: r.table, prefix: r.prefix },
        `${r.table}%${r.prefix} is no longer refused`,
      );
    }
    this.refused = refused;
  }

  private scheduleReconcile(): void {
    const every = this.options.reconcileIntervalMs ?? 0;
    if (every <= 0 || this.stopped) return;
    this.cancels.reconcile = this.options.clock.at(this.options.clock.now() + every, () => {
      void this.reconcile().finally(() => this.scheduleReconcile());
    });
  }

  /** Repairs drift (BIRD restarted, include edited or lost) and reads back what BIRD holds. */
  async reconcile(): Promise<void> {
    if (this.stopped || this.applying || this.desired === null) return;
    try {
      await this.options.injector.reconcile();
      this.inBird = (await this.options.injector.held()).routes;
      if (this.failure) {
        // BIRD took the routes again: retry the apply that failed now rather than at its backoff.
        this.birdTook();
        this.cancels.retry?.();
        this.cancels.retry = null;
        this.apply();
      }
      this.publish();
    } catch (err) {
      this.birdFailed(err, 'reconcile');
      this.appliedKey = null;
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
    this.options.logger.info(
      { event, reason, table, prefix },
      `${event}${prefix ? ` ${table}%${prefix}` : ''}: ${reason}`,
    );
    this.options.sink.event(transition);
  }

  private publish(): void {
    this.options.sink.status(this.snapshot());
  }
}
