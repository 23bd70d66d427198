import { Writable } from 'node:stream';
import pino from 'pino';
import type { DesiredRoute } from '../../src/core/planner.js';
import { routeKey } from '../../src/core/planner.js';
import type {
  AgentSnapshot,
  AgentTransition,
  ApplyResult,
  Clock,
  HeldRoutes,
  ReconcileResult,
  RouteInjector,
  StatusSink,
} from '../../src/loop/ports.js';

/** A clock that moves only when told; timers fire in time order. */
export class FakeClock implements Clock {
  private time = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now(): number {
    return this.time;
  }
  at(at: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }
  /** Advances to `to`, firing due timers (and letting promises settle between them). */
  async advance(to: number): Promise<void> {
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t.id !== due.id);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = to;
    await settle();
  }
}

export const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/**
 * BIRD as the injector sees it. Fails loudly on impossible sequences: overlapping set() calls, or
 * withdrawing (via a smaller set) while a previous set is still in flight.
 */
export class FakeInjector implements RouteInjector {
  held_: DesiredRoute[] = [];
  readonly sets: DesiredRoute[][] = [];
  /** The tables each successful set() was told to own. */
  readonly tables: string[][] = [];
  /** Every state BIRD went through, as sorted route keys. */
  readonly history: string[][] = [];
  failNext = 0;
  /** What set() throws while set (BIRD refusing its config, say). */
  failWith: Error | null = null;
  /** Why a route cannot be rendered (undefined: it can); a refused route is left out, the rest applied. */
  refuse: (route: DesiredRoute) => string | undefined = () => undefined;
  unreachable = false;
  /** What the next successful set() reports enabled again (protocols disabled as a fail-safe). */
  enableNext: string[] = [];
  /** When set, set() waits for this promise (to test coalescing). */
  gate: Promise<void> | null = null;
  private inFlight = false;

  async set(routes: readonly DesiredRoute[], tables: readonly string[] = []): Promise<ApplyResult> {
    if (this.inFlight) throw new Error('impossible: set() called while another set() is in flight');
    this.inFlight = true;
    try {
      if (this.gate) await this.gate;
      if (this.unreachable) throw new Error('connect ENOENT /run/bird/bird.ctl');
      if (this.failWith) throw this.failWith;
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('8002 bird.conf:3:1 syntax error');
      }
      const refused = routes.flatMap((r) => {
        const reason = this.refuse(r);
        return reason === undefined ? [] : [{ table: r.table, prefix: r.prefix, family: r.family, reason }];
      });
      const taken = routes.filter((r) => this.refuse(r) === undefined);
      this.sets.push([...taken]);
      this.tables.push([...tables]);
      this.held_ = [...taken];
      this.last = [...taken];
      this.history.push(this.heldKeys());
      const enabled = this.enableNext;
      this.enableNext = [];
      return enabled.length ? { refused, enabled } : { refused };
    } finally {
      this.inFlight = false;
    }
  }

  /** What the last successful set() asked for: reconcile() restores it, as the real injector does. */
  private last: DesiredRoute[] | null = null;
  readonly reconciles: number[] = [];

  async reconcile(): Promise<ReconcileResult> {
    if (this.inFlight) throw new Error('impossible: reconcile() called while set() is in flight');
    if (this.unreachable) throw new Error('connect ENOENT /run/bird/bird.ctl');
    this.reconciles.push(this.held_.length);
    const before = this.heldKeys().join(' ');
    if (this.last) this.held_ = [...this.last];
    return this.heldKeys().join(' ') === before ? {} : { repaired: `BIRD held ${before || 'nothing'}` };
  }

  async held(): Promise<HeldRoutes> {
    if (this.unreachable) throw new Error('connect ENOENT /run/bird/bird.ctl');
    return { routes: [...this.held_] };
  }

  heldKeys(): string[] {
    return this.held_.map(routeKey).sort();
  }
}

export class RecordingSink implements StatusSink {
  readonly statuses: AgentSnapshot[] = [];
  readonly events: AgentTransition[] = [];
  status(s: AgentSnapshot): void {
    this.statuses.push(s);
  }
  event(e: AgentTransition): void {
    this.events.push(e);
  }
  names(): string[] {
    return this.events.map((e) => `${e.event}${e.prefix ? ` ${e.prefix}` : ''}`);
  }
}

/** A pino logger whose records are kept as objects. */
export function recordingLogger(): { logger: pino.Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}
