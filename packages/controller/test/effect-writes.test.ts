import type { RolloutEffect, RolloutRecord } from '@rhi/contracts';
import { ROLLOUT_EVENT_MAX_NODES, RolloutTimelineEventSchema, RuleSetAssignmentSchema } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { assignmentsOf, timelineEventOf } from '../src/rollouts/effect-writes.js';
import { applied, Drive, GOOD, NEW, newRollout, rejected, SOAK, T } from './support/rollout.js';

// What the runner writes for a rollout's effects, from records the rollout machine made.

const iso = (ms: number) => new Date(ms).toISOString();

type Assign = Extract<RolloutEffect, { kind: 'assign' }>;
type Other = Exclude<RolloutEffect, { kind: 'assign' }>;

/** When c1 applied, and when step 1 (b1, b2) is assigned. */
const APPLIED = T + 1000;
const B = APPLIED + SOAK;

/** The canary passed: step 1 (b1, b2) assigned at B. */
function batch(d = new Drive()): Drive {
  d.send({ type: 'start', now: T, by: 'alice' });
  d.send(applied('c1', APPLIED));
  d.send({ type: 'healthy', now: B });
  expect(d.state).toMatchObject({ status: 'batch', step: 1 });
  return d;
}

/** Stopped in step 1 by an alert on b1: rolling back c1, b1, b2 at B + 5000. */
function rollingBack(): Drive {
  const d = batch();
  d.send({ type: 'alert', now: B + 5000, node: 'b1', openedAt: B + 10, message: 'BIRD lacks 1 route' });
  expect(d.state.status).toBe('rollingBack');
  return d;
}

const assignOf = (d: Drive, step: number | null): Assign => {
  const e = d.assigns().find((x) => x.step === step);
  expect(e).toBeDefined();
  return e!;
};

const timelineOf = (d: Drive, action: string): Other => {
  const e = [...d.effects.values()].find((x) => x.kind === 'timeline' && x.action === action);
  expect(e).toBeDefined();
  return e as Other;
};

const others = (d: Drive): Other[] => [...d.effects.values()].filter((e): e is Other => e.kind !== 'assign');

const names = (n: number) => Array.from({ length: n }, (_, i) => `lb-${String(i).padStart(3, '0')}`);

describe('assignmentsOf', () => {
  it("writes one valid assignment per node of a step, at the step's assignment", () => {
    const d = batch();
    const r = d.state;
    const canary = assignmentsOf(r, assignOf(d, 0));
    const step1 = assignmentsOf(r, assignOf(d, 1));
    expect(canary).toStrictEqual([
      { schema: 'rhi.v1.assignment', node: 'c1', serial: 10, hash: NEW, rollout: 'r-1', assignedAt: iso(T) },
    ]);
    expect(step1).toStrictEqual(
      ['b1', 'b2'].map((node) => ({
        schema: 'rhi.v1.assignment',
        node,
        serial: 10,
        hash: NEW,
        rollout: 'r-1',
        assignedAt: iso(B),
      })),
    );
    for (const a of [...canary, ...step1]) expect(RuleSetAssignmentSchema.safeParse(a).error).toBeUndefined();
  });

  it("writes the rollback at the rollback's assignment, with its serial and hash, to every node assigned", () => {
    const d = rollingBack();
    const e = assignOf(d, null);
    const out = assignmentsOf(d.state, e);
    expect(out).toStrictEqual(
      ['c1', 'b1', 'b2'].map((node) => ({
        schema: 'rhi.v1.assignment',
        node,
        serial: 11,
        hash: GOOD,
        rollout: 'r-1',
        assignedAt: iso(B + 5000),
      })),
    );
    for (const a of out) expect(RuleSetAssignmentSchema.safeParse(a).error).toBeUndefined();
  });

  it('writes the same bytes for the same effect, done again later by another replica', () => {
    const d = batch();
    const e = assignOf(d, 1);
    const first = JSON.stringify(assignmentsOf(d.state, e));
    expect(JSON.stringify(assignmentsOf(d.state, e))).toBe(first);
    d.send({ type: 'takeover', now: B + 3000, by: 'replica-b' });
    d.send(applied('b1', B + 4000));
    d.send({ type: 'tick', now: B + 9000 });
    d.send({ type: 'effectsDone', through: e.seq - 1 });
    expect(d.state.updatedAt).toBeGreaterThan(B);
    expect(JSON.stringify(assignmentsOf(d.state, e))).toBe(first);
    expect(JSON.stringify(assignmentsOf(d.state, assignOf(d, 0)))).toContain(iso(T));
  });

  it('writes the same rollback bytes again after the rollback moved on', () => {
    const d = rollingBack();
    const e = assignOf(d, null);
    const first = JSON.stringify(assignmentsOf(d.state, e));
    d.send(applied('c1', B + 6000, 11, GOOD));
    d.send({ type: 'takeover', now: B + 7000, by: 'replica-b' });
    expect(d.state.updatedAt).toBe(B + 7000);
    expect(JSON.stringify(assignmentsOf(d.state, e))).toBe(first);
  });

  it('writes the first rollback at its own time after a second rollback replaced it in the record', () => {
    const d = rollingBack();
    const e = assignOf(d, null);
    const first = JSON.stringify(assignmentsOf(d.state, e));
    d.send({
      type: 'rollback',
      now: B + 9000,
      by: 'alice',
      reason: 'further back',
      to: { serial: 12, hash: 'c'.repeat(64), of: 8 },
    });
    expect(d.state.rollback).toMatchObject({ serial: 12, assignedAt: B + 9000 });
    expect(JSON.stringify(assignmentsOf(d.state, e))).toBe(first);
    expect(first).toContain(iso(B + 5000));
  });
});

describe('timelineEventOf', () => {
  it('turns every timeline and alert effect of a rollout into a valid timeline event', () => {
    const d = batch();
    d.send(rejected('b2', B + 2000));
    d.send(applied('c1', B + 3000, 11, GOOD));
    d.send(applied('b1', B + 3000, 11, GOOD));
    d.send(applied('b2', B + 3000, 11, GOOD));
    expect(d.state.status).toBe('rolledBack');
    const effects = others(d);
    expect(effects.map((e) => (e.kind === 'timeline' ? e.action : e.alert))).toEqual([
      'created',
      'started',
      'stepAssigned',
      'stepApplied',
      'stepCompleted',
      'stepAssigned',
      'nodeRejected',
      'ruleSetRejected',
      'stopped',
      'rolloutStopped',
      'rollbackAssigned',
      'rolledBack',
    ]);
    for (const e of effects) {
      const out = timelineEventOf(d.state, e);
      expect(RolloutTimelineEventSchema.safeParse(out).error).toBeUndefined();
      expect(out).toMatchObject({
        schema: 'rhi.v1.rollout.event',
        rollout: 'r-1',
        seq: e.seq,
        time: iso(e.at),
      });
    }
  });

  it('keeps who, the action, the step, the serial, the reason and the nodes', () => {
    const d = batch();
    expect(timelineEventOf(d.state, timelineOf(d, 'created'))).toStrictEqual({
      schema: 'rhi.v1.rollout.event',
      rollout: 'r-1',
      seq: 1,
      time: iso(T),
      kind: 'timeline',
      action: 'created',
      by: 'alice',
      reason: 'tighten be_app',
      serial: 10,
    });
    const step1 = [...d.effects.values()].find(
      (e) => e.kind === 'timeline' && e.action === 'stepAssigned' && e.step === 1,
    ) as Other;
    expect(timelineEventOf(d.state, step1)).toStrictEqual({
      schema: 'rhi.v1.rollout.event',
      rollout: 'r-1',
      seq: step1.seq,
      time: iso(B),
      kind: 'timeline',
      action: 'stepAssigned',
      by: 'replica-a',
      step: 1,
      nodes: ['b1', 'b2'],
      nodeCount: 2,
      serial: 10,
    });
    d.send({ type: 'pause', now: B + 10, by: 'bob', reason: 'change freeze' });
    expect(timelineEventOf(d.state, timelineOf(d, 'paused'))).toMatchObject({
      action: 'paused',
      by: 'bob',
      step: 1,
      reason: 'change freeze',
      time: iso(B + 10),
    });
  });

  it('leaves out what the effect does not say', () => {
    const d = batch();
    const out = timelineEventOf(d.state, timelineOf(d, 'stepApplied'));
    expect(out).toStrictEqual({
      schema: 'rhi.v1.rollout.event',
      rollout: 'r-1',
      seq: out.seq,
      time: iso(APPLIED),
      kind: 'timeline',
      action: 'stepApplied',
      by: 'replica-a',
      step: 0,
    });
    expect(Object.keys(out)).not.toContain('nodes');
    expect(Object.keys(out)).not.toContain('nodeCount');
    expect(Object.keys(out)).not.toContain('alert');
  });

  it.each([
    [1, 1],
    [ROLLOUT_EVENT_MAX_NODES - 1, ROLLOUT_EVENT_MAX_NODES - 1],
    [ROLLOUT_EVENT_MAX_NODES, ROLLOUT_EVENT_MAX_NODES],
    [ROLLOUT_EVENT_MAX_NODES + 1, ROLLOUT_EVENT_MAX_NODES],
    [250, ROLLOUT_EVENT_MAX_NODES],
  ])('lists %i nodes as the first %i, with nodeCount the full count', (n, listed) => {
    const nodes = names(n);
    const d = new Drive(newRollout({ steps: [{ kind: 'canary', nodes }] }));
    d.send({ type: 'start', now: T, by: 'alice' });
    d.send({ type: 'abort', now: T + 10, by: 'alice', reason: 'wrong rules' });
    for (const action of ['stepAssigned', 'rollbackAssigned']) {
      const e = timelineOf(d, action);
      const out = timelineEventOf(d.state, e);
      expect(RolloutTimelineEventSchema.safeParse(out).error).toBeUndefined();
      expect(out.nodes).toEqual(nodes.slice(0, listed));
      expect(out.nodeCount).toBe(n);
      expect(e.kind === 'timeline' && e.nodes).toHaveLength(n);
    }
  });

  it('turns an alert on a node into an alert entry by the owner, naming the node', () => {
    const d = batch();
    d.send(rejected('b2', B + 2000));
    const e = d.alerts().find((x) => x.alert === 'ruleSetRejected')!;
    expect(timelineEventOf(d.state, e)).toStrictEqual({
      schema: 'rhi.v1.rollout.event',
      rollout: 'r-1',
      seq: e.seq,
      time: iso(B + 2000),
      kind: 'alert',
      alert: 'ruleSetRejected',
      by: 'replica-a',
      reason: e.message,
      nodes: ['b2'],
      nodeCount: 1,
    });
    expect(e.message).toContain('b2 rejected serial 10');
  });

  it('turns an alert on no node into an alert entry naming none', () => {
    const d = batch();
    d.send(rejected('b2', B + 2000));
    const e = d.alerts().find((x) => x.alert === 'rolloutStopped')!;
    expect(e.node).toBeUndefined();
    const out = timelineEventOf(d.state, e);
    expect(out).toStrictEqual({
      schema: 'rhi.v1.rollout.event',
      rollout: 'r-1',
      seq: e.seq,
      time: iso(B + 2000),
      kind: 'alert',
      alert: 'rolloutStopped',
      by: 'replica-a',
      reason: e.message,
    });
    expect(RolloutTimelineEventSchema.safeParse(out).error).toBeUndefined();
  });

  it('names the controller for an alert of a rollout that has no owner', () => {
    const d = batch(new Drive(newRollout({ owner: null })));
    d.send(rejected('b1', B + 2000));
    const alerts = d.alerts();
    expect(alerts.map((a) => a.alert)).toEqual(['ruleSetRejected', 'rolloutStopped']);
    for (const a of alerts) {
      const out = timelineEventOf(d.state, a);
      expect(out).toMatchObject({ kind: 'alert', alert: a.alert, by: 'controller' });
      expect(RolloutTimelineEventSchema.safeParse(out).error).toBeUndefined();
    }
  });

  it('names who raised an alert, not who owns the rollout when it is published', () => {
    const d = batch();
    d.send(rejected('b2', B + 2000));
    const e = d.alerts().find((x) => x.alert === 'ruleSetRejected')!;
    d.send({ type: 'takeover', now: B + 3000, by: 'replica-b' });
    expect(d.state.owner).toBe('replica-b');
    expect(timelineEventOf(d.state, e).by).toBe('replica-a');
  });

  it('gives the same bytes for the same effect twice', () => {
    const d = batch();
    d.send(rejected('b2', B + 2000));
    const record: RolloutRecord = d.state;
    for (const e of others(d))
      expect(JSON.stringify(timelineEventOf(record, e))).toBe(JSON.stringify(timelineEventOf(record, e)));
  });
});
