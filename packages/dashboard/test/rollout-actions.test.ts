import type { RolloutRecord } from '@rhi/contracts/fleet';
import { describe, expect, it } from 'vitest';
import { actionRequest, allowedActions, defaultRollbackSerial } from '../src/model/rollout-actions.js';
import { completed, failed, paused, rollout, rolledBack, soaking } from './rollout-fixtures.js';

const pending = (): RolloutRecord =>
  rollout({
    status: 'pending',
    steps: rollout().steps.map((s) => ({ ...s, assignedAt: null, ackDueAt: null })),
  });

describe('allowedActions', () => {
  it.each([
    ['pending', pending(), null, ['abort']],
    ['canary', rollout(), 's12-mjx0abc', ['pause', 'abort', 'rollback']],
    ['batch', rollout({ status: 'batch' }), 's12-mjx0abc', ['pause', 'abort', 'rollback']],
    ['soaking', soaking(), 's12-mjx0abc', ['pause', 'abort', 'rollback']],
    ['paused', paused(), 's12-mjx0abc', ['resume', 'abort', 'rollback']],
    ['rollingBack', { ...rolledBack(), status: 'rollingBack' as const }, 's12-mjx0abc', ['rollback']],
    ['completed, none under way', completed(), null, ['rollback']],
    ['completed, another under way', completed(), 's14-other', []],
    ['rolledBack', rolledBack(), null, ['rollback']],
    ['failed', failed(), null, ['rollback']],
    ['aborted before assigning', { ...pending(), status: 'aborted' as const }, null, []],
  ])('%s: %j', (_, r, active, actions) => {
    expect(allowedActions(r, active)).toEqual(actions);
  });
});

describe('defaultRollbackSerial', () => {
  it('is the last good serial the rollout knows, or none', () => {
    expect(defaultRollbackSerial(rollout())).toBe(11);
    expect(defaultRollbackSerial(rolledBack())).toBe(11);
    expect(defaultRollbackSerial(rollout({ rollbackTo: null }))).toBeNull();
  });
});

describe('actionRequest', () => {
  it('pauses with an optional reason and resumes with an empty body', () => {
    expect(actionRequest('s12-x', 'pause', { reason: '  ' })).toEqual({
      ok: true,
      path: '/api/v1/rollouts/s12-x/pause',
      body: {},
    });
    expect(actionRequest('s12-x', 'pause', { reason: ' lunch ' })).toMatchObject({
      body: { reason: 'lunch' },
    });
    expect(actionRequest('s12-x', 'resume', { reason: 'ignored' })).toEqual({
      ok: true,
      path: '/api/v1/rollouts/s12-x/resume',
      body: {},
    });
  });

  it('aborts only with a reason', () => {
    expect(actionRequest('s12-x', 'abort', { reason: '' })).toEqual({
      ok: false,
      errors: { reason: 'say why: it is kept in the timeline' },
    });
    expect(actionRequest('s12-x', 'abort', { reason: 'wrong VIP' })).toEqual({
      ok: true,
      path: '/api/v1/rollouts/s12-x/abort',
      body: { reason: 'wrong VIP' },
    });
  });

  it('rolls back to a serial, with a reason', () => {
    expect(actionRequest('s12-x', 'rollback', { reason: 'bad canary', to: '11' })).toEqual({
      ok: true,
      path: '/api/v1/rollouts/s12-x/rollback',
      body: { to: 11, reason: 'bad canary' },
    });
    expect(actionRequest('s12-x', 'rollback', { reason: '', to: 'x' })).toEqual({
      ok: false,
      errors: { reason: 'say why: it is kept in the timeline', to: 'the serial of a stored rule set' },
    });
    expect(actionRequest('s12-x', 'rollback', { reason: 'r', to: '0' })).toMatchObject({ ok: false });
  });

  it('refuses a reason the API would refuse as too long', () => {
    expect(actionRequest('s12-x', 'abort', { reason: 'x'.repeat(1025) })).toEqual({
      ok: false,
      errors: { reason: 'at most 1024 characters' },
    });
  });
});
