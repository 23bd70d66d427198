import { subjects, type RuleSetAck, type RuleSetAssignment } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { RuleSetStates } from '../src/rulesets/rule-set-states.js';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const assignment = (serial: number, hash: string, node = 'n1'): RuleSetAssignment => ({
  schema: 'rhi.v1.assignment',
  node,
  serial,
  hash,
  rollout: 'r1',
  assignedAt: '2026-12-03T10:00:00.000Z',
});
const ack = (
  serial: number,
  hash: string,
  result: 'applied' | 'rejected',
  time: string,
  node = 'n1',
): RuleSetAck => ({
  schema: 'rhi.v1.ruleset.ack',
  node,
  serial,
  hash,
  result,
  ...(result === 'rejected' ? { code: 'RULESET_UNKNOWN_PROXIES', reason: 'no backend be_new' } : {}),
  time,
});

describe('RuleSetStates: each node as CSDS shows a client', () => {
  it('is unassigned while the bucket assigns nothing, whatever the node runs', () => {
    const s = new RuleSetStates();
    expect(s.stateOf('n1', { serial: 3, hash: H1 })).toEqual({
      sync: 'unassigned',
      assigned: null,
      active: { serial: 3, hash: H1 },
      error: null,
    });
  });

  it('is pending until the node runs the assigned serial, then synced', () => {
    const s = new RuleSetStates();
    expect(s.assignFromBucket('n1', assignment(4, H2))).toBeNull();
    expect(s.stateOf('n1', { serial: 3, hash: H1 }).sync).toBe('pending');
    expect(s.stateOf('n1', null).sync).toBe('pending');
    s.ingestAck(subjects.ruleSetAck('n1'), ack(4, H2, 'applied', '2026-12-03T10:00:01.000Z'));
    // The ack alone is not the node running it: its status says what it runs.
    expect(s.stateOf('n1', { serial: 3, hash: H1 }).sync).toBe('pending');
    expect(s.stateOf('n1', { serial: 4, hash: H2 })).toMatchObject({
      sync: 'synced',
      assigned: { serial: 4, hash: H2, rollout: 'r1' },
      active: { serial: 4, hash: H2 },
    });
  });

  it('shows a rejection of the assigned serial as an error, never as applied, beside the last good it runs', () => {
    const s = new RuleSetStates();
    s.ingestAck(subjects.ruleSetAck('n1'), ack(3, H1, 'applied', '2026-12-03T09:00:00.000Z'));
    s.assign('n1', assignment(4, H2));
    s.ingestAck(subjects.ruleSetAck('n1'), ack(4, H2, 'rejected', '2026-12-03T10:00:01.000Z'));
    expect(s.stateOf('n1', { serial: 3, hash: H1 })).toEqual({
      sync: 'error',
      assigned: { serial: 4, hash: H2, rollout: 'r1' },
      active: { serial: 3, hash: H1 },
      error: {
        serial: 4,
        hash: H2,
        code: 'RULESET_UNKNOWN_PROXIES',
        reason: 'no backend be_new',
        at: '2026-12-03T10:00:01.000Z',
      },
    });
  });

  it('forgets a rejection once another serial is assigned (it was of the old assignment)', () => {
    const s = new RuleSetStates();
    s.assign('n1', assignment(4, H2));
    s.ingestAck(subjects.ruleSetAck('n1'), ack(4, H2, 'rejected', '2026-12-03T10:00:01.000Z'));
    s.assign('n1', assignment(5, H1));
    expect(s.stateOf('n1', { serial: 3, hash: H1 })).toMatchObject({ sync: 'pending', error: null });
  });

  it('is unassigned again when the assignment is deleted', () => {
    const s = new RuleSetStates();
    s.assign('n1', assignment(4, H2));
    s.assign('n1', null);
    expect(s.stateOf('n1', null).sync).toBe('unassigned');
  });

  it('drops an ack that is malformed, from another node than its subject, or older than the one kept', () => {
    const s = new RuleSetStates();
    expect(s.ingestAck(subjects.ruleSetAck('n1'), { schema: 'rhi.v1.ruleset.ack' })).toMatchObject({
      ok: false,
      reason: 'schema',
    });
    const rejectedNoReason = { ...ack(4, H2, 'applied', '2026-12-03T10:00:00.000Z'), result: 'rejected' };
    expect(s.ingestAck(subjects.ruleSetAck('n1'), rejectedNoReason)).toMatchObject({
      ok: false,
      reason: 'schema',
      detail: 'rhi.v1.ack.n1: reason: a rejection says why',
    });
    expect(
      s.ingestAck(subjects.ruleSetAck('n1'), ack(4, H2, 'applied', '2026-12-03T10:00:00.000Z', 'n2')),
    ).toMatchObject({ ok: false, reason: 'subject' });
    expect(s.ingestAck(subjects.ruleSetAck('n1'), ack(4, H2, 'applied', '2026-12-03T10:00:05.000Z')).ok).toBe(
      true,
    );
    expect(
      s.ingestAck(subjects.ruleSetAck('n1'), ack(5, H1, 'rejected', '2026-12-03T10:00:04.000Z')),
    ).toMatchObject({ ok: false, reason: 'stale' });
    expect(s.lastAck('n1')).toMatchObject({ serial: 4, result: 'applied' });
  });

  it('refuses a bucket value that is not an assignment of the node its key names', () => {
    const s = new RuleSetStates();
    expect(s.assignFromBucket('n1', assignment(4, H2, 'n2'))).toBe(
      "assign.n1: the assignment is for node 'n2'",
    );
    expect(s.assignFromBucket('n1', 'not JSON: Unexpected token')).toMatch(/^assign\.n1: \(value\): /);
    expect(s.stateOf('n1', null).sync).toBe('unassigned');
  });
  it('holds a ruleSetRejected alert condition while the node rejects its assignment', () => {
    const s = new RuleSetStates();
    s.assign('n1', assignment(4, H2));
    expect(s.rejections()).toEqual([]);
    s.ingestAck(subjects.ruleSetAck('n1'), ack(4, H2, 'rejected', '2026-12-03T10:00:01.000Z'));
    expect(s.rejections()).toEqual([
      {
        kind: 'ruleSetRejected',
        subject: 'n1',
        message:
          'n1 rejected its assigned rule set, serial 4 (RULESET_UNKNOWN_PROXIES): no backend be_new; it keeps its last good one',
      },
    ]);
    // Another assignment ends it (a rollback to the last good, say); so does the node applying this one.
    s.assign('n1', assignment(5, H1));
    expect(s.rejections()).toEqual([]);
    s.assign('n1', assignment(4, H2));
    expect(s.rejections()).toHaveLength(1);
    s.ingestAck(subjects.ruleSetAck('n1'), ack(4, H2, 'applied', '2026-12-03T10:00:02.000Z'));
    expect(s.rejections()).toEqual([]);
  });
});
