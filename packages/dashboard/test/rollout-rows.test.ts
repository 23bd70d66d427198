import { RolloutRecordSchema } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { rolloutDetail, rolloutRows, strategyText, ticks } from '../src/model/rollout-rows.js';
import { completed, failed, paused, rollout, rolledBack, soaking, SOAK, T } from './rollout-fixtures.js';

describe('the fixtures', () => {
  it.each([
    ['canary', rollout()],
    ['soaking', soaking()],
    ['paused', paused()],
    ['completed', completed()],
    ['rolledBack', rolledBack()],
    ['failed', failed()],
  ])('%s is a record the controller stores', (_, r) => {
    expect(RolloutRecordSchema.safeParse(r).error).toBeUndefined();
  });
});

describe('rolloutRows', () => {
  it('puts the one under way first, then the newest, with icon and word for the status', () => {
    const older = { ...completed(), id: 's10-old', createdAt: T - 86_400_000 };
    const newest = { ...rolledBack(), id: 's11-new', createdAt: T + 60_000 };
    const active = { ...soaking(), id: 's12-now', createdAt: T };
    const rows = rolloutRows({ active: 's12-now', rollouts: [newest, active, older] });
    expect(rows.map((r) => [r.id, r.status, r.active])).toEqual([
      ['s12-now', 'soaking', true],
      ['s11-new', 'rolledBack', false],
      ['s10-old', 'completed', false],
    ]);
    expect(rows[0]).toMatchObject({
      look: { icon: '◷', text: 'SOAKING' },
      serial: 12,
      target: 'site=par1',
      createdBy: 'alice',
      createdAt: '2026-01-02 10:00:00Z',
      message: 'tighten be_app',
      progress: 'applied 1/4',
    });
    // lb-3 rejected it: a rejection is never counted as applied.
    expect(rows[1]!.progress).toBe('applied 2/4');
  });

  it('adds the one under way when the newest listed leave it out, once', () => {
    const active = { ...paused(), id: 's9-long', createdAt: T - 3_600_000 };
    const rows = rolloutRows({ active: 's9-long', rollouts: [completed()] }, active);
    expect(rows.map((r) => r.id)).toEqual(['s9-long', 's12-mjx0abc']);
    const again = rolloutRows({ active: 's9-long', rollouts: [active, completed()] }, active);
    expect(again.map((r) => r.id)).toEqual(['s9-long', 's12-mjx0abc']);
  });

  it('is empty for no rollout', () => {
    expect(rolloutRows({ active: null, rollouts: [] })).toEqual([]);
  });
});

describe('rolloutDetail', () => {
  it('shows the canary waiting for its ack, the batches waiting, and what a stop rolls back to', () => {
    const d = rolloutDetail(rollout(), T + 30_000);
    expect(d.head).toBe('rollout s12-mjx0abc: serial 12 to site=par1: CANARY');
    expect(d.started).toBe('started by alice at 2026-01-02 10:00:00Z: tighten be_app');
    expect(d.steps.map((s) => [s.index, s.kind, s.size, s.applied, s.phase, s.current])).toEqual([
      [0, 'canary', '1 node', 'applied 0/1', 'waiting for lb-1, due in 90 s', true],
      [1, 'batch', '2 nodes', null, 'waiting', false],
      [2, 'batch', '1 node', null, 'waiting', false],
    ]);
    expect(d.steps.flatMap((s) => s.nodes)).toEqual([
      { name: 'lb-1', state: 'assigned' },
      { name: 'lb-2', state: 'waiting' },
      { name: 'lb-3', state: 'waiting' },
      { name: 'lb-4', state: 'waiting' },
    ]);
    expect(d.rollsBackTo).toBe('rolls back to: serial 11 (re-issued as 13)');
    expect(d.stop).toBeNull();
    expect(d.rollback).toBeNull();
    expect(d.strategy).toBe('canary 1, batch 2, soak 120 s, ack timeout 120 s');
  });

  it('counts the soak down, then waits for the health gate', () => {
    const r = soaking();
    const end = T + 1000 + SOAK;
    expect(rolloutDetail(r, end - 40_000).steps[0]).toMatchObject({
      applied: 'applied 1/1',
      phase: 'soaking, 40 s left',
      soakLeftMs: 40_000,
      nodes: [{ name: 'lb-1', state: 'applied' }],
    });
    expect(rolloutDetail(r, end - 38_001).steps[0]!.phase).toBe('soaking, 39 s left');
    expect(rolloutDetail(r, end + 5).steps[0]).toMatchObject({
      phase: 'soaking, then the health gate',
      soakLeftMs: null,
    });
    expect(ticks(r)).toBe(true);
  });

  it('says who paused it and why; a paused rollout does not count down', () => {
    const d = rolloutDetail(paused(), T + 10_000);
    expect(d.head).toBe('rollout s12-mjx0abc: serial 12 to site=par1: PAUSED (by bob: lunch)');
    expect(d.look).toEqual({ icon: '‖', text: 'PAUSED', tone: 'warn' });
    expect(d.steps[0]!.soakLeftMs).toBeNull();
    expect(ticks(paused())).toBe(false);
  });

  it('shows every step done for a completed one, and no rollback target', () => {
    const d = rolloutDetail(completed(), T + 3_600_000);
    expect(d.steps.map((s) => `${s.applied} ${s.phase}`)).toEqual([
      'applied 1/1 done',
      'applied 2/2 done',
      'applied 1/1 done',
    ]);
    expect(d.rollsBackTo).toBeNull();
    expect(ticks(completed())).toBe(false);
  });

  it('shows a rejection with its code and reason, the stop and the rollback', () => {
    const d = rolloutDetail(rolledBack(), T + 3_600_000);
    expect(d.steps[1]!.nodes).toEqual([
      { name: 'lb-2', state: 'applied' },
      {
        name: 'lb-3',
        state: 'rejected',
        code: 'RULESET_UNKNOWN_PROXIES',
        reason: 'its HAProxy has no backend be_new',
      },
    ]);
    expect(d.steps[1]).toMatchObject({ applied: 'applied 1/2', phase: '', current: false });
    expect(d.steps[2]!.nodes).toEqual([{ name: 'lb-4', state: 'waiting' }]);
    expect(d.rejections).toEqual([
      'rejected by lb-3 (RULESET_UNKNOWN_PROXIES): its HAProxy has no backend be_new',
    ]);
    expect(d.stop).toBe(
      'stopped (rejected) by replica-a at 2026-01-02 10:02:01Z: lb-3 rejected serial 12: its HAProxy has no backend be_new',
    );
    expect(d.rollback).toMatchObject({
      serial: 13,
      of: 11,
      applied: 'applied 3/3',
      line: 'rollback: serial 13 (a copy of 11) to 3 nodes, applied 3/3',
    });
    expect(d.rollback!.nodes.map((n) => n.state)).toEqual(['applied', 'applied', 'applied']);
  });

  it('says a failed rollback needs a person, and which nodes did not go back', () => {
    const d = rolloutDetail(failed(), T + 2000);
    expect(d.failure).toBe(
      'FAILED (rollbackAckTimeout): lb-2 did not ack the rollback within 800 ms: needs a person (nodes: lb-2)',
    );
    expect(d.rollback!.nodes).toEqual([
      { name: 'lb-1', state: 'applied' },
      { name: 'lb-2', state: 'assigned' },
      { name: 'lb-3', state: 'applied' },
    ]);
    expect(d.strategy).toBe('no canary, batch 3, soak 0 s, ack timeout 800 ms');
  });

  it('lists many missing nodes as rhictl does: eight, then how many more', () => {
    const nodes = Array.from({ length: 11 }, (_, i) => `lb-${i + 1}`);
    const r = rollout({
      steps: [
        {
          kind: 'batch',
          nodes,
          assignedAt: T,
          ackDueAt: T + 60_000,
          applied: ['lb-1'],
          soakUntil: null,
          completedAt: null,
        },
      ],
      status: 'batch',
    });
    expect(rolloutDetail(r, T).steps[0]!.phase).toBe(
      'waiting for lb-2, lb-3, lb-4, lb-5, lb-6, lb-7, lb-8, lb-9 and 2 more, due in 60 s',
    );
  });
});

describe('strategyText', () => {
  it.each([
    [{ percent: 10 }, { percent: 25 }, 'canary 10%, batch 25%'],
    [{ selector: 'site=par1' }, { size: 5 }, 'canary site=par1, batch 5'],
  ] as const)('%o then %o', (canary, batch, text) => {
    expect(
      strategyText({ canary, batch, soakMs: 1500, ackTimeoutMs: 60_000, progressDeadlineMs: null }),
    ).toBe(`${text}, soak 1500 ms, ack timeout 60 s`);
  });
});
