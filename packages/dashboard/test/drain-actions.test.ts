import type { DrainApiAnswer, GuardVerdict } from '@rhi/contracts/fleet';
import { describe, expect, it } from 'vitest';
import { ApiFailure } from '../src/model/api.js';
import { drainBlockers, drainOffer, drainOutcome, drainRequest } from '../src/model/drain-actions.js';

const answer = (over: Partial<DrainApiAnswer['action']> = {}): DrainApiAnswer => ({
  action: {
    schema: 'rhi.v1.action',
    action: 'drain',
    by: 'alice',
    time: '2026-12-04T18:00:00.000Z',
    target: 'lb-1',
    answers: [{ node: 'lb-1', result: 'applied' }],
    ...over,
  },
  guard: null,
  whatIf: null,
});

const guard: GuardVerdict = {
  allowed: false,
  blockers: [
    {
      kind: 'belowMinimum',
      vip: 'vol1%198.18.230.2/32',
      before: 2,
      after: 1,
      minimum: 2,
      withdrawnBy: ['lb-1'],
    },
  ],
  forced: null,
  warnings: { unknownNodes: [], unverifiedProxies: [] },
} as GuardVerdict;

describe('drainOffer', () => {
  it.each([
    ['up, not drained', { state: 'up' as const, drained: false }, 'drain'],
    ['up, drained', { state: 'up' as const, drained: true }, 'undrain'],
    ['lost', { state: 'lost' as const, drained: false }, null],
  ])('%s', (_, node, action) => {
    expect(drainOffer(node).action).toBe(action);
  });
});

describe('drainRequest', () => {
  it('sends a drain with its reason, or none', () => {
    expect(drainRequest('lb-1', 'drain', { reason: ' kernel ' })).toEqual({
      ok: true,
      path: '/api/v1/nodes/lb-1/drain',
      body: { reason: 'kernel' },
    });
    expect(drainRequest('lb-1', 'drain', { reason: '' })).toMatchObject({ ok: true, body: {} });
  });
  it('needs a force reason when forcing, and sends it as force', () => {
    expect(drainRequest('lb-1', 'drain', { reason: '', force: ' ' }, true)).toMatchObject({
      ok: false,
      errors: { force: expect.stringContaining('say why') },
    });
    expect(drainRequest('lb-1', 'drain', { reason: 'r', force: 'planned' }, true)).toMatchObject({
      ok: true,
      body: { reason: 'r', force: 'planned' },
    });
  });
  it('refuses a reason over 1024 characters', () => {
    expect(drainRequest('lb-1', 'drain', { reason: 'x'.repeat(1025) }).ok).toBe(false);
  });
  it('sends an undrain with an empty body', () => {
    expect(drainRequest('lb 1', 'undrain', { reason: 'ignored' })).toEqual({
      ok: true,
      path: '/api/v1/nodes/lb%201/undrain',
      body: {},
    });
  });
});

describe('drainOutcome', () => {
  it('reads applied, rejected and unanswered nodes', () => {
    expect(drainOutcome(answer()).lines.map((l) => l.text)).toEqual(['lb-1 drained']);
    expect(drainOutcome(answer()).ok).toBe(true);
    const bad = drainOutcome(
      answer({
        action: 'undrain',
        answers: [
          { node: 'lb-1', result: 'rejected', reason: 'busy' },
          { node: 'lb-2', result: 'noAnswer', reason: 'no answer within the timeout' },
        ],
      }),
    );
    expect(bad.ok).toBe(false);
    expect(bad.lines.map((l) => l.text)).toEqual([
      'lb-1 refused the undrain: busy',
      'lb-2 did not answer: no answer within the timeout',
    ]);
  });
  it('says a force', () => {
    expect(drainOutcome(answer({ forced: { reason: 'planned', blockers: 1 } })).forced).toBe(
      'FORCED past 1 blocker: planned',
    );
  });
});

describe('drainBlockers', () => {
  it("reads a 409 DRAIN_BLOCKED's blockers in rhictl's words", () => {
    const err = new ApiFailure(409, 'DRAIN_BLOCKED', 'would leave 1 VIP(s) below', { guard, whatIf: {} });
    expect(drainBlockers(err)?.map((b) => b.text)).toEqual([
      'BLOCKED vol1%198.18.230.2/32: 2 -> 1 advertisers, minimum 2 (withdrawn by lb-1)',
    ]);
  });
  it('is null for other failures', () => {
    expect(drainBlockers(new ApiFailure(404, 'NODE_NOT_FOUND', 'no node'))).toBeNull();
    expect(drainBlockers(new Error('x'))).toBeNull();
  });
});
