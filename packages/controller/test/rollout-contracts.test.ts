import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_PROGRESS_DEADLINE_MS,
  DEFAULT_SOAK_MS,
  rolloutEffectId,
  RolloutEffectSchema,
  RolloutRecordSchema,
  RolloutStrategySchema,
  RuleSetAssignmentSchema,
  RuleSetTargetSchema,
} from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { Drive, NEW } from './support/rollout.js';

// The rollout's wire and storage contracts (in @rhi/contracts), as the controller uses them.

describe('rollout contracts', () => {
  it('fills a strategy with its defaults: a canary of one, batches of a quarter, the progress deadline on', () => {
    expect(RolloutStrategySchema.parse({})).toEqual({
      canary: { count: 1 },
      batch: { percent: 25 },
      soakMs: DEFAULT_SOAK_MS,
      ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
      progressDeadlineMs: DEFAULT_PROGRESS_DEADLINE_MS,
    });
    expect(RolloutStrategySchema.parse({ canary: null, progressDeadlineMs: null })).toMatchObject({
      canary: null,
      progressDeadlineMs: null,
    });
    for (const bad of [
      { canary: { count: 0 } },
      { canary: { percent: 0 } },
      { batch: { percent: 101 } },
      { batch: { size: 2, percent: 10 } },
      { ackTimeoutMs: 0 },
      { canary: { selector: 'site = par1' } },
    ])
      expect(RolloutStrategySchema.safeParse(bad).success).toBe(false);
  });

  it('takes only canonical label selectors as a target', () => {
    expect(RuleSetTargetSchema.safeParse({ kind: 'selector', selector: 'role=edge,site=par1' }).success).toBe(
      true,
    );
    for (const selector of ['', 'site', 'site=par1,', 'site=par.1', 'site = par1'])
      expect(RuleSetTargetSchema.safeParse({ kind: 'selector', selector }).success).toBe(false);
  });

  it('keeps a rollout record through JSON, and refuses one whose step is past its steps', () => {
    const d = new Drive();
    d.send({ type: 'start', now: d.state.createdAt, by: 'alice' });
    const back = RolloutRecordSchema.parse(JSON.parse(JSON.stringify(d.state)));
    expect(back).toEqual(d.state);
    expect(RolloutRecordSchema.safeParse({ ...d.state, step: 3 }).success).toBe(false);
    expect(RolloutRecordSchema.safeParse({ ...d.state, status: 'running' }).success).toBe(false);
    for (const e of d.state.outbox) expect(RolloutEffectSchema.parse(e)).toEqual(e);
  });

  it('names an assignment and the idempotency key of an effect', () => {
    expect(
      RuleSetAssignmentSchema.safeParse({
        schema: 'rhi.v1.assignment',
        node: 'lb-1',
        serial: 10,
        hash: NEW,
        rollout: 'r-1',
        assignedAt: '2026-12-02T10:00:00.000Z',
      }).success,
    ).toBe(true);
    expect(rolloutEffectId('r-1', 7)).toBe('r-1:7');
  });
});
