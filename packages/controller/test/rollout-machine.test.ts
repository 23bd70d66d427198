import type { RuleSetAck } from '@rhi/contracts';
import { RolloutRecordSchema, RuleSetAckSchema } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { applyRolloutEvent, assignedNodes, createRollout } from '../src/rollout/rollout-machine.js';
import { ackEvent, RolloutInvalidError } from '../src/rollout/rollout-types.js';
import {
  ACK_TIMEOUT,
  applied,
  Drive,
  GOOD,
  NEW,
  newRollout,
  OLDER,
  PROGRESS,
  rejected,
  SOAK,
  T,
} from './support/rollout.js';

// The rollout machine on a fake clock: times are plain numbers (ms) passed in, nothing waits.

/** A rollout started at T, its canary c1 assigned. */
function started(d = new Drive()): Drive {
  d.send({ type: 'start', now: T, by: 'alice' });
  return d;
}

/** A rollout whose canary passed: step 1 (b1, b2) assigned at T + 1000 + SOAK. */
function inBatch(): { d: Drive; at: number } {
  const d = started();
  d.send(applied('c1', T + 1000));
  const at = T + 1000 + SOAK;
  d.send({ type: 'healthy', now: at });
  expect(d.state).toMatchObject({ status: 'batch', step: 1 });
  return { d, at };
}

describe('createRollout', () => {
  it('makes a pending rollout with its steps, and a timeline entry', () => {
    const d = new Drive();
    expect(d.state).toMatchObject({
      schema: 'rhi.v1.rollout',
      id: 'r-1',
      revision: 0,
      status: 'pending',
      step: 0,
      owner: 'replica-a',
      createdBy: 'alice',
      message: 'tighten be_app',
    });
    expect(d.state.steps.map((s) => [s.kind, s.nodes, s.assignedAt])).toEqual([
      ['canary', ['c1'], null],
      ['batch', ['b1', 'b2'], null],
      ['batch', ['b3'], null],
    ]);
    expect(d.last.effects).toEqual([
      {
        kind: 'timeline',
        seq: 1,
        action: 'created',
        by: 'alice',
        at: T,
        serial: 10,
        reason: 'tighten be_app',
      },
    ]);
    expect(d.state.outbox).toEqual(d.last.effects);
  });

  it.each([
    ['no steps', { steps: [] }],
    ['an empty step', { steps: [{ kind: 'canary' as const, nodes: [] }] }],
    [
      'a node in two steps',
      {
        steps: [
          { kind: 'canary' as const, nodes: ['c1'] },
          { kind: 'batch' as const, nodes: ['c1'] },
        ],
      },
    ],
    ['a rollback serial agents would refuse', { rollbackTo: { serial: 10, hash: GOOD, of: 9 } }],
    ['an id that is no token', { id: 'r.1' }],
  ])('refuses %s', (_, over) => {
    expect(() => createRollout(newRollout(over))).toThrow(RolloutInvalidError);
    expect(() => createRollout(newRollout(over))).toThrow(
      expect.objectContaining({ code: 'ROLLOUT_INVALID' }),
    );
  });
});

describe('the forward path', () => {
  it('assigns the canary on start, once', () => {
    const d = new Drive();
    const t = d.send({ type: 'start', now: T, by: 'alice' });
    expect(d.state).toMatchObject({ status: 'canary', step: 0, revision: 1, lastProgressAt: T });
    expect(d.state.steps[0]).toMatchObject({ assignedAt: T, ackDueAt: T + ACK_TIMEOUT });
    expect(t.effects).toEqual([
      { kind: 'timeline', seq: 2, action: 'started', by: 'alice', at: T, serial: 10 },
      { kind: 'assign', seq: 3, at: T, nodes: ['c1'], serial: 10, hash: NEW, step: 0 },
      {
        kind: 'timeline',
        seq: 4,
        action: 'stepAssigned',
        by: 'replica-a',
        at: T,
        step: 0,
        nodes: ['c1'],
        serial: 10,
      },
    ]);
    expect(d.send({ type: 'start', now: T + 5, by: 'bob' }).changed).toBe(false);
  });

  it('soaks a step once all its nodes applied, and moves on only when seen healthy after the soak', () => {
    const d = started();
    d.send(applied('c1', T + 1000));
    expect(d.state).toMatchObject({ status: 'soaking', lastProgressAt: T + 1000 });
    expect(d.state.steps[0]).toMatchObject({ applied: ['c1'], soakUntil: T + 1000 + SOAK });
    expect(d.send({ type: 'healthy', now: T + SOAK }).changed).toBe(false);
    expect(d.send({ type: 'tick', now: T + 1000 + SOAK }).changed).toBe(false);
    const t = d.send({ type: 'healthy', now: T + 1000 + SOAK });
    expect(d.state).toMatchObject({ status: 'batch', step: 1, healthyAt: T + 1000 + SOAK });
    expect(d.state.steps[0]!.completedAt).toBe(T + 1000 + SOAK);
    expect(t.effects.map((e) => (e.kind === 'timeline' ? e.action : e.kind))).toEqual([
      'stepCompleted',
      'assign',
      'stepAssigned',
    ]);
  });

  it('completes after the last step, having assigned each step exactly once', () => {
    const { d, at } = inBatch();
    d.send(applied('b1', at + 1));
    expect(d.state.status).toBe('batch');
    d.send(applied('b2', at + 2));
    expect(d.state.status).toBe('soaking');
    d.send({ type: 'healthy', now: at + 2 + SOAK });
    d.send(applied('b3', at + 3 + SOAK));
    d.send({ type: 'healthy', now: at + 3 + 2 * SOAK });
    expect(d.state.status).toBe('completed');
    expect(d.assigns().map((a) => [a.step, a.nodes])).toEqual([
      [0, ['c1']],
      [1, ['b1', 'b2']],
      [2, ['b3']],
    ]);
    expect(d.actions()).toEqual([
      'created',
      'started',
      'stepAssigned',
      'stepApplied',
      'stepCompleted',
      'stepAssigned',
      'stepApplied',
      'stepCompleted',
      'stepAssigned',
      'stepApplied',
      'stepCompleted',
      'completed',
    ]);
    for (const event of [
      applied('b3', at + 4 * SOAK),
      { type: 'healthy', now: at + 4 * SOAK } as const,
      { type: 'tick', now: at + 100 * SOAK } as const,
      {
        type: 'vipLost',
        now: at,
        vip: 'vol1%198.18.200.1/32',
        before: 2,
        after: 1,
        withdrawnBy: ['b1'],
      } as const,
    ])
      expect(d.send(event).changed).toBe(false);
    expect(d.send({ type: 'abort', now: at, by: 'bob', reason: 'late' }).refusal?.code).toBe(
      'ROLLOUT_FINISHED',
    );
  });

  it('assigns the nodes absent at planning once it completes, not before, and never on a rollback', () => {
    const d = new Drive(newRollout({ absent: ['z1', 'z2'], steps: [{ kind: 'canary', nodes: ['c1'] }] }));
    d.send({ type: 'start', now: T, by: 'alice' });
    d.send(applied('c1', T + 1));
    expect(d.assigns().map((a) => a.nodes)).toEqual([['c1']]);
    d.send({ type: 'healthy', now: T + 1 + SOAK });
    expect(d.state.status).toBe('completed');
    expect(d.assigns().map((a) => [a.step, a.nodes, a.serial, a.at])).toEqual([
      [0, ['c1'], 10, T],
      [null, ['z1', 'z2'], 10, T + 1 + SOAK],
    ]);
    expect(d.actions().slice(-2)).toEqual(['completed', 'absentAssigned']);

    const stopped = new Drive(newRollout({ absent: ['z1'] }));
    stopped.send({ type: 'start', now: T, by: 'alice' });
    stopped.send(rejected('c1', T + 1));
    expect(stopped.state.status).toBe('rollingBack');
    expect(stopped.assigns().flatMap((a) => a.nodes)).not.toContain('z1');
    expect(() => createRollout(newRollout({ absent: ['b1'] }))).toThrow(RolloutInvalidError);
  });

  it('ignores a replayed ack, an ack of another serial or hash, and one from a node not yet assigned', () => {
    const d = started();
    for (const event of [
      applied('c1', T + 1, 9),
      applied('c1', T + 1, 10, OLDER),
      applied('b1', T + 1),
      rejected('b1', T + 1),
      applied('c1', T + 1, 11, GOOD),
    ])
      expect(d.send(event).changed).toBe(false);
    const { d: b, at } = inBatch();
    b.send(applied('b1', at + 1));
    const state = b.state;
    expect(b.send(applied('b1', at + 2))).toMatchObject({ changed: false, effects: [] });
    expect(b.state).toBe(state);
    expect(b.state.steps[1]!.applied).toEqual(['b1']);
  });
});

describe('automatic stops', () => {
  it('rolls back on a rejection, which is never counted as applied, and raises an alert', () => {
    const d = started();
    const t = d.send(rejected('c1', T + 500));
    expect(d.state).toMatchObject({
      status: 'rollingBack',
      stop: {
        cause: 'rejected',
        at: T + 500,
        by: 'replica-a',
        nodes: ['c1'],
        reason: 'c1 rejected serial 10 (RULESET_UNKNOWN_PROXIES): b:be_new is not a backend of this HAProxy',
      },
      rejected: [
        {
          node: 'c1',
          at: T + 500,
          code: 'RULESET_UNKNOWN_PROXIES',
          reason: 'b:be_new is not a backend of this HAProxy',
        },
      ],
      rollback: {
        serial: 11,
        hash: GOOD,
        of: 9,
        nodes: ['c1'],
        assignedAt: T + 500,
        ackDueAt: T + 500 + ACK_TIMEOUT,
        applied: [],
      },
    });
    expect(t.effects.filter((e) => e.kind !== 'timeline')).toEqual([
      expect.objectContaining({ kind: 'alert', alert: 'ruleSetRejected', node: 'c1' }),
      expect.objectContaining({ kind: 'alert', alert: 'rolloutStopped' }),
      expect.objectContaining({ kind: 'assign', nodes: ['c1'], serial: 11, hash: GOOD, step: null }),
    ]);
    expect(d.send(rejected('c1', T + 600)).changed).toBe(false);
    expect(d.send(applied('c1', T + 700)).changed).toBe(false);
    expect(d.state.steps[0]!.applied).toEqual([]);
    d.send(applied('c1', T + 800, 11, GOOD));
    expect(d.state.status).toBe('rolledBack');
    expect(d.actions().slice(-4)).toEqual(['nodeRejected', 'stopped', 'rollbackAssigned', 'rolledBack']);
  });

  it('takes back an applied ack when the node rejects the serial later, and rolls back every node assigned', () => {
    const { d, at } = inBatch();
    d.send(applied('b1', at + 1));
    d.send(rejected('b1', at + 2));
    expect(d.state.steps[1]!.applied).toEqual([]);
    expect(d.state.rollback?.nodes).toEqual(['c1', 'b1', 'b2']);
    expect(assignedNodes(d.state)).toEqual(['c1', 'b1', 'b2']);
  });

  it('rolls back when a node of the step has not acked within the deadline', () => {
    const { d, at } = inBatch();
    d.send(applied('b1', at + 10));
    expect(d.send({ type: 'tick', now: at + ACK_TIMEOUT - 1 }).changed).toBe(false);
    d.send({ type: 'tick', now: at + ACK_TIMEOUT });
    expect(d.state).toMatchObject({
      status: 'rollingBack',
      stop: { cause: 'ackTimeout', nodes: ['b2'], at: at + ACK_TIMEOUT },
    });
    expect(d.state.stop?.reason).toContain('did not ack serial 10 within 30000 ms: b2');
  });

  it('rolls back when no progress is made while waiting for acks', () => {
    const d = new Drive(newRollout({ strategy: { ...newRollout().strategy, ackTimeoutMs: 3_600_000 } }));
    d.send({ type: 'start', now: T, by: 'alice' });
    d.send({ type: 'healthy', now: T + 100_000 });
    expect(d.send({ type: 'tick', now: T + PROGRESS - 1 }).changed).toBe(false);
    d.send({ type: 'tick', now: T + PROGRESS });
    expect(d.state).toMatchObject({ status: 'rollingBack', stop: { cause: 'progressDeadline', nodes: [] } });
  });

  it('counts an ack as progress', () => {
    const d = new Drive(newRollout({ strategy: { ...newRollout().strategy, ackTimeoutMs: 3_600_000 } }));
    d.send({ type: 'start', now: T, by: 'alice' });
    d.send(applied('c1', T + 1));
    d.send({ type: 'healthy', now: T + 1 + SOAK });
    d.send(applied('b1', T + 200_000));
    expect(d.send({ type: 'tick', now: T + 200_000 + PROGRESS - 1 }).changed).toBe(false);
    d.send({ type: 'tick', now: T + 200_000 + PROGRESS });
    expect(d.state.stop?.cause).toBe('progressDeadline');
  });

  it('rolls back when a soaked step is not seen healthy within the progress deadline', () => {
    const d = started();
    d.send(applied('c1', T + 1000));
    const soakUntil = T + 1000 + SOAK;
    expect(d.send({ type: 'tick', now: soakUntil + PROGRESS - 1 }).changed).toBe(false);
    d.send({ type: 'tick', now: soakUntil + PROGRESS });
    expect(d.state).toMatchObject({ status: 'rollingBack', stop: { cause: 'progressDeadline' } });
    expect(d.state.stop?.reason).toBe('step 0 not seen healthy within 300000 ms of the end of its soak');
  });

  it('waits for the health gate as long as it takes when the progress deadline is off', () => {
    const d = new Drive(newRollout({ strategy: { ...newRollout().strategy, progressDeadlineMs: null } }));
    d.send({ type: 'start', now: T, by: 'alice' });
    d.send(applied('c1', T + 1));
    expect(d.send({ type: 'tick', now: T + 1000 * PROGRESS }).changed).toBe(false);
    expect(d.state.status).toBe('soaking');
    d.send({ type: 'healthy', now: T + 1000 * PROGRESS });
    expect(d.state.status).toBe('batch');
    d.send({ type: 'tick', now: T + 1000 * PROGRESS + ACK_TIMEOUT });
    expect(d.state.stop?.cause).toBe('ackTimeout');
  });

  it('rolls back when a VIP loses advertisers through a node that got the rule set, not through others', () => {
    const { d, at } = inBatch();
    const lost = { type: 'vipLost', now: at + 5, vip: 'vol1%198.18.200.1/32', before: 3, after: 1 } as const;
    expect(d.send({ ...lost, withdrawnBy: ['b3', 'x9'] }).changed).toBe(false);
    d.send({ ...lost, withdrawnBy: ['b3', 'b2', 'c1'] });
    expect(d.state).toMatchObject({
      status: 'rollingBack',
      stop: { cause: 'vipLost', vip: 'vol1%198.18.200.1/32', nodes: ['b2', 'c1'] },
    });
    expect(d.state.stop?.reason).toBe(
      'vol1%198.18.200.1/32 fell from 3 to 1 advertiser(s), withdrawn by b2, c1',
    );
  });

  it('rolls back on a new alert on a node that got the rule set, not on an older one or another node', () => {
    const { d, at } = inBatch();
    const alert = { type: 'alert', now: at + 5, message: 'BIRD disagrees with the agent' } as const;
    expect(d.send({ ...alert, node: 'b3', openedAt: at + 5 }).changed).toBe(false);
    expect(d.send({ ...alert, node: 'b1', openedAt: at - 1 }).changed).toBe(false);
    d.send({ ...alert, node: 'c1', openedAt: at + 4 });
    expect(d.state).toMatchObject({ status: 'rollingBack', stop: { cause: 'alert', nodes: ['c1'] } });
  });

  it('fails when there is no last good rule set to roll back to', () => {
    const d = started(new Drive(newRollout({ rollbackTo: null })));
    const t = d.send(rejected('c1', T + 1));
    expect(d.state).toMatchObject({
      status: 'failed',
      failure: { cause: 'noRollbackTarget', nodes: ['c1'] },
    });
    expect(t.effects.some((e) => e.kind === 'assign')).toBe(false);
    expect(d.alerts().map((a) => a.alert)).toEqual(['ruleSetRejected', 'rolloutStopped', 'rolloutFailed']);
  });

  it('fails when a node rejects the rollback', () => {
    const { d, at } = inBatch();
    d.send(rejected('b2', at + 1));
    d.send(applied('c1', at + 2, 11, GOOD));
    d.send(rejected('b1', at + 3, 11, GOOD));
    expect(d.state).toMatchObject({
      status: 'failed',
      failure: { cause: 'rollbackRejected', nodes: ['b1'] },
      rollback: { applied: ['c1'], rejected: [expect.objectContaining({ node: 'b1' })] },
    });
    expect(d.alerts().at(-1)).toMatchObject({ alert: 'rolloutFailed' });
  });

  it('fails when the rollback is not acked within the deadline, naming the silent nodes', () => {
    const { d, at } = inBatch();
    d.send(rejected('b2', at + 1));
    d.send(applied('b2', at + 2, 11, GOOD));
    expect(d.send({ type: 'tick', now: at + 1 + ACK_TIMEOUT - 1 }).changed).toBe(false);
    d.send({ type: 'tick', now: at + 1 + ACK_TIMEOUT });
    expect(d.state).toMatchObject({
      status: 'failed',
      failure: { cause: 'rollbackAckTimeout', nodes: ['c1', 'b1'] },
    });
  });
});

describe('manual control', () => {
  it('pauses: no deadline runs and no step starts, then resumes with the deadlines moved on', () => {
    const { d, at } = inBatch();
    d.send({ type: 'pause', now: at + 10, by: 'bob', reason: 'looking at graphs' });
    expect(d.state).toMatchObject({
      status: 'paused',
      paused: { from: 'batch', at: at + 10, by: 'bob', reason: 'looking at graphs' },
    });
    expect(d.send({ type: 'pause', now: at + 11, by: 'bob' }).changed).toBe(false);
    expect(d.send({ type: 'tick', now: at + 100 * ACK_TIMEOUT }).changed).toBe(false);
    d.send(applied('b1', at + 20));
    expect(d.state.status).toBe('paused');
    const resumeAt = at + 10 + 3_600_000;
    d.send({ type: 'resume', now: resumeAt, by: 'bob' });
    expect(d.state).toMatchObject({ status: 'batch', paused: null, lastProgressAt: resumeAt });
    expect(d.state.steps[1]!.ackDueAt).toBe(at + ACK_TIMEOUT + 3_600_000);
    expect(d.send({ type: 'resume', now: resumeAt + 1, by: 'bob' }).changed).toBe(false);
    expect(d.send({ type: 'tick', now: at + ACK_TIMEOUT + 3_600_000 - 1 }).changed).toBe(false);
    d.send({ type: 'tick', now: at + ACK_TIMEOUT + 3_600_000 });
    expect(d.state.stop).toMatchObject({ cause: 'ackTimeout', nodes: ['b2'] });
    expect(d.actions()).toContain('paused');
    expect(d.actions()).toContain('resumed');
  });

  it('starts the soak on resume when the step was fully applied while paused', () => {
    const { d, at } = inBatch();
    d.send({ type: 'pause', now: at + 1, by: 'bob' });
    d.send(applied('b1', at + 2));
    d.send(applied('b2', at + 3));
    expect(d.state.status).toBe('paused');
    d.send({ type: 'resume', now: at + 1000, by: 'bob' });
    expect(d.state.status).toBe('soaking');
    expect(d.state.steps[1]!.soakUntil).toBe(at + 1000 + SOAK);
  });

  it('keeps what is left of a soak across a pause', () => {
    const d = started();
    d.send(applied('c1', T + 1000));
    d.send({ type: 'pause', now: T + 11_000, by: 'bob' });
    expect(d.send({ type: 'healthy', now: T + 1000 + SOAK }).changed).toBe(false);
    d.send({ type: 'resume', now: T + 111_000, by: 'bob' });
    expect(d.state.steps[0]!.soakUntil).toBe(T + 1000 + SOAK + 100_000);
    expect(d.send({ type: 'healthy', now: T + 1000 + SOAK + 99_999 }).changed).toBe(false);
    d.send({ type: 'healthy', now: T + 1000 + SOAK + 100_000 });
    expect(d.state.status).toBe('batch');
  });

  it('still stops a paused rollout on a rejection', () => {
    const { d, at } = inBatch();
    d.send({ type: 'pause', now: at + 1, by: 'bob' });
    d.send(rejected('b2', at + 2));
    expect(d.state).toMatchObject({ status: 'rollingBack', paused: null, stop: { cause: 'rejected' } });
  });

  it('refuses pause and resume where they mean nothing', () => {
    const d = new Drive();
    expect(d.send({ type: 'pause', now: T, by: 'bob' }).refusal).toMatchObject({
      code: 'ROLLOUT_NOT_RUNNING',
    });
    expect(d.send({ type: 'resume', now: T, by: 'bob' }).refusal).toMatchObject({
      code: 'ROLLOUT_NOT_PAUSED',
    });
    started(d);
    d.send(rejected('c1', T + 1));
    expect(d.send({ type: 'pause', now: T + 2, by: 'bob' }).refusal?.code).toBe('ROLLOUT_NOT_RUNNING');
  });

  it('aborts a pending rollout without assigning anything', () => {
    const d = new Drive();
    d.send({ type: 'abort', now: T, by: 'bob', reason: 'wrong target' });
    expect(d.state.status).toBe('aborted');
    expect(d.assigns()).toEqual([]);
    expect(d.send({ type: 'start', now: T + 1, by: 'bob' }).changed).toBe(false);
    expect(d.send({ type: 'abort', now: T + 1, by: 'bob', reason: 'again' }).changed).toBe(false);
  });

  it('aborts a running rollout by rolling back every node assigned, recording who and why', () => {
    const { d, at } = inBatch();
    expect(d.send({ type: 'abort', now: at + 1, by: 'bob', reason: '  ' }).refusal?.code).toBe(
      'ROLLOUT_REASON_MISSING',
    );
    const t = d.send({ type: 'abort', now: at + 1, by: 'bob', reason: 'customer complaint' });
    expect(d.state).toMatchObject({
      status: 'rollingBack',
      stop: { cause: 'abort', by: 'bob', reason: 'customer complaint' },
      rollback: { nodes: ['c1', 'b1', 'b2'], serial: 11 },
    });
    expect(t.effects).toContainEqual(
      expect.objectContaining({
        kind: 'timeline',
        action: 'stopped',
        by: 'bob',
        reason: 'customer complaint',
      }),
    );
    expect(t.effects.some((e) => e.kind === 'alert')).toBe(false);
    expect(d.send({ type: 'abort', now: at + 2, by: 'bob', reason: 'again' }).changed).toBe(false);
  });

  it('rolls back to a given serial, which must be above every serial assigned', () => {
    const { d, at } = inBatch();
    const to = { serial: 12, hash: OLDER, of: 7 };
    expect(
      d.send({ type: 'rollback', now: at, by: 'bob', reason: 'x', to: { ...to, serial: 10 } }).refusal?.code,
    ).toBe('ROLLOUT_ROLLBACK_SERIAL_STALE');
    expect(d.send({ type: 'rollback', now: at, by: 'bob', reason: '', to }).refusal?.code).toBe(
      'ROLLOUT_REASON_MISSING',
    );
    d.send({ type: 'rollback', now: at + 1, by: 'bob', reason: 'back to 7', to });
    expect(d.state).toMatchObject({
      status: 'rollingBack',
      stop: { cause: 'rollback', by: 'bob' },
      rollback: { serial: 12, hash: OLDER, of: 7, nodes: ['c1', 'b1', 'b2'] },
    });
    expect(d.send({ type: 'rollback', now: at + 2, by: 'bob', reason: 'back to 7', to }).changed).toBe(false);
    d.send(applied('c1', at + 3, 12, OLDER));
    const again = { serial: 13, hash: GOOD, of: 9 };
    expect(
      d.send({
        type: 'rollback',
        now: at + 4,
        by: 'bob',
        reason: 'x',
        to: { ...again, serial: 12, hash: GOOD },
      }).refusal?.code,
    ).toBe('ROLLOUT_ROLLBACK_SERIAL_STALE');
    d.send({ type: 'rollback', now: at + 4, by: 'bob', reason: 'to 9 after all', to: again });
    expect(d.state.rollback).toMatchObject({ serial: 13, applied: [] });
    expect(d.assigns().map((a) => [a.step, a.serial])).toEqual([
      [0, 10],
      [1, 10],
      [null, 12],
      [null, 13],
    ]);
  });

  it('rolls back a completed rollout on request, and refuses one that assigned nothing', () => {
    const pending = new Drive();
    const to = { serial: 12, hash: GOOD, of: 9 };
    expect(pending.send({ type: 'rollback', now: T, by: 'bob', reason: 'x', to }).refusal?.code).toBe(
      'ROLLOUT_NOTHING_ASSIGNED',
    );
    const d = new Drive(newRollout({ steps: [{ kind: 'canary', nodes: ['c1', 'c2'] }] }));
    d.send({ type: 'start', now: T, by: 'alice' });
    d.send(applied('c1', T + 1));
    d.send(applied('c2', T + 2));
    d.send({ type: 'healthy', now: T + 2 + SOAK });
    expect(d.state.status).toBe('completed');
    d.send({ type: 'rollback', now: T + 3 * SOAK, by: 'bob', reason: 'users hate it', to });
    expect(d.state).toMatchObject({ status: 'rollingBack', rollback: { nodes: ['c1', 'c2'], serial: 12 } });
  });
});

describe('takeover', () => {
  it('lets a new replica continue from the stored state alone: no step done twice, none lost', () => {
    const { d, at } = inBatch();
    d.send({ type: 'effectsDone', through: 6 });
    d.send(applied('b1', at + 1));
    // Replica A dies here: the step-1 assignment is in the outbox, not reported done.
    const stored = JSON.stringify(d.state);
    const b = new Drive();
    b.state = RolloutRecordSchema.parse(JSON.parse(stored));
    for (const [seq, e] of d.effects) b.effects.set(seq, e);
    expect(b.state).toEqual(d.state);
    const outstanding = b.state.outbox.map((e) => e.seq);
    expect(outstanding[0]).toBe(7);
    const t = b.send({ type: 'takeover', now: at + 5, by: 'replica-b' });
    expect(b.state.owner).toBe('replica-b');
    expect(t.effects.map((e) => e.seq)).toEqual([...outstanding, b.state.effectSeq]);
    expect(t.effects).toContainEqual(
      expect.objectContaining({ kind: 'assign', step: 1, nodes: ['b1', 'b2'] }),
    );
    expect(t.effects.at(-1)).toMatchObject({
      kind: 'timeline',
      action: 'takeover',
      by: 'replica-b',
      reason: 'from replica-a',
    });
    expect(b.send({ type: 'takeover', now: at + 6, by: 'replica-b' })).toMatchObject({
      changed: false,
      effects: b.state.outbox,
    });
    b.send({ type: 'effectsDone', through: b.state.effectSeq });
    expect(b.state.outbox).toEqual([]);
    expect(b.send({ type: 'effectsDone', through: b.state.effectSeq }).changed).toBe(false);
    b.send(applied('b1', at + 7));
    b.send(applied('b2', at + 8));
    b.send({ type: 'healthy', now: at + 8 + SOAK });
    b.send(applied('b3', at + 9 + SOAK));
    b.send({ type: 'healthy', now: at + 9 + 2 * SOAK });
    expect(b.state.status).toBe('completed');
    expect(b.assigns().map((a) => a.step)).toEqual([0, 1, 2]);
    expect(b.state.steps.map((s) => s.applied)).toEqual([['c1'], ['b1', 'b2'], ['b3']]);
    expect(
      [...b.effects.values()].filter((e) => e.kind === 'timeline' && e.action === 'stepAssigned'),
    ).toHaveLength(3);
    expect(
      [...b.effects.values()].filter(
        (e) => e.kind === 'timeline' && e.action === 'stepAssigned' && e.by === 'replica-b',
      ),
    ).toHaveLength(1);
  });

  it('keeps the deadlines of the stored state across a takeover', () => {
    const { d, at } = inBatch();
    const b = new Drive();
    b.state = RolloutRecordSchema.parse(JSON.parse(JSON.stringify(d.state)));
    b.send({ type: 'takeover', now: at + ACK_TIMEOUT - 5, by: 'replica-b' });
    b.send({ type: 'tick', now: at + ACK_TIMEOUT });
    expect(b.state).toMatchObject({ status: 'rollingBack', stop: { cause: 'ackTimeout', by: 'replica-b' } });
  });
});

describe('ackEvent', () => {
  it('turns an agent ack from the wire into a machine input', () => {
    const ack: RuleSetAck = RuleSetAckSchema.parse({
      schema: 'rhi.v1.ruleset.ack',
      node: 'c1',
      serial: 10,
      hash: NEW,
      result: 'rejected',
      code: 'RULESET_REPLAYED',
      reason: 'serial 10 is not newer',
      time: '2026-12-02T10:00:01.000Z',
    });
    const event = ackEvent(ack, T + 1);
    expect(event).toEqual({
      type: 'ack',
      now: T + 1,
      node: 'c1',
      serial: 10,
      hash: NEW,
      result: 'rejected',
      code: 'RULESET_REPLAYED',
      reason: 'serial 10 is not newer',
    });
    const d = started();
    expect(applyRolloutEvent(d.state, event).state.stop?.cause).toBe('rejected');
  });

  it('refuses a rejection that does not say why', () => {
    const bare = {
      schema: 'rhi.v1.ruleset.ack',
      node: 'c1',
      serial: 10,
      hash: NEW,
      result: 'rejected',
      time: '2026-12-02T10:00:01.000Z',
    };
    expect(RuleSetAckSchema.safeParse(bare).success).toBe(false);
    expect(RuleSetAckSchema.safeParse({ ...bare, result: 'applied' }).success).toBe(true);
  });
});
