import { describe, expect, it } from 'vitest';
import { fixture } from '../test/support/fixtures.js';
import { buildHealthSnapshot } from './health.js';
import { parseInfo } from './info.js';
import { selectionIds, selectionQueries, selectionTable } from './proxy-selection.js';
import { ReplyReader } from './reply-reader.js';
import { parseStat } from './stat-csv.js';
import { fixtureReply } from '../test/support/fixtures.js';

const replies = (name: string): string[] => new ReplyReader().push(new TextEncoder().encode(fixture(name)));
const info = parseInfo(fixtureReply('show-info.txt'));
const full = parseStat(fixtureReply('show-stat.txt'));

describe('selectionQueries', () => {
  it('reads each name once, with the row types it is wanted for', () => {
    const proxies = { frontends: ['fe_open', 'li_sockets'], backends: ['li_sockets', 'nosuch', 'be_mixed'] };
    expect(selectionQueries(proxies, true).map((q) => q.command)).toEqual([
      'show stat fe_open 1 -1',
      'show stat li_sockets 7 -1',
      'show stat nosuch 6 -1',
      'show stat be_mixed 6 -1',
    ]);
    expect(selectionQueries(proxies, false).map((q) => q.command)[1]).toBe('show stat li_sockets 3 -1');
  });

  it('sends no query for names HAProxy could not have (they end up missing)', () => {
    const odd = { frontends: ['a b', 'a;b', 'fe:1.x-y_z'], backends: ['', 'be\\1'] };
    expect(selectionQueries(odd, false).map((q) => q.command)).toEqual(['show stat fe:1.x-y_z 1 -1']);
    const table = selectionTable(selectionQueries(odd, false), [fixtureReply('errors/no-such-proxy.txt')]);
    const snapshot = buildHealthSnapshot(info, table!, { readAt: 0, withServers: false, proxies: odd });
    expect(snapshot.missing).toEqual({ frontends: ['a b', 'a;b', 'fe:1.x-y_z'], backends: ['', 'be\\1'] });
  });
});

describe('selectionTable over replies captured from HAProxy 2.6', () => {
  const proxies = { frontends: ['fe_open', 'li_sockets'], backends: ['li_sockets', 'nosuch', 'be_mixed'] };
  const queries = selectionQueries(proxies, true);

  it('gives the same snapshot as a full read filtered, and lists unknown names as missing', () => {
    const table = selectionTable(queries, replies('stat-selection.txt'));
    expect(table).not.toBeNull();
    const selected = buildHealthSnapshot(info, table!, { readAt: 0, withServers: true, proxies });
    const filtered = buildHealthSnapshot(info, full, { readAt: 0, withServers: true, proxies });
    expect(selected).toEqual(filtered);
    expect(selected.missing).toEqual({ frontends: [], backends: ['nosuch'] });
    expect(Object.keys(selected.backends)).toEqual(['li_sockets', 'be_mixed']);
  });

  it('distrusts a reply without a wanted row type (a frontend and a backend may share the name)', () => {
    const wrongType = selectionQueries({ frontends: [], backends: ['fe_open'] }, false);
    expect(selectionTable(wrongType, replies('stat-selection-wrong-type.txt'))).toBeNull();
  });

  it('distrusts rows of another proxy (HAProxy takes a numeric name as a proxy id)', () => {
    const numeric = selectionQueries({ frontends: [], backends: ['5'] }, false);
    expect(selectionTable(numeric, replies('stat-selection-by-id.txt'))).toBeNull();
  });

  it('throws other error replies', () => {
    const denied = selectionQueries({ frontends: ['fe_open'], backends: [] }, false);
    expect(() => selectionTable(denied, [fixtureReply('errors/permission-denied.txt')])).toThrow(
      expect.objectContaining({ code: 'HAPROXY_PERMISSION_DENIED' }),
    );
  });
});

describe('selecting by id', () => {
  const proxies = { frontends: ['fe_open', 'li_sockets'], backends: ['li_sockets', 'be_mixed', 'nosuch'] };

  it('learns the ids of the requested proxies from a full read', () => {
    expect(selectionIds(full, proxies)).toEqual(
      new Map([
        ['fe_open', { frontend: 2 }],
        ['li_sockets', { frontend: 4, backend: 4 }],
        ['be_mixed', { backend: 5 }],
      ]),
    );
  });

  it('queries known proxies by id, a frontend and a backend sharing a name by one id each', () => {
    const ids = new Map([
      ...selectionIds(full, proxies),
      ['app', { frontend: 20, backend: 21 }],
      ['half', { frontend: 30 }],
    ]);
    const named = {
      frontends: [...proxies.frontends, 'app', 'half'],
      backends: [...proxies.backends, 'app', 'half'],
    };
    expect(selectionQueries(named, false, ids).map((q) => q.command)).toEqual([
      'show stat 2 1 -1',
      'show stat 4 3 -1',
      'show stat 20 1 -1',
      'show stat 21 2 -1',
      // Only the frontend's id is known: by name, checked as usual.
      'show stat half 3 -1',
      'show stat 5 2 -1',
      'show stat nosuch 2 -1',
    ]);
  });

  it('accepts a reply by id of the right proxy, and distrusts one of another proxy', () => {
    const ids = new Map([['be_mixed', { backend: 5 }]]);
    const byId = selectionQueries({ frontends: [], backends: ['be_mixed'] }, false, ids);
    expect(selectionTable(byId, replies('stat-selection-by-id.txt'))?.rows.map((r) => r.proxy)).toEqual([
      'be_mixed',
    ]);
    // The same id learned for another name (a reload renumbered the proxies): read everything again.
    const stale = selectionQueries(
      { frontends: [], backends: ['be_down'] },
      false,
      new Map([['be_down', { backend: 5 }]]),
    );
    expect(selectionTable(stale, replies('stat-selection-by-id.txt'))).toBeNull();
  });
});
