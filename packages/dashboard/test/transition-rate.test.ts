import { describe, expect, it } from 'vitest';
import { timelineItem } from '../src/model/timeline-items.js';
import { transitionRate, transitionRateSummary } from '../src/model/transition-rate.js';
import { agent, alert, MIN, T10, VIP1, VIP2 } from './timeline-fixtures.js';

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);

describe('transitionRate', () => {
  const items = [
    agent('lb1', T10 + 5_000, 'routeWithdrawn', VIP1),
    agent('lb2', T10 + 59_999, 'routeWithdrawn', VIP1),
    alert(
      T10 + 61_000,
      'alertOpened',
      'vipNoAdvertiser',
      VIP1,
      `no node advertises ${VIP1} (2 nodes with a rule for it)`,
    ),
    agent('lb1', T10 + 2 * MIN + 1, 'routeAnnounced', VIP1),
    agent('lb1', T10 + 2 * MIN + 2, 'routeAnnounced', VIP2),
    agent('lb2', T10 + 2 * MIN + 3, 'routeAnnounced', VIP1),
    agent('lb3', T10 + 2 * MIN + 4, 'ruleSetApplied', undefined, 'serial 12'),
    agent('lb2', T10 + 9 * MIN, 'routeWithdrawn', VIP2),
  ].map(timelineItem);

  it('counts route transitions per clock minute, every minute of the window, zeros too', () => {
    const r = transitionRate(items, T10 + 30_000, T10 + 4 * MIN);
    expect(r.starts).toEqual([0, 1, 2, 3, 4].map((m) => T10 + m * MIN));
    // The first, at 10:00:05, is before the window's start: left out.
    expect(r.counts).toEqual([1, 0, 3, 0, 0]);
    expect(r).toMatchObject({ minutes: 1, total: 4, peak: { count: 3, at: T10 + 2 * MIN } });
    expect(transitionRateSummary(r, hhmm)).toBe('4 route transitions; peak 3 transitions/min at 10:02');
  });

  it('counts in buckets of several minutes past the most buckets', () => {
    const r = transitionRate(items, T10, T10 + 10 * MIN, 4);
    expect(r.minutes).toBe(3);
    expect(r.counts).toEqual([5, 0, 0, 1]);
    expect(transitionRateSummary(r, hhmm)).toBe('6 route transitions; peak 5 transitions/3 min at 10:00');
  });

  it('says so when nothing moved', () => {
    const r = transitionRate([], T10, T10 + 15 * MIN);
    expect(r.counts).toHaveLength(16);
    expect(r.peak).toBeNull();
    expect(transitionRateSummary(r, hhmm)).toBe('no route transition in this range');
  });

  it('counts a day of minutes in a day of buckets', () => {
    expect(transitionRate(items, T10, T10 + 1440 * MIN - 1).counts).toHaveLength(1440);
  });
});
