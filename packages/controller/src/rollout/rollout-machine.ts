import type {
  RollbackTarget,
  RolloutEffect,
  RolloutFailureCause,
  RolloutRecord,
  RolloutStatus,
  RolloutStep,
  RolloutStopCause,
} from '@rhi/contracts';
import { TOKEN } from '@rhi/contracts';
import type {
  NewRollout,
  RolloutEvent,
  RolloutRefusal,
  RolloutRefusalCode,
  RolloutTransition,
} from './rollout-types.js';
import { RolloutInvalidError } from './rollout-types.js';

type WithoutSeq<E> = E extends unknown ? Omit<E, 'seq'> : never;
type Effect = WithoutSeq<RolloutEffect>;
type Rejection = RolloutRecord['rejected'][number];

const MAX_TEXT = 1024;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 3)}...` : s);

/** The states in which the rollout goes forward (or would, once resumed). */
export const MOVING: ReadonlySet<RolloutStatus> = new Set(['canary', 'batch', 'soaking', 'paused']);
/** The states that end a rollout: nothing moves it on by itself. */
export const TERMINAL: ReadonlySet<RolloutStatus> = new Set(['completed', 'rolledBack', 'aborted', 'failed']);

const stepSets = new WeakMap<readonly string[], ReadonlySet<string>>();
/** The nodes of a step as a set (the node lists never change: kept per list). */
function nodeSet(nodes: readonly string[]): ReadonlySet<string> {
  let set = stepSets.get(nodes);
  if (!set) stepSets.set(nodes, (set = new Set(nodes)));
  return set;
}

/** The step of a node that has been assigned the rule set rolled out, if any. */
function assignedStepOf(r: RolloutRecord, node: string): number | undefined {
  for (let k = 0; k < r.steps.length; k++) {
    const step = r.steps[k]!;
    if (step.assignedAt === null) return undefined;
    if (nodeSet(step.nodes).has(node)) return k;
  }
  return undefined;
}

/** Every node assigned the rule set rolled out, in step order. */
export function assignedNodes(r: RolloutRecord): string[] {
  const out: string[] = [];
  for (const step of r.steps) if (step.assignedAt !== null) out.push(...step.nodes);
  return out;
}

const missingOf = (nodes: readonly string[], done: readonly string[]) => {
  const have = new Set(done);
  return nodes.filter((n) => !have.has(n));
};

/** One transition being made: a shallow copy of the record, changed in place, and the effects made. */
class Draft {
  readonly r: RolloutRecord;
  readonly effects: RolloutEffect[] = [];
  private stepsCopied = false;

  constructor(state: RolloutRecord) {
    this.r = { ...state };
  }

  /** Who the controller's own actions are by. */
  get self(): string {
    return this.r.owner ?? 'controller';
  }

  emit(effect: Effect): void {
    const seq = this.r.effectSeq + 1;
    this.r.effectSeq = seq;
    const made = { ...effect, seq } as RolloutEffect;
    this.effects.push(made);
    this.r.outbox = [...this.r.outbox, made];
  }

  timeline(
    action: Extract<Effect, { kind: 'timeline' }>['action'],
    by: string,
    at: number,
    extra: { reason?: string; step?: number; nodes?: readonly string[]; serial?: number } = {},
  ): void {
    this.emit({
      kind: 'timeline',
      action,
      by,
      at,
      ...(extra.reason === undefined ? {} : { reason: clip(extra.reason) }),
      ...(extra.step === undefined ? {} : { step: extra.step }),
      ...(extra.nodes === undefined ? {} : { nodes: [...extra.nodes] }),
      ...(extra.serial === undefined ? {} : { serial: extra.serial }),
    });
  }

  alert(
    alert: Extract<Effect, { kind: 'alert' }>['alert'],
    at: number,
    message: string,
    node?: string,
  ): void {
    this.emit({
      kind: 'alert',
      alert,
      by: this.self,
      at,
      message: clip(message),
      ...(node === undefined ? {} : { node }),
    });
  }

  step(k: number): RolloutStep {
    return this.r.steps[k]!;
  }

  patchStep(k: number, patch: Partial<RolloutStep>): void {
    if (!this.stepsCopied) {
      this.r.steps = [...this.r.steps];
      this.stepsCopied = true;
    }
    this.r.steps[k] = { ...this.step(k), ...patch };
  }
}

const unchanged = (state: RolloutRecord, refusal: RolloutRefusal | null = null): RolloutTransition => ({
  state,
  effects: [],
  changed: false,
  refusal,
});

const refuse = (state: RolloutRecord, code: RolloutRefusalCode, message: string) =>
  unchanged(state, { code, message });

function done(d: Draft, now: number | undefined): RolloutTransition {
  d.r.revision += 1;
  if (now !== undefined) d.r.updatedAt = Math.max(d.r.updatedAt, now);
  return { state: d.r, effects: d.effects, changed: true, refusal: null };
}

/** Makes step `k` current: its nodes are assigned the rule set rolled out, once. */
function assignStep(d: Draft, k: number, now: number): void {
  const step = d.step(k);
  const { r } = d;
  d.patchStep(k, { assignedAt: now, ackDueAt: now + r.strategy.ackTimeoutMs });
  r.step = k;
  r.status = step.kind;
  r.lastProgressAt = now;
  d.emit({
    kind: 'assign',
    at: now,
    nodes: [...step.nodes],
    serial: r.ruleSet.serial,
    hash: r.ruleSet.hash,
    step: k,
  });
  d.timeline('stepAssigned', d.self, now, { step: k, nodes: step.nodes, serial: r.ruleSet.serial });
}

/** The current step's nodes have all applied: its soak begins. */
function startSoak(d: Draft, now: number): void {
  const { r } = d;
  d.patchStep(r.step, { soakUntil: now + r.strategy.soakMs });
  r.status = 'soaking';
  r.lastProgressAt = now;
  d.timeline('stepApplied', d.self, now, { step: r.step });
}

/** The current step passed its gates: the next one is assigned, or the rollout is complete. */
function completeStep(d: Draft, now: number): void {
  const { r } = d;
  d.patchStep(r.step, { completedAt: now });
  r.healthyAt = now;
  d.timeline('stepCompleted', d.self, now, { step: r.step });
  if (r.step + 1 < r.steps.length) assignStep(d, r.step + 1, now);
  else {
    r.status = 'completed';
    r.lastProgressAt = now;
    d.timeline('completed', d.self, now, { serial: r.ruleSet.serial });
    if (r.absent.length > 0) {
      d.emit({
        kind: 'assign',
        at: now,
        nodes: [...r.absent],
        serial: r.ruleSet.serial,
        hash: r.ruleSet.hash,
        step: null,
      });
      d.timeline('absentAssigned', d.self, now, { nodes: r.absent, serial: r.ruleSet.serial });
    }
  }
}

function fail(
  d: Draft,
  cause: RolloutFailureCause,
  now: number,
  reason: string,
  nodes: readonly string[],
): void {
  const { r } = d;
  r.status = 'failed';
  r.failure = { cause, at: now, reason: clip(reason), nodes: [...nodes] };
  d.timeline('failed', d.self, now, { reason });
  d.alert('rolloutFailed', now, `rollout ${r.id} failed: ${reason}`);
}

/** Assigns `target` to every node that was assigned the rule set rolled out. */
function startRollback(d: Draft, target: RollbackTarget | null, now: number, by: string): void {
  const { r } = d;
  const nodes = assignedNodes(r);
  r.paused = null;
  if (nodes.length === 0) {
    r.status = 'aborted';
    d.timeline('aborted', by, now, { reason: 'no node was assigned the rule set' });
    return;
  }
  if (!target) {
    fail(
      d,
      'noRollbackTarget',
      now,
      `no last good rule set to roll back to: ${nodes.length} node(s) keep serial ${r.ruleSet.serial}`,
      nodes,
    );
    return;
  }
  r.status = 'rollingBack';
  r.failure = null;
  r.rollback = {
    serial: target.serial,
    hash: target.hash,
    of: target.of,
    nodes,
    assignedAt: now,
    ackDueAt: now + r.strategy.ackTimeoutMs,
    applied: [],
    rejected: [],
  };
  d.emit({
    kind: 'assign',
    at: now,
    nodes: [...nodes],
    serial: target.serial,
    hash: target.hash,
    step: null,
  });
  d.timeline('rollbackAssigned', by, now, {
    nodes,
    serial: target.serial,
    reason: `the rule set of serial ${target.of}, re-issued as serial ${target.serial}`,
  });
}

/** Stops the rollout going forward and rolls it back to `target`. */
function stop(
  d: Draft,
  cause: RolloutStopCause,
  now: number,
  by: string,
  reason: string,
  nodes: readonly string[],
  target: RollbackTarget | null,
  vip?: string,
): void {
  const { r } = d;
  r.stop ??= {
    cause,
    at: now,
    by,
    reason: clip(reason),
    nodes: [...nodes],
    ...(vip === undefined ? {} : { vip }),
  };
  d.timeline('stopped', by, now, { reason, ...(nodes.length ? { nodes } : {}) });
  if (cause !== 'abort' && cause !== 'rollback')
    d.alert('rolloutStopped', now, `rollout ${r.id} stopped and rolls back: ${reason}`);
  startRollback(d, target, now, by);
}

/** Whether every node of the current step has applied. */
const stepApplied = (step: RolloutStep) => step.applied.length === step.nodes.length;

/** `applied` acks that only add their nodes (one, or those {@link onAcks} gathered), in one transition. */
function addApplied(
  state: RolloutRecord,
  forward: ReadonlyMap<number, readonly string[]>,
  rollback: readonly string[],
  now: number,
): RolloutTransition {
  const d = new Draft(state);
  if (rollback.length > 0) {
    const rb = d.r.rollback!;
    const applied = [...rb.applied, ...rollback];
    d.r.rollback = { ...rb, applied };
    if (applied.length === rb.nodes.length) {
      d.r.status = 'rolledBack';
      d.timeline('rolledBack', d.self, now, { serial: rb.serial });
    }
    return done(d, now);
  }
  for (const [k, nodes] of forward) d.patchStep(k, { applied: [...d.step(k).applied, ...nodes] });
  d.r.lastProgressAt = now;
  const k = d.r.step;
  if (forward.has(k) && (d.r.status === 'canary' || d.r.status === 'batch') && stepApplied(d.step(k)))
    startSoak(d, now);
  return done(d, now);
}

function onAck(state: RolloutRecord, e: Extract<RolloutEvent, { type: 'ack' }>): RolloutTransition {
  const r = state;
  if (e.serial === r.ruleSet.serial && e.hash === r.ruleSet.hash) {
    const k = assignedStepOf(r, e.node);
    if (k === undefined) return unchanged(state);
    const rejectedBefore = r.rejected.some((x) => x.node === e.node);
    if (e.result === 'applied') {
      if (rejectedBefore || !MOVING.has(r.status)) return unchanged(state);
      const step = r.steps[k]!;
      if (step.applied.includes(e.node)) return unchanged(state);
      return addApplied(state, new Map([[k, [e.node]]]), [], e.now);
    }
    if (rejectedBefore) return unchanged(state);
    const d = new Draft(state);
    const reason = e.reason ?? 'rejected';
    const rejection: Rejection = {
      node: e.node,
      at: e.now,
      reason: clip(reason),
      ...(e.code === undefined ? {} : { code: e.code }),
    };
    d.r.rejected = [...r.rejected, rejection];
    const step = d.step(k);
    if (step.applied.includes(e.node)) d.patchStep(k, { applied: step.applied.filter((n) => n !== e.node) });
    const what = `${e.node} rejected serial ${r.ruleSet.serial}${e.code ? ` (${e.code})` : ''}: ${reason}`;
    d.timeline('nodeRejected', d.self, e.now, { nodes: [e.node], serial: r.ruleSet.serial, reason });
    d.alert('ruleSetRejected', e.now, what, e.node);
    if (MOVING.has(r.status)) stop(d, 'rejected', e.now, d.self, what, [e.node], r.rollbackTo);
    return done(d, e.now);
  }
  const rb = r.rollback;
  if (!rb || r.status !== 'rollingBack' || e.serial !== rb.serial || e.hash !== rb.hash)
    return unchanged(state);
  if (!nodeSet(rb.nodes).has(e.node) || rb.rejected.some((x) => x.node === e.node)) return unchanged(state);
  if (e.result === 'applied') {
    if (rb.applied.includes(e.node)) return unchanged(state);
    return addApplied(state, new Map(), [e.node], e.now);
  }
  const d = new Draft(state);
  const reason = e.reason ?? 'rejected';
  d.r.rollback = {
    ...rb,
    applied: rb.applied.filter((n) => n !== e.node),
    rejected: [
      ...rb.rejected,
      { node: e.node, at: e.now, reason: clip(reason), ...(e.code === undefined ? {} : { code: e.code }) },
    ],
  };
  const what = `${e.node} rejected the rollback, serial ${rb.serial}${e.code ? ` (${e.code})` : ''}: ${reason}`;
  d.timeline('nodeRejected', d.self, e.now, { nodes: [e.node], serial: rb.serial, reason });
  d.alert('ruleSetRejected', e.now, what, e.node);
  fail(d, 'rollbackRejected', e.now, what, [e.node]);
  return done(d, e.now);
}

type AckInput = Extract<RolloutEvent, { type: 'acks' }>['acks'][number];

/**
 * Where an `applied` ack that only adds its node goes: `rollback`, a forward step's index, or null for an
 * ack that does more (or nothing): those go through {@link onAck} one by one.
 */
function plainApplied(r: RolloutRecord, a: AckInput): number | 'rollback' | null {
  if (a.result !== 'applied') return null;
  if (a.serial === r.ruleSet.serial && a.hash === r.ruleSet.hash) {
    if (!MOVING.has(r.status)) return null;
    const k = assignedStepOf(r, a.node);
    if (k === undefined || nodeSet(r.steps[k]!.applied).has(a.node)) return null;
    if (r.rejected.some((x) => x.node === a.node)) return null;
    return k;
  }
  const rb = r.rollback;
  if (!rb || r.status !== 'rollingBack' || a.serial !== rb.serial || a.hash !== rb.hash) return null;
  if (!nodeSet(rb.nodes).has(a.node) || nodeSet(rb.applied).has(a.node)) return null;
  if (rb.rejected.some((x) => x.node === a.node)) return null;
  return 'rollback';
}

function onAcks(state: RolloutRecord, e: Extract<RolloutEvent, { type: 'acks' }>): RolloutTransition {
  let record = state;
  const effects: RolloutEffect[] = [];
  let changed = false;
  let forward = new Map<number, string[]>();
  let rollback: string[] = [];
  let gathered = new Set<string>();
  const take = (t: RolloutTransition) => {
    if (!t.changed) return;
    record = t.state;
    effects.push(...t.effects);
    changed = true;
  };
  const flush = () => {
    if (gathered.size === 0) return;
    take(addApplied(record, forward, rollback, e.now));
    forward = new Map();
    rollback = [];
    gathered = new Set();
  };
  for (const a of e.acks) {
    const where = gathered.has(a.node) ? null : plainApplied(record, a);
    if (where === null) {
      flush();
      take(onAck(record, { ...a, type: 'ack', now: e.now }));
    } else {
      gathered.add(a.node);
      if (where === 'rollback') rollback.push(a.node);
      else {
        const nodes = forward.get(where);
        if (nodes) nodes.push(a.node);
        else forward.set(where, [a.node]);
      }
    }
  }
  flush();
  return changed ? { state: record, effects, changed: true, refusal: null } : unchanged(state);
}

function onTick(state: RolloutRecord, now: number): RolloutTransition {
  const r = state;
  const deadline = r.strategy.progressDeadlineMs;
  if (r.status === 'canary' || r.status === 'batch') {
    const step = r.steps[r.step]!;
    if (step.ackDueAt !== null && now >= step.ackDueAt && !stepApplied(step)) {
      const missing = missingOf(step.nodes, step.applied);
      const d = new Draft(state);
      const reason = `${missing.length} node(s) of step ${r.step} did not ack serial ${r.ruleSet.serial} within ${r.strategy.ackTimeoutMs} ms: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`;
      stop(d, 'ackTimeout', now, d.self, reason, missing, r.rollbackTo);
      return done(d, now);
    }
    if (deadline !== null && r.lastProgressAt !== null && now >= r.lastProgressAt + deadline) {
      const d = new Draft(state);
      stop(
        d,
        'progressDeadline',
        now,
        d.self,
        `no progress for ${deadline} ms at step ${r.step}`,
        [],
        r.rollbackTo,
      );
      return done(d, now);
    }
    return unchanged(state);
  }
  if (r.status === 'soaking') {
    const step = r.steps[r.step]!;
    const from = Math.max(r.lastProgressAt ?? 0, step.soakUntil ?? 0);
    if (deadline !== null && now >= from + deadline) {
      const d = new Draft(state);
      const reason = `step ${r.step} not seen healthy within ${deadline} ms of the end of its soak`;
      stop(d, 'progressDeadline', now, d.self, reason, [], r.rollbackTo);
      return done(d, now);
    }
    return unchanged(state);
  }
  if (r.status === 'rollingBack' && r.rollback && now >= r.rollback.ackDueAt) {
    const missing = missingOf(r.rollback.nodes, r.rollback.applied);
    const d = new Draft(state);
    const reason = `${missing.length} node(s) did not ack the rollback, serial ${r.rollback.serial}, within ${r.strategy.ackTimeoutMs} ms: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`;
    fail(d, 'rollbackAckTimeout', now, reason, missing);
    return done(d, now);
  }
  return unchanged(state);
}

/** Moves the current step's deadlines on by the time spent paused. */
function resume(d: Draft, now: number, by: string): void {
  const { r } = d;
  const paused = r.paused!;
  const pausedFor = Math.max(0, now - paused.at);
  const step = d.step(r.step);
  d.patchStep(r.step, {
    ackDueAt: step.ackDueAt === null ? null : step.ackDueAt + pausedFor,
    soakUntil: step.soakUntil === null ? null : step.soakUntil + pausedFor,
  });
  r.paused = null;
  r.status = paused.from;
  r.lastProgressAt = now;
  d.timeline('resumed', by, now, { step: r.step });
  if (r.status !== 'soaking' && stepApplied(d.step(r.step))) startSoak(d, now);
}

/**
 * The rollout machine: the next state of a rollout and the effects to do, for one input. Pure: the same
 * state and input always give the same result, and nothing is kept between calls, so that any replica
 * continues from the stored state alone.
 *
 * Forward: `start` assigns the first step; each step, once every node acked `applied`, soaks; a `healthy`
 * view after the soak completes it and assigns the next; after the last, the nodes `absent` at planning
 * are assigned the rule set (they take it when they come back). A rejection, an ack missing past `ackTimeoutMs`,
 * an alert or a VIP losing advertisers through a node that got the rule set, or no progress within the
 * progress deadline stops it and assigns the rollback to every node that got the rule set (no gates: it
 * ends when they all acked it, and fails on a rejection or a missing ack). While paused, deadlines stand
 * still and no step is assigned, but a rejection, an alert or a VIP lost still stop it.
 *
 * Every effect is made once, numbered, and kept in the outbox until `effectsDone`; inputs already
 * applied (the same ack, a second pause) change nothing; `takeover` hands the new owner the outbox.
 */
export function applyRolloutEvent(state: RolloutRecord, e: RolloutEvent): RolloutTransition {
  const r = state;
  switch (e.type) {
    case 'start': {
      if (r.status !== 'pending') return unchanged(state);
      const d = new Draft(state);
      d.timeline('started', e.by, e.now, { serial: r.ruleSet.serial });
      assignStep(d, 0, e.now);
      return done(d, e.now);
    }
    case 'ack':
      return onAck(state, e);
    case 'acks':
      return onAcks(state, e);
    case 'alert': {
      if (!MOVING.has(r.status)) return unchanged(state);
      const k = assignedStepOf(r, e.node);
      if (k === undefined || e.openedAt < (r.steps[k]!.assignedAt ?? Infinity)) return unchanged(state);
      const d = new Draft(state);
      stop(d, 'alert', e.now, d.self, `alert on ${e.node}: ${e.message}`, [e.node], r.rollbackTo);
      return done(d, e.now);
    }
    case 'vipLost': {
      if (!MOVING.has(r.status)) return unchanged(state);
      const nodes = e.withdrawnBy.filter((n) => assignedStepOf(r, n) !== undefined);
      if (nodes.length === 0) return unchanged(state);
      const d = new Draft(state);
      const reason = `${e.vip} fell from ${e.before} to ${e.after} advertiser(s), withdrawn by ${nodes.join(', ')}`;
      stop(d, 'vipLost', e.now, d.self, reason, nodes, r.rollbackTo, e.vip);
      return done(d, e.now);
    }
    case 'healthy': {
      if (r.status !== 'soaking') return unchanged(state);
      const soakUntil = r.steps[r.step]!.soakUntil;
      if (soakUntil === null || e.now < soakUntil) return unchanged(state);
      const d = new Draft(state);
      completeStep(d, e.now);
      return done(d, e.now);
    }
    case 'tick':
      return onTick(state, e.now);
    case 'pause': {
      if (r.status === 'paused') return unchanged(state);
      if (r.status !== 'canary' && r.status !== 'batch' && r.status !== 'soaking')
        return refuse(
          state,
          'ROLLOUT_NOT_RUNNING',
          `rollout ${r.id} is ${r.status}: only a running rollout pauses`,
        );
      const d = new Draft(state);
      d.r.paused = {
        from: r.status,
        at: e.now,
        by: e.by,
        ...(e.reason === undefined ? {} : { reason: clip(e.reason) }),
      };
      d.r.status = 'paused';
      d.timeline('paused', e.by, e.now, {
        step: r.step,
        ...(e.reason === undefined ? {} : { reason: e.reason }),
      });
      return done(d, e.now);
    }
    case 'resume': {
      if (r.status === 'canary' || r.status === 'batch' || r.status === 'soaking') return unchanged(state);
      if (r.status !== 'paused' || !r.paused)
        return refuse(state, 'ROLLOUT_NOT_PAUSED', `rollout ${r.id} is ${r.status}, not paused`);
      const d = new Draft(state);
      resume(d, e.now, e.by);
      return done(d, e.now);
    }
    case 'abort': {
      if (r.status === 'aborted' || r.status === 'rollingBack') return unchanged(state);
      if (TERMINAL.has(r.status))
        return refuse(state, 'ROLLOUT_FINISHED', `rollout ${r.id} is ${r.status}: use a rollback instead`);
      if (e.reason.trim() === '') return refuse(state, 'ROLLOUT_REASON_MISSING', 'an abort needs a reason');
      const d = new Draft(state);
      if (r.status === 'pending') {
        d.r.status = 'aborted';
        d.timeline('aborted', e.by, e.now, { reason: e.reason });
      } else stop(d, 'abort', e.now, e.by, e.reason, [], r.rollbackTo);
      return done(d, e.now);
    }
    case 'rollback': {
      if (r.rollback && r.rollback.serial === e.to.serial && r.rollback.hash === e.to.hash)
        return unchanged(state);
      if (e.reason.trim() === '') return refuse(state, 'ROLLOUT_REASON_MISSING', 'a rollback needs a reason');
      if (r.steps[0]!.assignedAt === null)
        return refuse(
          state,
          'ROLLOUT_NOTHING_ASSIGNED',
          `rollout ${r.id} assigned nothing: abort it instead`,
        );
      const floor = Math.max(r.ruleSet.serial, r.rollback?.serial ?? 0);
      if (e.to.serial <= floor)
        return refuse(
          state,
          'ROLLOUT_ROLLBACK_SERIAL_STALE',
          `a rollback is re-issued under a serial above ${floor} (agents refuse a lower one), got ${e.to.serial}`,
        );
      const d = new Draft(state);
      if (MOVING.has(r.status)) stop(d, 'rollback', e.now, e.by, e.reason, [], e.to);
      else {
        d.r.stop ??= { cause: 'rollback', at: e.now, by: e.by, reason: clip(e.reason), nodes: [] };
        d.timeline('stopped', e.by, e.now, { reason: e.reason });
        startRollback(d, e.to, e.now, e.by);
      }
      return done(d, e.now);
    }
    case 'takeover': {
      if (r.owner === e.by) return { state, effects: r.outbox, changed: false, refusal: null };
      const d = new Draft(state);
      const from = r.owner;
      d.r.owner = e.by;
      // The first replica to drive a rollout started through another's API takes nothing over.
      if (from !== null) d.timeline('takeover', e.by, e.now, { reason: `from ${from}` });
      return { ...done(d, e.now), effects: d.r.outbox };
    }
    case 'effectsDone': {
      const outbox = r.outbox.filter((x) => x.seq > e.through);
      if (outbox.length === r.outbox.length) return unchanged(state);
      const d = new Draft(state);
      d.r.outbox = outbox;
      return done(d, undefined);
    }
  }
}

/**
 * A new rollout, `pending` until its `start`: its steps (from `planSteps`) and strategy fixed. Throws
 * {@link RolloutInvalidError} for steps that are empty or name a node twice, or a rollback target that
 * agents would refuse (a serial not above the rule set's). Pure.
 */
export function createRollout(input: NewRollout): RolloutTransition {
  const invalid = (reason: string): never => {
    throw new RolloutInvalidError(input.id, reason);
  };
  if (!TOKEN.test(input.id)) invalid('the id must be 1-64 letters, digits, - or _');
  if (input.steps.length === 0) invalid('no steps');
  const seen = new Set<string>();
  input.steps.forEach((s, k) => {
    if (s.nodes.length === 0) invalid(`step ${k} has no node`);
    for (const n of s.nodes) {
      if (seen.has(n)) invalid(`node ${n} is in two steps`);
      seen.add(n);
    }
  });
  for (const n of input.absent ?? []) if (seen.has(n)) invalid(`node ${n} is in a step and absent`);
  if (input.rollbackTo && input.rollbackTo.serial <= input.ruleSet.serial)
    invalid(
      `the rollback target's serial (${input.rollbackTo.serial}) must be above the rule set's (${input.ruleSet.serial})`,
    );
  const state: RolloutRecord = {
    schema: 'rhi.v1.rollout',
    id: input.id,
    revision: 0,
    createdAt: input.now,
    createdBy: input.by,
    ...(input.message === undefined ? {} : { message: clip(input.message) }),
    updatedAt: input.now,
    owner: input.owner ?? null,
    target: input.target,
    ruleSet: { ...input.ruleSet },
    rollbackTo: input.rollbackTo ? { ...input.rollbackTo } : null,
    strategy: { ...input.strategy },
    status: 'pending',
    step: 0,
    steps: input.steps.map((s) => ({
      kind: s.kind,
      nodes: [...s.nodes],
      assignedAt: null,
      ackDueAt: null,
      applied: [],
      soakUntil: null,
      completedAt: null,
    })),
    absent: [...(input.absent ?? [])],
    lastProgressAt: null,
    healthyAt: null,
    paused: null,
    rejected: [],
    stop: null,
    rollback: null,
    failure: null,
    effectSeq: 0,
    outbox: [],
  };
  const d = new Draft(state);
  d.timeline('created', input.by, input.now, {
    serial: input.ruleSet.serial,
    ...(input.message === undefined ? {} : { reason: input.message }),
  });
  return { state: d.r, effects: d.effects, changed: true, refusal: null };
}
