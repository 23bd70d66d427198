import { describe, expect, it } from 'vitest';
import type { RunningRuleSet } from '../src/rollout/last-good.js';
import { lastGoodOf } from '../src/rollout/last-good.js';
import { GOOD, NEW, OLDER } from './support/rollout.js';

const OTHER = 'd'.repeat(64);

const stored = (serial: number, hash: string): RunningRuleSet => ({ serial, hash, source: 'controller' });
const fromFile = (serial: number, hash: string): RunningRuleSet => ({ serial, hash, source: 'file' });

/** The rule set rolled out. */
const candidate = { serial: 10 };

describe('lastGoodOf', () => {
  it('gives the stored serial most nodes run, as a rule-set ref', () => {
    const running = [stored(8, OLDER), stored(9, GOOD), stored(9, GOOD), stored(7, OTHER), stored(9, GOOD)];
    expect(lastGoodOf(running, candidate)).toStrictEqual({ serial: 9, hash: GOOD });
  });

  it('prefers the most common serial to a higher one', () => {
    const running = [stored(12, OTHER), stored(8, OLDER), stored(8, OLDER)];
    expect(lastGoodOf(running, candidate)).toStrictEqual({ serial: 8, hash: OLDER });
  });

  it.each([
    ['lower first', [stored(8, OLDER), stored(9, GOOD), stored(8, OLDER), stored(9, GOOD)]],
    ['higher first', [stored(9, GOOD), stored(8, OLDER), stored(9, GOOD), stored(8, OLDER)]],
  ])('breaks a tie for the higher serial (%s)', (_order, running) => {
    expect(lastGoodOf(running, candidate)).toStrictEqual({ serial: 9, hash: GOOD });
  });

  it('breaks a tie of many for the highest serial', () => {
    const running = [stored(3, OTHER), stored(9, GOOD), stored(8, OLDER), stored(12, NEW)];
    expect(lastGoodOf(running, candidate)).toStrictEqual({ serial: 12, hash: NEW });
  });

  it('leaves out the serial rolled out, however many run it', () => {
    const running = [stored(10, NEW), stored(10, NEW), stored(10, NEW), stored(9, GOOD)];
    expect(lastGoodOf(running, candidate)).toStrictEqual({ serial: 9, hash: GOOD });
  });

  it("leaves out a node's own rules file, whatever serial it says", () => {
    const running = [fromFile(12, OTHER), fromFile(12, OTHER), fromFile(12, OTHER), stored(8, OLDER)];
    expect(lastGoodOf(running, candidate)).toStrictEqual({ serial: 8, hash: OLDER });
  });

  it('leaves out serial 0 (no stored rule set) and nodes with no rule set', () => {
    const running = [stored(0, OTHER), stored(0, OTHER), null, null, null, stored(7, GOOD)];
    expect(lastGoodOf(running, candidate)).toStrictEqual({ serial: 7, hash: GOOD });
  });

  it.each([
    ['no node', []],
    ['nodes with no rule set', [null, null]],
    ['only the serial rolled out', [stored(10, NEW)]],
    ['only rules files', [fromFile(9, GOOD)]],
    ['only serial 0', [stored(0, GOOD)]],
    ['all of these', [null, stored(10, NEW), fromFile(9, GOOD), stored(0, GOOD)]],
  ])('is null with %s', (_what, running: (RunningRuleSet | null)[]) => {
    expect(lastGoodOf(running, candidate)).toBeNull();
  });

  it('counts a persisted rule set as stored, and reads any iterable', () => {
    function* running(): Generator<RunningRuleSet | null> {
      yield stored(9, GOOD);
      yield { serial: 8, hash: OLDER, source: 'persisted' };
      yield { serial: 8, hash: OLDER, source: 'persisted' };
    }
    expect(lastGoodOf(running(), candidate)).toStrictEqual({ serial: 8, hash: OLDER });
  });
});
