import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureReply, readAll } from '../test/support/fixtures.js';
import { bgpAttributesOf, parseShowRoute, parseShowRouteCount } from './parse-routes.js';
import { BirdReplyReader } from './reply-reader.js';

const summary = (name: string) =>
  parseShowRoute(fixtureReply(name)).map((r) => ({
    table: r.table,
    prefix: r.prefix,
    type: r.type,
    protocol: r.protocol,
    nextHops: r.nextHops.map((h) => h.iface ?? h.gateway),
  }));

describe('parseShowRoute (BIRD 2.0.12)', () => {
  it('reads tables, prefixes, types and next hop lines of show route', () => {
    const expected = [
      { table: 'master4', prefix: '198.18.10.1/32', type: 'unicast', protocol: 'vol1', nextHops: ['lo'] },
      { table: 'master4', prefix: '198.18.10.3/32', type: 'blackhole', protocol: 'vol1', nextHops: [] },
      { table: 'master4', prefix: '198.18.10.2/32', type: 'unicast', protocol: 'vol1', nextHops: ['lo'] },
      { table: 'master6', prefix: '2001:2::1/128', type: 'unicast', protocol: 'vol1_v6', nextHops: ['lo'] },
    ];
    expect(summary('show-route')).toEqual(expected);
    expect(summary('show-route-all')).toEqual(expected);
  });

  it('reads since, preference, primary mark and attributes with all', () => {
    const route = parseShowRoute(fixtureReply('show-route-all')).find((r) => r.prefix === '198.18.10.2/32');
    expect(route).toMatchObject({
      since: expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}$/),
      preference: 200,
      primary: true,
      from: undefined,
      info: undefined,
    });
    expect(route?.attributes).toEqual({
      Type: 'static univ',
      'BGP.med': '10',
      'BGP.local_pref': '200',
      'BGP.community': '(65000,1)',
      'BGP.large_community': '(65000, 1, 2)',
    });
    expect(route && bgpAttributesOf(route)).toEqual({
      med: 10,
      localPref: 200,
      communities: ['65000:1'],
      largeCommunities: ['65000:1:2'],
    });
  });

  it('reads BGP routes on the peer: from, AS path info, empty attribute values', () => {
    const routes = parseShowRoute(fixtureReply('peer-show-route-all'));
    expect(routes.map((r) => [r.table, r.prefix, r.type, r.protocol, r.info])).toEqual([
      ['master4', '198.18.10.1/32', 'unreachable', 'injector', 'i'],
      ['master4', '198.18.10.3/32', 'unreachable', 'injector', 'i'],
      ['master4', '198.18.10.2/32', 'unreachable', 'injector', 'i'],
      ['master6', '2001:2::1/128', 'unreachable', 'injector', 'i'],
    ]);
    expect(routes[0]?.from).toMatch(/^127\.18\.\d+\.1$/);
    expect(routes[0]?.attributes['BGP.as_path']).toBe('');
    expect(routes[3]?.attributes['BGP.next_hop']).toBe('2001:2:ffff::1');
    expect(bgpAttributesOf(routes[1]!)).toEqual({
      med: undefined,
      localPref: 100,
      communities: [],
      largeCommunities: [],
    });
  });

  it('reads a table query, a protocol query and a for query', () => {
    expect(summary('show-route-table-master6').map((r) => r.prefix)).toEqual(['2001:2::1/128']);
    expect(summary('show-route-protocol-vol1-all').map((r) => r.prefix)).toEqual([
      '198.18.10.1/32',
      '198.18.10.3/32',
      '198.18.10.2/32',
    ]);
    expect(summary('show-route-for').map((r) => r.prefix)).toEqual(['198.18.10.2/32']);
  });

  it('gives a second route of the same network the prefix of the first', () => {
    const [event] = new BirdReplyReader().push(
      '1007-Table master4:\n 198.18.10.1/32       unicast [vol1 05:03:56.949] * (200)\n \tdev lo\n                      unicast [vol2 05:03:57.000] (100)\n \tdev lo\n0000 \n',
    );
    const routes = event?.kind === 'reply' ? parseShowRoute(event.reply) : [];
    expect(routes.map((r) => [r.prefix, r.protocol, r.primary])).toEqual([
      ['198.18.10.1/32', 'vol1', true],
      ['198.18.10.1/32', 'vol2', false],
    ]);
  });
});

describe('parseShowRoute (BIRD 1.6 route lines)', () => {
  const text = readFileSync(
    join(import.meta.dirname, '..', 'test', 'fixtures', 'bird16', 'show-route-all.txt'),
  );
  const [event] = readAll(text);
  const routes = event?.kind === 'reply' ? parseShowRoute(event.reply) : [];

  it('reads inline next hops, reject types and multipath', () => {
    expect(routes.map((r) => [r.table, r.prefix, r.type, r.protocol, r.primary, r.nextHops])).toEqual([
      [
        'master',
        '198.18.20.0/24',
        'unicast',
        'bgp1',
        true,
        [{ gateway: '198.18.0.9', iface: 'eth0', weight: undefined }],
      ],
      [
        'master',
        '198.18.10.1/32',
        'unicast',
        'vol1',
        true,
        [{ gateway: undefined, iface: 'lo', weight: undefined }],
      ],
      ['master', '198.18.10.3/32', 'blackhole', 'vol1', true, []],
      [
        'master',
        '198.18.30.0/24',
        'multipath',
        'static2',
        true,
        [
          { gateway: '198.18.0.9', iface: 'eth0', weight: 1 },
          { gateway: '198.18.0.10', iface: 'eth1', weight: 2 },
        ],
      ],
      [
        'master',
        '198.18.20.0/24',
        'unicast',
        'bgp2',
        false,
        [{ gateway: '198.18.0.11', iface: 'eth1', weight: undefined }],
      ],
    ]);
  });

  it('reads BGP attributes and the from address', () => {
    expect(routes[0]?.from).toBe('198.18.0.9');
    expect(routes[0]?.info).toBe('AS65002i');
    expect(routes[0] && bgpAttributesOf(routes[0])).toEqual({
      med: 5,
      localPref: 100,
      communities: ['65000:1', '65000:2'],
      largeCommunities: [],
    });
  });
});

describe('parseShowRouteCount', () => {
  it('reads one entry per table and leaves out the total', () => {
    expect(parseShowRouteCount(fixtureReply('show-route-count'))).toEqual([
      { table: 'master4', routes: 3, totalRoutes: 3, networks: 3 },
      { table: 'master6', routes: 1, totalRoutes: 1, networks: 1 },
    ]);
    expect(parseShowRouteCount(fixtureReply('show-route-protocol-vol1-count'))).toEqual([
      { table: 'master4', routes: 3, totalRoutes: 3, networks: 3 },
    ]);
  });
});
