import type { RollbackTarget, RolloutRecord, RolloutStrategy, RuleSetTarget } from '@rhi/contracts';
import { lastGoodOf } from '../rollout/last-good.js';
import { applyRolloutEvent, createRollout, TERMINAL } from '../rollout/rollout-machine.js';
import type { RolloutEvent, RolloutRefusalCode } from '../rollout/rollout-types.js';
import { planSteps, targetedNodes, type PlanNode } from '../rollout/step-plan.js';
import type { RolloutStorePort } from '../ports.js';
import { RuleSetServiceError, type RuleSetService, type WhatIfAnswer } from '../rulesets/rule-set-service.js';
import type { FleetView } from '../view/fleet-view.js';

/** A rollout operation that cannot be done: the code says why, for the API to answer with. */
export class RolloutServiceError extends Error {
  constructor(
    readonly code:
      'NATS_UNAVAILABLE' | 'ROLLOUT_NOT_FOUND' | 'ROLLOUT_BLOCKED' | 'ROLLOUT_BUSY' | RolloutRefusalCode,
    message: string,
    /** The what-if and the guard's verdict of a blocked rollout. */
    readonly whatIf?: WhatIfAnswer,
  ) {
    super(message);
    this.name = 'RolloutServiceError';
  }
}

/** What the service works over. */
export interface RolloutServiceDeps {
  /** The store while NATS is connected, else null. */
  readonly store: () => RolloutStorePort | null;
  readonly rulesets: RuleSetService;
  readonly view: FleetView;
  readonly now?: () => number;
}

/** A rollout asked for. */
export interface StartRollout {
  /** The stored rule set to roll out (with `rollback`: the one to go back to). */
  readonly serial: number;
  /** Default: the rule set's own target. */
  readonly target?: RuleSetTarget;
  readonly strategy: RolloutStrategy;
  readonly message?: string;
  /** The API caller's name. */
  readonly by: string;
  /** Go past the guard: the reason is recorded in the rollout's timeline. */
  readonly force?: string;
  /**
   * Go back to `serial`: a copy of its rules is stored at a fresh serial (agents refuse a lower one) and
   * rolled out with the strategy given (the API gives a rollback no canary and no soak unless asked).
   */
  readonly rollback?: boolean;
  readonly id?: string;
}

/** A rollout started: its record, the what-if it was judged on, and the targeted nodes left out. */
export interface Started {
  readonly rollout: RolloutRecord;
  readonly whatIf: WhatIfAnswer;
  /** Targeted nodes lost when it was planned: in no step; assigned its rule set once it completes. */
  readonly skipped: readonly string[];
}

/** Write conflicts tried again before a command gives up (another replica keeps moving the rollout). */
const COMMAND_TRIES = 8;

/**
 * Rollouts for the API: judge and start one (what-if and guard, steps planned over the nodes up, the
 * last good rule set re-issued as its rollback), read them, and apply a person's command (pause, resume,
 * abort, rollback) by compare-and-set on the stored record. The replica holding the lease does the
 * effects (see `RolloutRunner`); this only writes records.
 */
export class RolloutService {
  constructor(private readonly deps: RolloutServiceDeps) {}

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  async start(req: StartRollout): Promise<Started> {
    const store = this.store();
    const busy = await store.active();
    if (busy !== null)
      throw new RolloutServiceError(
        'ROLLOUT_BUSY',
        `rollout ${busy} is under way: pause, abort or let it finish before starting another`,
      );
    const { rulesets } = this.deps;
    const original = await rulesets.get(req.serial);
    const target = req.target ?? original.target;
    const force = req.force === undefined ? undefined : { by: req.by, reason: req.force };
    const whatIf = await rulesets.whatIf({ serial: req.serial }, target, force);
    if (!whatIf.guard.allowed)
      throw new RolloutServiceError(
        'ROLLOUT_BLOCKED',
        `the guard blocks serial ${req.serial}: ${whatIf.guard.blockers.length} problem(s); see whatIf.guard.blockers, or force with a reason`,
        whatIf,
      );
    const statuses = this.deps.view.nodeStatuses();
    const up: PlanNode[] = [];
    const lost: PlanNode[] = [];
    for (const { summary } of statuses)
      (summary.state === 'lost' ? lost : up).push({ name: summary.name, labels: summary.labels });
    const steps = planSteps(up, target, req.strategy);
    const skipped = targetedNodes(lost, target);
    const id = req.id ?? `s${req.serial}-${this.now.toString(36)}`;
    const ruleSet = req.rollback
      ? await rulesets.reissue(req.serial, req.by, req.message ?? `rollback to serial ${req.serial}`)
      : original;
    const inSteps = new Set(steps.flatMap((s) => s.nodes));
    const running = statuses.filter((s) => inSteps.has(s.summary.name)).map((s) => s.summary.ruleSet);
    const rollbackTo = await this.rollbackTarget(lastGoodOf(running, ruleSet), ruleSet.serial, id);
    const note = force ? ` [guard forced by ${req.by}: ${req.force}]` : '';
    const message = `${req.message ?? ruleSet.message}${note}`;
    const created = createRollout({
      id,
      now: this.now,
      by: req.by,
      message,
      target,
      ruleSet: { serial: ruleSet.serial, hash: ruleSet.hash },
      rollbackTo,
      strategy: req.strategy,
      steps,
      absent: skipped,
      owner: null,
    });
    const started = applyRolloutEvent(created.state, { type: 'start', now: this.now, by: req.by });
    const stored = await store.create(started.state);
    return { rollout: stored.record, whatIf, skipped };
  }

  /** The last good rule set, re-issued above the rollout's serial; null when there is none stored. */
  private async rollbackTarget(
    good: { serial: number; hash: string } | null,
    above: number,
    rollout: string,
  ): Promise<RollbackTarget | null> {
    if (!good) return null;
    try {
      const copy = await this.deps.rulesets.reissue(
        good.serial,
        'controller',
        `what rollout ${rollout} rolls back to: serial ${good.serial} re-issued`,
      );
      if (copy.serial <= above || copy.hash !== good.hash) return null;
      return { serial: copy.serial, hash: copy.hash, of: good.serial };
    } catch (err) {
      if (err instanceof RuleSetServiceError && err.code === 'RULESET_NOT_FOUND') return null;
      throw err;
    }
  }

  async get(id: string): Promise<RolloutRecord> {
    const stored = await this.store().get(id);
    if (!stored) throw new RolloutServiceError('ROLLOUT_NOT_FOUND', `no rollout has id ${id}`);
    return stored.record;
  }

  /** The rollout under way (if any) and the newest rollouts, at most `limit`, newest first. */
  async list(limit: number): Promise<{ active: string | null; rollouts: RolloutRecord[] }> {
    const store = this.store();
    const active = await store.active();
    const records: RolloutRecord[] = [];
    for (const id of await store.ids()) {
      const stored = await store.get(id).catch(() => null);
      if (stored) records.push(stored.record);
    }
    records.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
    return { active, rollouts: records.slice(0, limit) };
  }

  /**
   * Applies a person's command to a rollout, over the revision read (read again on a conflict). A
   * command the machine refuses throws with its code; one that changes nothing (a second pause) answers
   * the record as it is.
   */
  async command(
    id: string,
    make: (now: number) => Extract<RolloutEvent, { type: 'pause' | 'resume' | 'abort' | 'rollback' }>,
  ): Promise<RolloutRecord> {
    const store = this.store();
    for (let attempt = 0; attempt < COMMAND_TRIES; attempt++) {
      const stored = await store.get(id);
      if (!stored) throw new RolloutServiceError('ROLLOUT_NOT_FOUND', `no rollout has id ${id}`);
      const t = applyRolloutEvent(stored.record, make(this.now));
      if (t.refusal) throw new RolloutServiceError(t.refusal.code, t.refusal.message);
      if (!t.changed) return stored.record;
      try {
        return (await store.update(t.state, stored.revision)).record;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ROLLOUT_CONFLICT') throw err;
      }
    }
    throw new RolloutServiceError('ROLLOUT_BUSY', `rollout ${id} kept changing: try again`);
  }

  /**
   * Rolls a rollout's nodes back to `serial`'s rules by hand: a copy stored at a fresh serial (agents
   * refuse a lower one), then the rollout's `rollback` command, which stops it first if it still moves.
   */
  async rollbackTo(id: string, serial: number, by: string, reason: string): Promise<RolloutRecord> {
    const current = await this.get(id);
    if (current.steps[0]!.assignedAt === null)
      throw new RolloutServiceError(
        'ROLLOUT_NOTHING_ASSIGNED',
        `rollout ${id} assigned nothing: abort it instead`,
      );
    const store = this.store();
    const ended = TERMINAL.has(current.status);
    if (ended) {
      const active = await store.active();
      if (active !== null && active !== id)
        throw new RolloutServiceError(
          'ROLLOUT_BUSY',
          `rollout ${active} is under way: wait for it or abort it`,
        );
    }
    const copy = await this.deps.rulesets.reissue(
      serial,
      by,
      `rollback of rollout ${id} to serial ${serial}: ${reason}`,
    );
    const moved = await this.command(id, (now) => ({
      type: 'rollback',
      now,
      by,
      reason,
      to: { serial: copy.serial, hash: copy.hash, of: serial },
    }));
    if (!ended) return moved;
    // An ended rollout moves again once it is the one under way. The claim comes after the record is
    // written: a runner that read the ended record between a claim and the write would give the claim up.
    try {
      await store.claim(id);
    } catch (err) {
      await this.undo(id, current);
      throw err;
    }
    return moved;
  }

  /** Writes an ended rollout back as it was, when another rollout took `active` before it could. */
  private async undo(id: string, before: RolloutRecord): Promise<void> {
    const store = this.store();
    const now = await store.get(id);
    if (now) await store.update(before, now.revision).catch(() => undefined);
  }

  private store(): RolloutStorePort {
    const store = this.deps.store();
    if (!store)
      throw new RolloutServiceError('NATS_UNAVAILABLE', 'NATS is unreachable: rollouts live in JetStream');
    return store;
  }
}
