import { describe, expect, it } from 'vitest';
import { durationMs, EMPTY_FORM, forceReason, readRolloutForm } from '../src/model/rollout-form.js';

const form = (over: Partial<typeof EMPTY_FORM>) => readRolloutForm({ ...EMPTY_FORM, serial: '12', ...over });

describe('readRolloutForm', () => {
  it("keeps the rule set's own target and the default strategy when nothing is typed", () => {
    expect(form({})).toEqual({ ok: true, whatIf: { serial: 12 }, start: { serial: 12, strategy: {} } });
  });

  it('reads all nodes, a selector, the strategy and a message', () => {
    expect(form({ targetKind: 'all' })).toMatchObject({ whatIf: { serial: 12, target: 'all' } });
    expect(
      form({
        targetKind: 'selector',
        selector: ' site=par1 ',
        canary: '2',
        batch: '25%',
        soak: '30s',
        message: ' tighten be_app ',
      }),
    ).toEqual({
      ok: true,
      whatIf: { serial: 12, target: 'site=par1' },
      start: {
        serial: 12,
        target: 'site=par1',
        strategy: { canary: { count: 2 }, batch: { percent: 25 }, soakMs: 30_000 },
        message: 'tighten be_app',
      },
    });
  });

  it.each([
    ['none', null],
    ['10%', { percent: 10 }],
    ['role=edge', { selector: 'role=edge' }],
  ])('reads the canary %s', (canary, value) => {
    expect(form({ canary })).toMatchObject({ start: { strategy: { canary: value } } });
  });

  it('says what is wrong, field by field', () => {
    expect(
      form({
        serial: '',
        targetKind: 'selector',
        selector: 'site=',
        canary: '0',
        batch: 'half',
        soak: '2 days',
        message: 'x'.repeat(1025),
      }),
    ).toEqual({
      ok: false,
      errors: {
        serial: 'choose a stored rule set',
        selector: 'label selector "site=", column 6: expected a value, got the end',
        canary: 'at least 1 node',
        batch: 'a size (5) or a percentage (25%)',
        soak: 'a duration such as 30s, 2m or 500ms',
        message: 'at most 1024 characters',
      },
    });
    expect(form({ targetKind: 'selector', selector: ' ' })).toMatchObject({
      errors: { selector: 'a label selector, e.g. site=par1' },
    });
    expect(form({ canary: '150%' })).toMatchObject({
      errors: { canary: 'a percentage above 0, at most 100' },
    });
    expect(form({ canary: 'site=a,site=b' })).toMatchObject({ ok: false });
    expect(form({ canary: 'lots' })).toMatchObject({ ok: false });
  });
});

describe('durationMs', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['250', 250],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });
  it.each(['', 's', '1.5s', '-1s', '2d'])('%j is no duration', (text) => {
    expect(durationMs(text)).toBeNull();
  });
});

describe('forceReason', () => {
  it('needs a reason, which is recorded', () => {
    expect(forceReason('  ')).toEqual({
      ok: false,
      error: 'say why: the reason is recorded in the timeline',
    });
    expect(forceReason(' be_missing is being added ')).toEqual({
      ok: true,
      reason: 'be_missing is being added',
    });
  });
});
