import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiAlert, FleetMatrix } from '@rhi/contracts/fleet';
import { ApiFailure, type Api } from '../src/model/api.js';
import { FleetFeed, type FleetSnapshot } from '../src/model/fleet-feed.js';
import type { StreamEvent } from '../src/model/live-stream.js';
import { matrix, names, node, rows, vip } from './fixtures.js';

const V1 = 'vol1%198.18.200.1/32';
const V2 = 'vol1%198.18.200.2/32';
const ALERT: ApiAlert = {
  key: `vipBelowMinimum:${V2}`,
  kind: 'vipBelowMinimum',
  subject: V2,
  message: 'below',
  since: '2025-01-01T00:00:00.000Z',
};

/** The columns of `whole` for `asked`, as the controller answers `?nodes=` (unknown names left out). */
function columns(whole: FleetMatrix, asked: readonly string[]): FleetMatrix {
  const at = asked.flatMap((n) => {
    const i = whole.nodes.findIndex((x) => x.name === n);
    return i < 0 ? [] : [i];
  });
  return {
    ...whole,
    nodes: at.map((i) => whole.nodes[i]!),
    vips: whole.vips.map((v) => ({ ...v, cells: at.map((i) => v.cells[i]).join('') })),
  };
}

/**
 * A fake controller API: it records every path read and answers from `fleet` and `alerts`, which a
 * test changes as the controller's view would. `fail` fails every read, `failing` the reads of the
 * paths it holds. `hold` makes the next reads wait for `release`.
 */
function fakeApi() {
  const fake = {
    calls: [] as string[],
    fleet: matrix([node('a'), node('b'), node('c')], [vip(V1, 'AAW'), vip(V2, 'A..')]),
    alerts: [] as ApiAlert[],
    fail: null as Error | null,
    failing: new Map<string, Error>(),
    held: null as Promise<void> | null,
    release: () => undefined as void,
    hold() {
      this.held = new Promise<void>((r) => (this.release = r));
    },
  };
  const answerFor = (path: string): (() => unknown) => {
    const { fleet, alerts } = fake;
    const fail = fake.fail ?? fake.failing.get(path);
    if (fail)
      return () => {
        throw fail;
      };
    const url = new URL(path, 'http://controller');
    if (url.pathname === '/api/v1/alerts') return () => ({ alerts });
    if (url.pathname !== '/api/v1/matrix') throw new ApiFailure(404, 'NOT_FOUND', path);
    const nodes = url.searchParams.get('nodes');
    const m = nodes === null ? fleet : columns(fleet, nodes.split(','));
    return () => m;
  };
  const api: Api = {
    get: async <T>(path: string): Promise<T> => {
      fake.calls.push(path);
      // The answer is the view as it is when asked, however long it takes to arrive.
      const answer = answerFor(path);
      if (fake.held) await fake.held;
      return answer() as T;
    },
    post: () => Promise.reject(new Error('the feed never posts')),
  };
  return { fake, api };
}

const nodeEvent = (name: string): StreamEvent => ({
  id: '1',
  kind: 'node',
  subject: name,
  data: { node: name },
});
const alertEvent = (kind: 'alertOpened' | 'alertClosed', a: Partial<ApiAlert>): StreamEvent => ({
  id: '2',
  kind,
  subject: a.key,
  data: { ...a, since: 1_735_689_600_000 },
});

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

async function loaded() {
  const { fake, api } = fakeApi();
  const seen: FleetSnapshot[] = [];
  const feed = new FleetFeed(api, (s) => seen.push(s));
  await feed.reloadAll();
  fake.calls.length = 0;
  seen.length = 0;
  return { fake, feed, seen };
}

describe('FleetFeed.reloadAll', () => {
  it('reads the whole matrix and the alerts, and says so', async () => {
    const { fake, api } = fakeApi();
    fake.alerts = [ALERT];
    const seen: FleetSnapshot[] = [];
    const feed = new FleetFeed(api, (s) => seen.push(s));
    expect(feed.current).toEqual({ matrix: null, alerts: [], error: null });
    await feed.reloadAll();
    expect(fake.calls.sort()).toEqual(['/api/v1/alerts', '/api/v1/matrix']);
    expect(seen).toHaveLength(1);
    expect(feed.current).toBe(seen[0]);
    expect(feed.current.alerts).toEqual([ALERT]);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'AAW'],
      [V2, 'A..'],
    ]);
    expect(feed.current.error).toBeNull();
  });
});

describe('FleetFeed node events', () => {
  it('reads the columns of the nodes changed within 50 ms in one read, and merges them', async () => {
    const { fake, feed, seen } = await loaded();
    fake.fleet = matrix(
      [node('a'), node('b', {}, { drained: true }), node('c')],
      [vip(V1, 'ANX'), vip(V2, 'AN.')],
    );
    feed.event(nodeEvent('b'));
    await vi.advanceTimersByTimeAsync(30);
    feed.event(nodeEvent('c'));
    feed.event(nodeEvent('b'));
    await vi.advanceTimersByTimeAsync(19);
    expect(fake.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=b,c']);
    expect(seen).toHaveLength(1);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'ANX'],
      [V2, 'AN.'],
    ]);
    expect(feed.current.matrix!.nodes[1]!.drained).toBe(true);
  });

  it('keeps the columns it did not read as it had them', async () => {
    const { fake, feed } = await loaded();
    // The controller's a changed too, but only b was said to change.
    fake.fleet = matrix([node('a'), node('b'), node('c')], [vip(V1, 'XWW'), vip(V2, 'X..')]);
    feed.event(nodeEvent('b'));
    await vi.advanceTimersByTimeAsync(50);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'AWW'],
      [V2, 'A..'],
    ]);
  });

  it('starts a new batch for a change after the read', async () => {
    const { fake, feed } = await loaded();
    feed.event(nodeEvent('a'));
    await vi.advanceTimersByTimeAsync(50);
    feed.event(nodeEvent('c'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=a', '/api/v1/matrix?nodes=c']);
  });

  it('drops a node the controller no longer has, and adds one new to it', async () => {
    const { fake, feed } = await loaded();
    fake.fleet = matrix([node('a'), node('c'), node('d')], [vip(V1, 'AWA'), vip(V2, 'A..')]);
    feed.event(nodeEvent('b'));
    feed.event(nodeEvent('d'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=b,d']);
    expect(names(feed.current.matrix!.nodes)).toEqual(['a', 'c', 'd']);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'AWA'],
      [V2, 'A..'],
    ]);
  });

  it('reads the whole matrix when a column brings a VIP it does not know', async () => {
    const { fake, feed } = await loaded();
    const V3 = 'vol1%198.18.200.3/32';
    fake.fleet = matrix(fake.fleet.nodes, [...fake.fleet.vips, vip(V3, '.A.')]);
    feed.event(nodeEvent('b'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=b', '/api/v1/matrix']);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'AAW'],
      [V2, 'A..'],
      [V3, '.A.'],
    ]);
  });

  it('reads the whole matrix for a change seen before any whole read', async () => {
    const { fake, api } = fakeApi();
    const feed = new FleetFeed(api, () => undefined);
    feed.event(nodeEvent('a'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=a', '/api/v1/matrix']);
    expect(names(feed.current.matrix!.nodes)).toEqual(['a', 'b', 'c']);
  });

  it('escapes the node names it asks for', async () => {
    const { fake, feed } = await loaded();
    feed.event(nodeEvent('a&b'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls[0]).toBe('/api/v1/matrix?nodes=a%26b');
  });

  it('reads nothing for a node event without a subject, or an event it does not follow', async () => {
    const { fake, feed, seen } = await loaded();
    feed.event({ id: '3', kind: 'node', subject: undefined, data: {} });
    feed.event({ id: '4', kind: 'rollout', subject: 'r1', data: {} });
    feed.event({ id: undefined, kind: 'message', subject: undefined, data: {} });
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.calls).toEqual([]);
    expect(seen).toEqual([]);
  });
});

describe('FleetFeed alert events', () => {
  it('reads the alerts, and not the matrix, for a VIP alert', async () => {
    const { fake, feed } = await loaded();
    const before = feed.current.matrix;
    fake.alerts = [ALERT];
    feed.event(alertEvent('alertOpened', ALERT));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/alerts']);
    expect(feed.current.alerts).toEqual([ALERT]);
    expect(feed.current.matrix).toBe(before);
  });

  it("reads the alerts and the node's column for a node alert (a lost node is lost on the controller's clock)", async () => {
    const { fake, feed } = await loaded();
    fake.fleet = matrix(
      [node('a'), node('b', {}, { state: 'lost' }), node('c')],
      [vip(V1, 'ALW'), vip(V2, 'A..')],
    );
    const lost = { key: 'nodeLost:b', kind: 'nodeLost', subject: 'b', message: 'b is lost' };
    fake.alerts = [{ ...lost, since: '2025-01-01T00:00:00.000Z' }];
    feed.event(alertEvent('alertOpened', lost));
    feed.event(nodeEvent('a'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=b,a', '/api/v1/alerts']);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'ALW'],
      [V2, 'A..'],
    ]);
    expect(feed.current.alerts).toEqual(fake.alerts);
  });

  it('reads the alerts once for alerts opened and closed together', async () => {
    const { fake, feed } = await loaded();
    feed.event(alertEvent('alertOpened', ALERT));
    feed.event(alertEvent('alertClosed', ALERT));
    feed.event(
      alertEvent('alertClosed', { key: `vipNoAdvertiser:${V1}`, kind: 'vipNoAdvertiser', subject: V1 }),
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/alerts']);
  });
});

describe('FleetFeed reset and failures', () => {
  it('reads everything again on a reset, at once', async () => {
    const { fake, feed } = await loaded();
    fake.alerts = [ALERT];
    feed.event({ id: undefined, kind: 'reset', subject: undefined, data: { reason: 'forgotten' } });
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls.sort()).toEqual(['/api/v1/alerts', '/api/v1/matrix']);
    expect(feed.current.alerts).toEqual([ALERT]);
  });

  it('keeps what it had and says why when a read fails, until a read succeeds', async () => {
    const { fake, feed, seen } = await loaded();
    const before = feed.current;
    fake.fail = new ApiFailure(0, 'UNREACHABLE', 'the controller did not answer: down');
    feed.event(nodeEvent('a'));
    await vi.advanceTimersByTimeAsync(50);
    expect(feed.current).toEqual({ ...before, error: 'the controller did not answer: down' });
    expect(seen).toHaveLength(1);
    fake.fail = null;
    await feed.reloadAll();
    expect(feed.current.error).toBeNull();
  });

  it('reads the columns whose read failed again after 5 s, and then says all is well', async () => {
    const { fake, feed, seen } = await loaded();
    const down = new ApiFailure(0, 'UNREACHABLE', 'the controller did not answer: down');
    fake.fail = down;
    fake.fleet = matrix([node('a'), node('b'), node('c')], [vip(V1, 'NAW'), vip(V2, 'N..')]);
    feed.event(nodeEvent('a'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=a']);
    expect(feed.current.error).toBe(down.message);
    // Still down at the first retry: it tries again 5 s later.
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=a', '/api/v1/matrix?nodes=a']);
    fake.fail = null;
    await vi.advanceTimersByTimeAsync(4999);
    expect(fake.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.calls).toEqual([
      '/api/v1/matrix?nodes=a',
      '/api/v1/matrix?nodes=a',
      '/api/v1/matrix?nodes=a',
    ]);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'NAW'],
      [V2, 'N..'],
    ]);
    expect(feed.current.error).toBeNull();
    expect(seen).toHaveLength(3);
    // Nothing is left to read.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.calls).toHaveLength(3);
  });

  it('reads the columns whose read failed with those of the next change, without waiting for the retry', async () => {
    const { fake, feed } = await loaded();
    fake.failing.set('/api/v1/matrix?nodes=a', new Error('HTTP 502'));
    feed.event(nodeEvent('a'));
    await vi.advanceTimersByTimeAsync(50);
    expect(feed.current.error).toBe('HTTP 502');
    fake.failing.clear();
    fake.fleet = matrix([node('a'), node('b'), node('c')], [vip(V1, 'NAN'), vip(V2, 'N..')]);
    feed.event(nodeEvent('c'));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=a', '/api/v1/matrix?nodes=a,c']);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'NAN'],
      [V2, 'N..'],
    ]);
    expect(feed.current.error).toBeNull();
    // The retry finds nothing left to read.
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.calls).toHaveLength(2);
  });

  it('keeps the columns it merged when the alerts read after them fails, says so, and reads the alerts again', async () => {
    const { fake, feed } = await loaded();
    const alertsBefore = feed.current.alerts;
    fake.fleet = matrix(
      [node('a'), node('b', {}, { state: 'lost' }), node('c')],
      [vip(V1, 'ALW'), vip(V2, 'A..')],
    );
    const lost = { key: 'nodeLost:b', kind: 'nodeLost', subject: 'b', message: 'b is lost' };
    fake.alerts = [{ ...lost, since: '2025-01-01T00:00:00.000Z' }];
    fake.failing.set('/api/v1/alerts', new Error('HTTP 503'));
    feed.event(alertEvent('alertOpened', lost));
    await vi.advanceTimersByTimeAsync(50);
    expect(fake.calls).toEqual(['/api/v1/matrix?nodes=b', '/api/v1/alerts']);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'ALW'],
      [V2, 'A..'],
    ]);
    expect(feed.current.alerts).toBe(alertsBefore);
    expect(feed.current.error).toBe('HTTP 503');
    fake.failing.clear();
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.calls.slice(2)).toEqual(['/api/v1/alerts']);
    expect(feed.current.alerts).toEqual(fake.alerts);
    expect(feed.current.error).toBeNull();
  });

  it('reads one after another: a column read waits for the whole read under way and merges into it', async () => {
    const { fake, feed } = await loaded();
    fake.hold();
    fake.fleet = matrix([node('a'), node('b'), node('c'), node('d')], [vip(V1, 'AAWA'), vip(V2, 'A...')]);
    const whole = feed.reloadAll();
    await vi.advanceTimersByTimeAsync(0);
    fake.fleet = matrix([node('a'), node('b'), node('c'), node('d')], [vip(V1, 'AAWX'), vip(V2, 'A...')]);
    feed.event(nodeEvent('d'));
    await vi.advanceTimersByTimeAsync(50);
    // The whole read (of a, b, c, d as they were: d advertising) is under way; the column read has not begun.
    expect(fake.calls.sort()).toEqual(['/api/v1/alerts', '/api/v1/matrix']);
    fake.held = null;
    fake.release();
    await whole;
    await vi.advanceTimersByTimeAsync(0);
    expect(fake.calls).toContain('/api/v1/matrix?nodes=d');
    expect(names(feed.current.matrix!.nodes)).toEqual(['a', 'b', 'c', 'd']);
    expect(rows(feed.current.matrix!.vips)).toEqual([
      [V1, 'AAWX'],
      [V2, 'A...'],
    ]);
  });
});
