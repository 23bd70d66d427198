import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { exportQueries, judgeExports, nextHopProblem, routers } from './export-check.js';
import type { ExportAnswer } from './export-check.js';
import { parseShowProtocols } from './parse-protocols.js';
import { renderInclude, type DesiredRoute, type IncludeLayout } from './render-include.js';

// An eBGP session (examples/bird.conf) to 198.18.0.1, established: its ipv4 channel sends 198.18.0.11 as
// next hop, its ipv6 channel has none (`BGP Next hop: ::`, an IPv6 channel over an IPv4 session).
const established = parseShowProtocols(fixtureReply('show-protocols-all-upstream-ebgp'));
const upstream = established[0]!;

const layout: IncludeLayout = {
  tables: { vol1: { ipv4: { via: '198.18.0.1' } }, vol2: {}, vol3: { ipv4: { via: '198.18.0.7' } } },
};
const route = (table: string, prefix: string): DesiredRoute => ({
  table,
  prefix,
  family: prefix.includes(':') ? 'ipv6' : 'ipv4',
});
const rendered = renderInclude(
  [
    route('vol1', '198.18.200.1/32'),
    route('vol2', '198.18.200.10/32'),
    route('vol2', '198.18.200.11/32'),
    route('vol2', '2001:db8:200::1/128'),
    route('vol3', '198.18.200.20/32'),
  ],
  layout,
).protocols;

const allExported = (keys: readonly string[]) =>
  new Map<string, ExportAnswer>(keys.map((k) => [k, { exported: 'all' }]));

describe('export checks', () => {
  it('reads the session, its neighbour and each channel next hop from show protocols all', () => {
    expect(upstream).toMatchObject({ name: 'upstream1', proto: 'BGP', state: 'up' });
    expect(upstream.neighborAddress).toBe('198.18.0.1');
    expect(upstream.channels.map((c) => [c.name, c.bgpNextHop])).toEqual([
      ['ipv4', ['198.18.0.11']],
      ['ipv6', ['::']],
    ]);
  });

  it('asks about every protocol with routes, once per routing protocol that is up and carries its family', () => {
    const queries = exportQueries(established, rendered);
    expect(queries.map((q) => [q.router, q.protocol, q.routes])).toEqual([
      ['upstream1', 'vol1', 1],
      ['upstream1', 'vol2', 2],
      ['upstream1', 'vol2_v6', 1],
      ['upstream1', 'vol3', 1],
    ]);
  });

  it('counts a route exported only where BIRD would really send it', () => {
    const queries = exportQueries(established, rendered);
    const result = judgeExports(established, rendered, allExported(queries.map((q) => q.key)));
    const byPrefix = new Map(result.map((r) => [r.prefix, r]));
    expect(byPrefix.get('198.18.200.10/32')).toMatchObject({ to: ['upstream1'], problems: [] });
    expect(byPrefix.get('198.18.200.20/32')).toMatchObject({ to: ['upstream1'], problems: [] });
    // The gateway is the neighbour: BIRD withdraws it with "Invalid NEXT_HOP attribute".
    expect(byPrefix.get('198.18.200.1/32')?.to).toEqual([]);
    expect(byPrefix.get('198.18.200.1/32')?.problems).toEqual([
      expect.stringMatching(/next hop 198\.18\.0\.1, the neighbour's own address.*Invalid NEXT_HOP/),
    ]);
    // No IPv6 next hop on the session: BIRD sends nothing ("Missing next hop address").
    expect(byPrefix.get('2001:db8:200::1/128')?.to).toEqual([]);
    expect(byPrefix.get('2001:db8:200::1/128')?.problems).toEqual([
      expect.stringMatching(/no ipv6 next hop address.*"next hop address" in its ipv6 channel.*gateway6/),
    ]);
  });

  it("names each route a router's export filter leaves out, and a router that is down", () => {
    const answers = new Map<string, ExportAnswer>([
      ['upstream1 vol2', { exported: new Set(['198.18.200.11/32']) }],
      ['upstream1 vol3', { down: 'upstream1 could not be asked: No valid tables' }],
    ]);
    const result = judgeExports(established, rendered, answers);
    const byPrefix = new Map(result.map((r) => [r.prefix, r]));
    expect(byPrefix.get('198.18.200.11/32')).toMatchObject({ to: ['upstream1'], problems: [] });
    expect(byPrefix.get('198.18.200.10/32')?.problems).toEqual([
      expect.stringMatching(/upstream1 does not export it \(its export filter rejects it/),
    ]);
    expect(byPrefix.get('198.18.200.20/32')?.problems).toEqual([
      'upstream1 could not be asked: No valid tables',
    ]);
  });

  it('says so when the session is down, and when no routing protocol carries a family', () => {
    const down = established.map((p) => ({ ...p, state: 'start', info: 'Active' }));
    expect(exportQueries(down, rendered)).toEqual([]);
    const result = judgeExports(down, rendered, new Map());
    expect(result.every((r) => r.to.length === 0)).toBe(true);
    expect(result[0]?.problems).toEqual(['BGP upstream1 is not up (start, Active): it sends nothing']);
    const device = parseShowProtocols(fixtureReply('show-protocols')).filter((p) => p.proto !== 'BGP');
    expect(routers(device)).toEqual([]);
    const none = judgeExports(device, rendered.slice(0, 1), new Map());
    expect(none[0]?.problems).toEqual(['no routing protocol (BGP, OSPF, RIP, Babel) carries ipv4 routes']);
  });

  it('cannot judge a channel next hop before the session is established', () => {
    const notYet = {
      ...upstream,
      state: 'start',
      channels: upstream.channels.map((c) => ({ ...c, bgpNextHop: undefined })),
    };
    expect(nextHopProblem(notYet, { table: 'vol1', family: 'ipv6', nextHop: { device: 'lo' } })).toBe(
      'unknown',
    );
    // The neighbour's address is known before: that mistake is caught either way.
    expect(
      nextHopProblem(notYet, { table: 'vol1', family: 'ipv4', nextHop: { via: '198.18.0.1' } }),
    ).toMatchObject({ problem: expect.stringContaining('neighbour') });
  });
});
