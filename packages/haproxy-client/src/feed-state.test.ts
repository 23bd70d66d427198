import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { HaproxySocketMissingError } from './errors.js';
import type { FeedState } from './feed-state.js';
import { feedOnFailure, feedOnRead, INITIAL_FEED_STATE } from './feed-state.js';
import { buildHealthSnapshot } from './health.js';
import { parseInfo } from './info.js';
import { parseStat } from './stat-csv.js';

const snap = (readAt: number) =>
  buildHealthSnapshot(parseInfo(fixtureReply('show-info.txt')), parseStat(fixtureReply('show-stat.txt')), {
    readAt,
    withServers: true,
  });
const missing = new HaproxySocketMissingError('/x.sock');

describe('feed state machine', () => {
  it('yields the first read, then only changes', () => {
    const first = feedOnRead(INITIAL_FEED_STATE, snap(1), 1, 2000);
    expect(first.event).toMatchObject({ type: 'snapshot', recovered: false });
    const same = feedOnRead(first.state, snap(2), 2, 2000);
    expect(same.event).toBeUndefined();
    expect(same.state.last?.readAt).toBe(2);
    const s = snap(3);
    const paused = {
      ...s,
      frontends: { ...s.frontends, fe_open: { up: false, reason: 'PAUSED', sessions: 0 } },
    };
    expect(feedOnRead(same.state, paused, 3, 2000).event).toMatchObject({
      changes: { frontends: { changed: ['fe_open'] } },
    });
  });

  it('yields the first read after session tracking starts, even unchanged, then only changes', () => {
    const first = feedOnRead(INITIAL_FEED_STATE, snap(1), 1, 2000);
    const untracked = feedOnRead(first.state, snap(2), 2, 2000);
    expect(untracked.event).toBeUndefined();
    const starts = feedOnRead(untracked.state, snap(3), 3, 2000, { sessions: true });
    expect(starts.event).toMatchObject({ type: 'snapshot', changes: { any: false } });
    expect(feedOnRead(starts.state, snap(4), 4, 2000, { sessions: true }).event).toBeUndefined();
    const stopped = feedOnRead(starts.state, snap(5), 5, 2000);
    expect(stopped.event).toBeUndefined();
    expect(feedOnRead(stopped.state, snap(6), 6, 2000, { sessions: true }).event).toBeDefined();
  });

  it('absorbs failures shorter than the grace period (a reload)', () => {
    let state: FeedState = feedOnRead(INITIAL_FEED_STATE, snap(0), 0, 2000).state;
    for (const t of [100, 1000, 2099]) {
      const step = feedOnFailure(state, missing, t, 2000);
      expect(step.event).toBeUndefined();
      state = step.state;
    }
    const back = feedOnRead(state, snap(2100), 2100, 2000);
    expect(back.event).toBeUndefined();
    expect(back.state.failingSince).toBeUndefined();
  });

  it('reports unreachable once after the grace period, then recovered', () => {
    let state: FeedState = feedOnRead(INITIAL_FEED_STATE, snap(0), 0, 2000).state;
    state = feedOnFailure(state, missing, 100, 2000).state;
    const down = feedOnFailure(state, missing, 2100, 2000);
    expect(down.event).toMatchObject({
      type: 'unreachable',
      since: 100,
      error: missing,
      lastSnapshot: snap(0),
    });
    expect(feedOnFailure(down.state, missing, 5000, 2000).event).toBeUndefined();
    const back = feedOnRead(down.state, snap(6000), 6000, 2000);
    expect(back.event).toMatchObject({ type: 'snapshot', recovered: true, changes: { any: false } });
  });

  it('reports unreachable when HAProxy was never reached', () => {
    const state = feedOnFailure(INITIAL_FEED_STATE, missing, 0, 500).state;
    const step = feedOnFailure(state, missing, 500, 500);
    expect(step.event).toEqual({ type: 'unreachable', since: 0, error: missing });
  });

  it('never yields a read from a stopping worker (its frontends show STOP)', () => {
    const live = feedOnRead(INITIAL_FEED_STATE, snap(0), 0, 2000).state;
    const s = snap(10);
    const stopping = {
      ...s,
      process: { ...s.process, stopping: true },
      frontends: { ...s.frontends, fe_open: { up: false, reason: 'STOP', sessions: 0 } },
    };
    const during = feedOnRead(live, stopping, 10, 2000);
    expect(during.event).toBeUndefined();
    expect(during.state.last).toBe(live.last);
    const late = feedOnRead(during.state, stopping, 2010, 2000);
    expect(late.event).toMatchObject({ type: 'unreachable', error: { code: 'HAPROXY_WORKER_STOPPING' } });
  });
});
