import type { RolloutEffect, RolloutRecord } from '@rhi/contracts';
import { RolloutRecordSchema, RolloutStrategySchema } from '@rhi/contracts';
import { expect } from 'vitest';
import { applyRolloutEvent, createRollout } from '../../src/rollout/rollout-machine.js';
import type { NewRollout, RolloutEvent, RolloutTransition } from '../../src/rollout/rollout-types.js';

/** The rule set rolled out, the last good one, and another older one (hashes). */
export const NEW = 'a'.repeat(64);
export const GOOD = 'b'.repeat(64);
export const OLDER = 'c'.repeat(64);
/** The fake clock's start (ms). */
export const T = Date.parse('2026-12-02T10:00:00.000Z');

export const SOAK = 60_000;
export const ACK_TIMEOUT = 30_000;
export const PROGRESS = 300_000;

/** A rollout of serial 10 to c1, then b1+b2, then b3, rolling back to serial 11 (a copy of serial 9). */
export function newRollout(over: Partial<NewRollout> = {}): NewRollout {
  return {
    id: 'r-1',
    now: T,
    by: 'alice',
    message: 'tighten be_app',
    target: { kind: 'all' },
    ruleSet: { serial: 10, hash: NEW },
    rollbackTo: { serial: 11, hash: GOOD, of: 9 },
    strategy: RolloutStrategySchema.parse({
      soakMs: SOAK,
      ackTimeoutMs: ACK_TIMEOUT,
      progressDeadlineMs: PROGRESS,
    }),
    steps: [
      { kind: 'canary', nodes: ['c1'] },
      { kind: 'batch', nodes: ['b1', 'b2'] },
      { kind: 'batch', nodes: ['b3'] },
    ],
    owner: 'replica-a',
    ...over,
  };
}

/**
 * Drives a rollout: every state it reaches must pass the stored schema, and every change must move the
 * revision on by one. Keeps every effect made, by seq (an effect made again after a takeover must be the
 * same one).
 */
export class Drive {
  state: RolloutRecord;
  readonly effects = new Map<number, RolloutEffect>();
  last: RolloutTransition;

  constructor(input: NewRollout = newRollout()) {
    this.last = createRollout(input);
    this.state = this.last.state;
    this.keep(this.last.effects);
  }

  send(event: RolloutEvent): RolloutTransition {
    const before = this.state;
    const t = applyRolloutEvent(before, event);
    expect(RolloutRecordSchema.safeParse(t.state).error).toBeUndefined();
    if (t.changed) expect(t.state.revision).toBe(before.revision + 1);
    else expect(t.state).toBe(before);
    this.keep(t.effects);
    this.state = t.state;
    this.last = t;
    return t;
  }

  private keep(effects: readonly RolloutEffect[]): void {
    for (const e of effects) {
      const known = this.effects.get(e.seq);
      if (known) expect(e).toEqual(known);
      else this.effects.set(e.seq, e);
    }
  }

  /** Every distinct assignment effect made, in order. */
  assigns(): Extract<RolloutEffect, { kind: 'assign' }>[] {
    return [...this.effects.values()].filter((e) => e.kind === 'assign');
  }

  /** The timeline actions made, in order. */
  actions(): string[] {
    return [...this.effects.values()].flatMap((e) => (e.kind === 'timeline' ? [e.action] : []));
  }

  alerts(): Extract<RolloutEffect, { kind: 'alert' }>[] {
    return [...this.effects.values()].filter((e) => e.kind === 'alert');
  }
}

export const applied = (node: string, now: number, serial = 10, hash = NEW): RolloutEvent => ({
  type: 'ack',
  now,
  node,
  serial,
  hash,
  result: 'applied',
});

export const rejected = (node: string, now: number, serial = 10, hash = NEW): RolloutEvent => ({
  type: 'ack',
  now,
  node,
  serial,
  hash,
  result: 'rejected',
  code: 'RULESET_UNKNOWN_PROXIES',
  reason: 'b:be_new is not a backend of this HAProxy',
});
