import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FILTERS,
  eventsPath,
  filtersFromQuery,
  fromLocalInput,
  localInputValue,
  queryWithFilters,
  serverFilters,
  windowOf,
} from '../src/model/timeline-query.js';
import { MIN, T10, VIP1 } from './timeline-fixtures.js';

describe('filtersFromQuery and queryWithFilters', () => {
  it('reads every filter of the address', () => {
    expect(
      filtersFromQuery(
        `?group=site&vip=200&tl-node=lb1&tl-vip=${encodeURIComponent(VIP1)}&tl-kind=route&tl-range=custom&tl-from=2025-01-01T10:00:00.000Z&tl-to=${T10 + 15 * MIN}`,
      ),
    ).toEqual({ node: 'lb1', vip: VIP1, kind: 'route', range: 'custom', from: T10, to: T10 + 15 * MIN });
  });

  it('gives the defaults for an empty address or values it does not know', () => {
    expect(filtersFromQuery('')).toEqual(DEFAULT_FILTERS);
    expect(filtersFromQuery('tl-range=2d&tl-from=yesterday')).toEqual(DEFAULT_FILTERS);
  });

  it("keeps the page's other parameters, and writes only what differs from the defaults", () => {
    expect(queryWithFilters('group=site&vip=200&tl-node=old', DEFAULT_FILTERS)).toBe('group=site&vip=200');
    const q = queryWithFilters('group=site', {
      ...DEFAULT_FILTERS,
      node: ' lb1 ',
      kind: 'routeWithdrawn',
      range: '6h',
    });
    expect(q).toBe('group=site&tl-node=lb1&tl-kind=routeWithdrawn&tl-range=6h');
  });

  it('round-trips a from-to range through the address', () => {
    const f = { ...DEFAULT_FILTERS, vip: VIP1, range: 'custom' as const, from: T10, to: T10 + MIN };
    expect(filtersFromQuery(queryWithFilters('', f))).toEqual(f);
    // From and to are kept only with a from-to range.
    expect(queryWithFilters('', { ...f, range: '15m' })).not.toContain('tl-from');
  });
});

describe('windowOf', () => {
  const now = T10 + 60 * MIN;
  it('ends now for the last n minutes', () => {
    expect(windowOf({ ...DEFAULT_FILTERS, range: '15m' }, now)).toEqual({
      since: now - 15 * MIN,
      until: null,
    });
    expect(windowOf({ ...DEFAULT_FILTERS, range: '24h' }, now)).toEqual({
      since: now - 1440 * MIN,
      until: null,
    });
  });

  it('takes a from-to as given, a missing start as 24 h before the end, an end to come as now', () => {
    const custom = { ...DEFAULT_FILTERS, range: 'custom' as const };
    expect(windowOf({ ...custom, from: T10, to: T10 + MIN }, now)).toEqual({ since: T10, until: T10 + MIN });
    expect(windowOf({ ...custom, from: null, to: T10 }, now)).toEqual({
      since: T10 - 1440 * MIN,
      until: T10,
    });
    expect(windowOf({ ...custom, from: T10, to: now + MIN }, now)).toEqual({ since: T10, until: null });
    expect(windowOf({ ...custom, from: T10 + MIN, to: T10 }, now)).toEqual({ since: T10, until: T10 });
  });
});

describe('serverFilters and eventsPath', () => {
  const nodes = new Set(['lb1', 'lb2']);
  const vips = new Set([VIP1]);
  it('sends only exact names the API can take; partial text stays on the page', () => {
    expect(serverFilters({ node: 'lb1', vip: VIP1, kind: '' }, nodes, vips)).toEqual({
      node: 'lb1',
      vip: VIP1,
    });
    expect(serverFilters({ node: 'lb', vip: '200.1', kind: '' }, nodes, vips)).toEqual({});
    expect(serverFilters({ node: 'lb9', vip: 'vol1%', kind: '' }, nodes, vips)).toEqual({});
    // Knowing no name yet, a valid one is sent as it is.
    expect(serverFilters({ node: 'lb9', vip: 'v%p', kind: '' }, new Set(), new Set())).toEqual({
      node: 'lb9',
      vip: 'v%p',
    });
    expect(serverFilters({ node: 'lb 9', vip: '', kind: '' }, new Set(), new Set())).toEqual({});
  });

  it('writes the query the API reads: route id encoded, times in epoch ms', () => {
    expect(eventsPath({ node: 'lb1', vip: VIP1, since: T10 + 0.5, until: T10 + MIN, limit: 2000 })).toBe(
      `/api/v1/events?node=lb1&vip=vol1%25198.18.200.1%2F32&since=${T10}&until=${T10 + MIN}&limit=2000`,
    );
    expect(eventsPath({ since: T10, until: null, limit: 10 })).toBe(`/api/v1/events?since=${T10}&limit=10`);
  });
});

describe('datetime-local values', () => {
  it('round-trip in the local time zone, to the minute', () => {
    const t = T10 + 42 * MIN;
    expect(fromLocalInput(localInputValue(t))).toBe(t);
    expect(localInputValue(null)).toBe('');
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('10:42')).toBeNull();
    expect(fromLocalInput('2025-01-01T10:42:30')).toBe(new Date(2025, 0, 1, 10, 42, 30).getTime());
  });
});
