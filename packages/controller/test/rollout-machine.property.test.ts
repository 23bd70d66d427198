import { RolloutRecordSchema, RolloutStrategySchema } from '@rhi/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyRolloutEvent, TERMINAL } from '../src/rollout/rollout-machine.js';
import type { RolloutEvent } from '../src/rollout/rollout-types.js';
import { Drive, GOOD, NEW, newRollout, OLDER, T } from './support/rollout.js';

// Random inputs against the rollout machine: whatever comes, in whatever order, and replayed, no step is
// assigned twice or lost, a node that rejected the rule set is never counted as applied, and once the
// deadlines have passed the rollout has ended.

const NODES = ['c1', 'b1', 'b2', 'b3', 'b4', 'b5'];
const steps = [
  { kind: 'canary' as const, nodes: ['c1'] },
  { kind: 'batch' as const, nodes: ['b1', 'b2'] },
  { kind: 'batch' as const, nodes: ['b3', 'b4'] },
  { kind: 'batch' as const, nodes: ['b5'] },
];

/** An input without its time, which the run adds (the clock only goes forward). */
type Step =
  /** `aimed`: from a node the rollout waits for, for the serial it waits for; else `node` and `serial`. */
  | {
      kind: 'ack';
      aimed: boolean;
      pick: number;
      node: string;
      serial: 10 | 11 | 12;
      result: 'applied' | 'rejected';
    }
  | { kind: 'healthy' | 'tick' | 'pause' | 'resume' | 'abort' | 'roundTrip' }
  | { kind: 'alert' | 'vipLost'; node: string }
  | { kind: 'rollback' }
  | { kind: 'takeover'; by: string }
  | { kind: 'effectsDone'; fraction: number };

const node = fc.constantFrom(...NODES);
/** An ack's fields: aimed at what the rollout waits for, or any node and serial; mostly `applied`. */
const ackFields = {
  aimed: fc.boolean(),
  pick: fc.nat(),
  node,
  serial: fc.constantFrom(10 as const, 11 as const, 12 as const),
  result: fc.constantFrom('applied' as const, 'applied' as const, 'applied' as const, 'rejected' as const),
};
const stepArb: fc.Arbitrary<{ step: Step; advance: number }> = fc.record({
  advance: fc.oneof(
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 5_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 90_000 }) },
  ),
  step: fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({ kind: fc.constant('ack' as const), ...ackFields }),
    },
    { weight: 4, arbitrary: fc.constantFrom({ kind: 'healthy' as const }, { kind: 'tick' as const }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { kind: 'pause' as const },
        { kind: 'resume' as const },
        { kind: 'abort' as const },
        { kind: 'rollback' as const },
        { kind: 'roundTrip' as const },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constantFrom('alert' as const, 'vipLost' as const), node }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('takeover' as const),
        by: fc.constantFrom('replica-a', 'replica-b'),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('effectsDone' as const),
        fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    },
  ),
});

const strategy = RolloutStrategySchema.parse({
  soakMs: 10_000,
  ackTimeoutMs: 60_000,
  progressDeadlineMs: 120_000,
});
const hashOf = (serial: number) => (serial === 10 ? NEW : serial === 11 ? GOOD : OLDER);

function eventOf(step: Step, now: number, d: Drive): RolloutEvent | null {
  switch (step.kind) {
    case 'ack': {
      const s = d.state;
      const waiting = s.rollback && s.status === 'rollingBack' ? s.rollback : null;
      const nodes = waiting ? waiting.nodes : s.steps[s.step]!.nodes;
      const n = step.aimed ? nodes[step.pick % nodes.length]! : step.node;
      const serial = step.aimed ? (waiting ? waiting.serial : 10) : step.serial;
      return {
        type: 'ack',
        now,
        node: n,
        serial,
        hash: hashOf(serial),
        result: step.result,
        ...(step.result === 'rejected' ? { reason: 'no' } : {}),
      };
    }
    case 'healthy':
    case 'tick':
      return { type: step.kind, now };
    case 'pause':
    case 'resume':
      return { type: step.kind, now, by: 'op' };
    case 'abort':
      return { type: 'abort', now, by: 'op', reason: 'random abort' };
    case 'rollback':
      return {
        type: 'rollback',
        now,
        by: 'op',
        reason: 'random rollback',
        to: { serial: 12, hash: OLDER, of: 8 },
      };
    case 'alert':
      return { type: 'alert', now, node: step.node, openedAt: now, message: 'drift' };
    case 'vipLost':
      return {
        type: 'vipLost',
        now,
        vip: 'vol1%198.18.200.1/32',
        before: 2,
        after: 1,
        withdrawnBy: [step.node],
      };
    case 'takeover':
      return { type: 'takeover', now, by: step.by };
    case 'effectsDone':
      return { type: 'effectsDone', through: Math.floor(d.state.effectSeq * step.fraction) };
    case 'roundTrip':
      return null;
  }
}

/** The invariants that hold after every input. */
function check(d: Drive): void {
  const s = d.state;
  const assigns = d.assigns();
  for (let k = 0; k < s.steps.length; k++) {
    const made = assigns.filter((a) => a.step === k);
    // Never twice; and exactly once for every step that counts as assigned.
    expect(made.length).toBe(s.steps[k]!.assignedAt === null ? 0 : 1);
    if (made[0]) expect(made[0].nodes).toEqual(s.steps[k]!.nodes);
  }
  const rejected = new Set(s.rejected.map((r) => r.node));
  for (const step of s.steps) {
    for (const n of step.applied) expect(rejected.has(n)).toBe(false);
    expect(new Set(step.applied).size).toBe(step.applied.length);
  }
  if (s.rollback) {
    const nack = new Set(s.rollback.rejected.map((r) => r.node));
    for (const n of s.rollback.applied) expect(nack.has(n)).toBe(false);
  }
  for (let k = s.step + 1; k < s.steps.length; k++) expect(s.steps[k]!.assignedAt).toBeNull();
  expect(s.outbox.every((e, i) => i === 0 || e.seq > s.outbox[i - 1]!.seq)).toBe(true);
}

describe('rollout machine, under random inputs', () => {
  it('never assigns a step twice or loses one, never counts a rejecting node applied, and ends once deadlines pass', () => {
    fc.assert(
      // A calm run has no rejection, alert, lost VIP, abort or rollback: it gets further forward.
      fc.property(
        fc.array(stepArb, { minLength: 20, maxLength: 150, size: 'max' }),
        fc.boolean(),
        (run, calm) => {
          const d = new Drive(newRollout({ steps, strategy }));
          let now = T;
          d.send({ type: 'start', now, by: 'alice' });
          for (const { step, advance } of run) {
            now += advance;
            const disruptive =
              (step.kind === 'ack' && step.result === 'rejected') ||
              ['alert', 'vipLost', 'abort', 'rollback'].includes(step.kind);
            const event = eventOf(calm && disruptive ? { kind: 'healthy' } : step, now, d);
            if (event === null) {
              const copy = RolloutRecordSchema.parse(JSON.parse(JSON.stringify(d.state)));
              expect(copy).toEqual(d.state);
              d.state = copy;
              continue;
            }
            d.send(event);
            const again = applyRolloutEvent(d.state, event);
            // Replayed at once, an input changes nothing.
            expect(again.changed).toBe(false);
            expect(again.state).toBe(d.state);
            check(d);
          }
          if (d.state.status === 'paused') d.send({ type: 'resume', now, by: 'op' });
          for (let i = 0; i < 4 && !TERMINAL.has(d.state.status); i++) {
            now += 24 * 3_600_000;
            d.send({ type: 'tick', now });
            check(d);
          }
          expect(TERMINAL.has(d.state.status)).toBe(true);
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('rollout machine, acks in one batch', () => {
  it('ends where the same acks one by one end, with the same effects, in one transition', () => {
    const ackArb = fc.record(ackFields);
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 0, maxLength: 40 }),
        fc.array(ackArb, { minLength: 1, maxLength: 30 }),
        (before, batch) => {
          const d = new Drive(newRollout({ steps, strategy }));
          let now = T;
          d.send({ type: 'start', now, by: 'alice' });
          for (const { step, advance } of before) {
            now += advance;
            const event = eventOf(step, now, d);
            if (event) d.send(event);
          }
          now += 1;
          const acks = batch.map((a) => {
            const e = eventOf({ kind: 'ack', ...a }, now, d) as Extract<RolloutEvent, { type: 'ack' }>;
            const { type: _type, now: _now, ...rest } = e;
            return rest;
          });
          let one = d.state;
          const effects: unknown[] = [];
          for (const a of acks) {
            const t = applyRolloutEvent(one, { type: 'ack', now, ...a });
            one = t.state;
            effects.push(...t.effects);
          }
          const all = applyRolloutEvent(d.state, { type: 'acks', now, acks });
          expect(all.effects).toEqual(effects);
          expect(all.changed).toBe(one !== d.state);
          // The revision counts transitions: fewer for the batch (one while the acks only add nodes).
          expect({ ...all.state, revision: 0 }).toEqual({ ...one, revision: 0 });
          expect(all.state.revision).toBeLessThanOrEqual(one.revision);
        },
      ),
      { numRuns: 300 },
    );
  });
});
