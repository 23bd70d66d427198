import { describe, expect, it } from 'vitest';
import { advertiserSeries, advertiserSummary, pickVips } from '../src/model/advertiser-series.js';
import { timelineItem } from '../src/model/timeline-items.js';
import { node, state, vip } from './fixtures.js';
import { agent, alert, MIN, T10, VIP1, VIP2, VIP6 } from './timeline-fixtures.js';

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);

// Three nodes with a rule for VIP1; now lb1 and lb3 advertise it, lb2 withdrew it (its backend went down).
const now = state(
  [node('lb1'), node('lb2'), node('lb3')],
  [vip(VIP1, 'AWA', { minimum: 2 }), vip(VIP2, 'AA.'), vip(VIP6, 'WWW')],
);

describe('pickVips', () => {
  const items = [
    agent('lb1', T10, 'routeWithdrawn', VIP2),
    agent('lb1', T10 + 1, 'routeWithdrawn', VIP1),
    agent('lb1', T10 + 2, 'routeAnnounced', VIP1),
    agent('lb2', T10 + 3, 'routeWithdrawn', VIP6),
    agent('lb2', T10 + 4, 'ruleSetApplied', undefined, 'serial 3'),
  ].map(timelineItem);

  it('draws the chosen VIP', () => {
    expect(pickVips(items, VIP2)).toEqual([VIP2]);
  });

  it('else the few that changed most, then by id, among those matching the text', () => {
    expect(pickVips(items, '')).toEqual([VIP1, VIP2, VIP6]);
    expect(pickVips(items, '', 2)).toEqual([VIP1, VIP2]);
    expect(pickVips(items, 'DB8')).toEqual([VIP6]);
    expect(pickVips(items, '198.18')).toEqual([VIP1, VIP2]);
    expect(pickVips([], '')).toEqual([]);
  });
});

describe('advertiserSeries', () => {
  it('rebuilds the count node by node back from the matrix of now', () => {
    const items = [
      agent('lb3', T10 + 2 * MIN, 'routeWithdrawn', VIP1, 'b:be_app down'),
      agent('lb2', T10 + 3 * MIN, 'routeWithdrawn', VIP1, 'b:be_app down'),
      agent('lb3', T10 + 5 * MIN, 'routeAnnounced', VIP1, 'b:be_app up'),
    ].map(timelineItem);
    const s = advertiserSeries(items, [VIP1], now, T10, T10 + 10 * MIN);
    // Before 10:02 lb2 and lb3 advertised (they withdrew later), lb1 did (as now): 3; then 2, 1, 2.
    expect(s.times).toEqual([T10, T10 + 2 * MIN, T10 + 3 * MIN, T10 + 5 * MIN, T10 + 10 * MIN]);
    expect(s.series).toEqual([
      {
        vip: VIP1,
        counts: [3, 2, 1, 2, 2],
        minimum: 2,
        transitions: 3,
        lowest: { count: 1, at: T10 + 3 * MIN },
      },
    ]);
    expect(advertiserSummary(s, hhmm)).toBe(
      `${VIP1}: 3 advertisers at the start, 2 at the end, lowest 1 at 10:03 (minimum 2)`,
    );
  });

  it("stops counting a node while its nodeLost alert is open, and reads a lost node's start from its alert", () => {
    const lost = state(
      [node('lb1'), node('lb2'), node('lb3', {}, { state: 'lost' })],
      [vip(VIP1, 'AAL', { minimum: 2 })],
    );
    const items = [
      agent('lb3', T10 + MIN, 'routeAnnounced', VIP1),
      alert(T10 + 4 * MIN, 'alertOpened', 'nodeLost', 'lb3', 'lb3 has not reported for 31 s'),
      alert(T10 + 6 * MIN, 'alertOpened', 'nodeLost', 'lb1', 'lb1 has not reported for 31 s'),
      alert(T10 + 7 * MIN, 'alertClosed', 'nodeLost', 'lb1', 'lb1 reports again'),
    ].map(timelineItem);
    const s = advertiserSeries(items, [VIP1], lost, T10, T10 + 8 * MIN);
    expect(s.times.map((t) => (t - T10) / MIN)).toEqual([0, 1, 4, 6, 7, 8]);
    expect(s.series[0]!.counts).toEqual([2, 3, 2, 1, 2, 2]);
  });

  it('counts nodes the matrix does not know from their events alone, and shares one time axis', () => {
    const items = [
      agent('lb9', T10 + MIN, 'routeWithdrawn', VIP2),
      agent('lb1', T10 + 2 * MIN, 'routeAnnounced', VIP1),
      agent('lb1', T10 + 2 * MIN, 'routeWithdrawn', VIP1),
    ].map(timelineItem);
    const s = advertiserSeries(items, [VIP1, VIP2], now, T10, T10 + 3 * MIN);
    expect(s.times.map((t) => (t - T10) / MIN)).toEqual([0, 1, 2, 3]);
    // VIP1: lb1 was not advertising before its announcement; two events in one millisecond are one step.
    expect(s.series.map((v) => v.counts)).toEqual([
      [1, 1, 1, 1],
      [3, 2, 2, 2],
    ]);
  });

  it('without the matrix, counts only from the events', () => {
    const items = [agent('lb1', T10 + MIN, 'routeAnnounced', VIP1)].map(timelineItem);
    const s = advertiserSeries(items, [VIP1], null, T10, T10 + 2 * MIN);
    expect(s.series[0]!.counts).toEqual([0, 1, 1]);
    expect(s.series[0]!.minimum).toBeNull();
    expect(advertiserSummary(s, hhmm)).toBe(`${VIP1}: 0 advertisers at the start, 1 at the end`);
  });

  it('says there is nothing to draw with no VIP', () => {
    expect(advertiserSummary(advertiserSeries([], [], now, T10, T10 + MIN), hhmm)).toBe(
      'no route transition in this range: no VIP to draw',
    );
  });
});
