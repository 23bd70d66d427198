import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE } from '../src/model/matrix-view.js';
import { optionsFromQuery, queryFromOptions, withFleetQuery } from '../src/model/url-options.js';
import { options } from './fixtures.js';

describe('optionsFromQuery', () => {
  it('reads every option of the address', () => {
    const o = optionsFromQuery(
      '?group=site&open=par1,ams1&vip=200.1&nodes=role%3Dedge&state=problems',
      'rack',
    );
    expect(o).toEqual({
      groupBy: 'site',
      expanded: new Set(['par1', 'ams1']),
      vipText: '200.1',
      nodeSelector: [['role', 'edge']],
      state: 'problems',
      pageSize: DEFAULT_PAGE_SIZE,
      pages: new Map(),
    });
  });

  it('gives the defaults for an empty address, grouping by the fallback', () => {
    expect(optionsFromQuery('', 'site')).toEqual(options({ groupBy: 'site' }));
    expect(optionsFromQuery('', null).groupBy).toBeNull();
  });

  it('reads an empty group as no grouping, not as the fallback', () => {
    expect(optionsFromQuery('group=', 'site').groupBy).toBeNull();
  });

  it('skips empty names in the open groups', () => {
    expect(optionsFromQuery('open=,par1,,', null).expanded).toEqual(new Set(['par1']));
  });

  it('takes one letter as a state, and anything else it does not know as all', () => {
    expect(optionsFromQuery('state=X', null).state).toBe('X');
    expect(optionsFromQuery('state=h', null).state).toBe('h');
    for (const bad of ['x', 'problem', 'Z', ''])
      expect(optionsFromQuery(`state=${bad}`, null).state, bad).toBe('all');
  });

  it('reads a selector it cannot parse as no selector', () => {
    expect(optionsFromQuery('nodes=site', null).nodeSelector).toEqual([]);
  });
});

describe('queryFromOptions', () => {
  it('writes only what differs from the defaults, the group always', () => {
    expect(queryFromOptions(options({ groupBy: 'site' }), '')).toBe('group=site');
    expect(queryFromOptions(options(), '  ')).toBe('group=');
  });

  it('writes the open groups sorted, the node text as typed (trimmed) and the state', () => {
    const q = queryFromOptions(
      options({ groupBy: 'site', expanded: new Set(['par1', 'ams1']), vipText: '200.1', state: 'S' }),
      ' role=edge ',
    );
    expect(q).toBe('group=site&open=ams1%2Cpar1&vip=200.1&nodes=role%3Dedge&state=S');
  });

  it('gives back the options it was read from', () => {
    const o = options({
      groupBy: 'rack',
      expanded: new Set(['r2', 'r1']),
      vipText: 'vol1%198',
      nodeSelector: [
        ['role', 'edge'],
        ['site', 'par1'],
      ],
      state: 'd',
    });
    expect(optionsFromQuery(queryFromOptions(o, 'site=par1,role=edge'), 'site')).toEqual(o);
    const none = options({ groupBy: null });
    expect(optionsFromQuery(queryFromOptions(none, ''), 'site')).toEqual(none);
  });
});

describe('withFleetQuery', () => {
  it("sets the fleet view's keys and keeps the other views' ones", () => {
    expect(withFleetQuery('?group=site&vip=200.1&tl-node=lb1&tl-range=1h', 'group=role&state=W')).toBe(
      'tl-node=lb1&tl-range=1h&group=role&state=W',
    );
  });

  it('drops a fleet key the new query no longer has', () => {
    expect(withFleetQuery('open=par1&nodes=role%3Dedge', 'group=')).toBe('group=');
  });
});
