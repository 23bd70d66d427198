import { describe, expect, it } from 'vitest';
import { ApiFailure } from '../src/model/api.js';
import { timelineItem, type EventsAnswer, type TimelineEntry } from '../src/model/timeline-items.js';
import { emptyHeld, mergeItems, readTimeline } from '../src/model/timeline-reader.js';
import { agent, MIN, resetSeq, T10, VIP1 } from './timeline-fixtures.js';

/** A fake API over `entries`, answering `/api/v1/events` as the controller does: oldest first, `limit`, `truncated`. */
function fakeApi(entries: readonly TimelineEntry[]) {
  const paths: string[] = [];
  const get = async <T>(path: string): Promise<T> => {
    paths.push(path);
    const q = new URL(path, 'http://x').searchParams;
    const since = Number(q.get('since') ?? 0);
    const until = q.has('until') ? Number(q.get('until')) : Infinity;
    const limit = Number(q.get('limit') ?? 1000);
    const node = q.get('node');
    const hits = entries.filter((e) => {
      const at = Date.parse(e.time);
      return at >= since && at <= until && (node === null || (e.event as { node?: string }).node === node);
    });
    return { events: hits.slice(0, limit), truncated: hits.length > limit } satisfies EventsAnswer as T;
  };
  return { get, paths };
}

const flaps = (n: number, start = T10) => {
  resetSeq();
  return Array.from({ length: n }, (_, k) =>
    agent(`lb${(k % 3) + 1}`, start + k * 1000, k % 2 ? 'routeAnnounced' : 'routeWithdrawn', VIP1),
  );
};

describe('mergeItems', () => {
  it('keeps each seq once, oldest first, and only the window', () => {
    const all = flaps(6).map(timelineItem);
    const a = mergeItems(emptyHeld(T10), all.slice(0, 4), T10);
    const b = mergeItems(a, all.slice(2), T10 + 2000);
    expect(b.items.map((i) => i.seq)).toEqual([3, 4, 5, 6]);
    expect(b).toMatchObject({ since: T10 + 2000, dropped: 0 });
  });

  it('lets the oldest go past the cap, and says from when it holds everything', () => {
    const all = flaps(10).map(timelineItem);
    const h = mergeItems(emptyHeld(T10), all, T10, 4);
    expect(h.items.map((i) => i.seq)).toEqual([7, 8, 9, 10]);
    expect(h).toMatchObject({ since: T10 + 6000, dropped: 6 });
  });
});

describe('readTimeline', () => {
  it('reads page after page from the newest entry of the one before, until the API has no more', async () => {
    const api = fakeApi(flaps(25));
    const pages: number[] = [];
    const r = await readTimeline(api.get, { since: T10, until: null }, T10, emptyHeld(T10), {
      pageSize: 10,
      onPage: (h) => pages.push(h.items.length),
    });
    expect(r.complete).toBe(true);
    expect(r.held.items.map((i) => i.seq)).toEqual(Array.from({ length: 25 }, (_, k) => k + 1));
    expect(pages).toEqual([10, 19, 25]);
    expect(api.paths[1]).toBe(`/api/v1/events?since=${T10 + 9000}&limit=10`);
  });

  it('goes on from what it holds (a refresh) and sends the exact filters', async () => {
    const api = fakeApi(flaps(12));
    const first = await readTimeline(
      api.get,
      { node: 'lb1', since: T10, until: T10 + 10 * MIN },
      T10,
      emptyHeld(T10),
    );
    expect(first.held.items.map((i) => i.node)).toEqual(['lb1', 'lb1', 'lb1', 'lb1']);
    expect(api.paths[0]).toBe(`/api/v1/events?node=lb1&since=${T10}&until=${T10 + 10 * MIN}&limit=2000`);
  });

  it('stops after its pages, or when cancelled, saying the window is not read to its end', async () => {
    const api = fakeApi(flaps(50));
    const r = await readTimeline(api.get, { since: T10, until: null }, T10, emptyHeld(T10), {
      pageSize: 10,
      maxPages: 2,
    });
    expect([r.complete, r.held.items.length]).toEqual([false, 19]);
    let stop = false;
    const c = await readTimeline(api.get, { since: T10, until: null }, T10, emptyHeld(T10), {
      pageSize: 10,
      cancelled: () => stop,
      onPage: () => (stop = true),
    });
    expect([c.complete, c.held.items.length]).toEqual([false, 10]);
  });

  it("passes the API's failures on", async () => {
    const get = async <T>(): Promise<T> => {
      throw new ApiFailure(503, 'NATS_UNAVAILABLE', 'NATS is unreachable: the timeline lives in JetStream');
    };
    await expect(readTimeline(get, { since: T10, until: null }, T10, emptyHeld(T10))).rejects.toMatchObject({
      code: 'NATS_UNAVAILABLE',
    });
  });

  it('moves on within one millisecond full of entries rather than asking the same page again', async () => {
    resetSeq();
    const same = Array.from({ length: 5 }, () => agent('lb1', T10, 'routeWithdrawn', VIP1));
    const api = fakeApi(same);
    const r = await readTimeline(api.get, { since: T10, until: null }, T10, emptyHeld(T10), { pageSize: 3 });
    expect(r.complete).toBe(true);
    expect(api.paths.map((p) => new URL(p, 'http://x').searchParams.get('since'))).toEqual([
      String(T10),
      String(T10 + 1),
    ]);
  });
});
