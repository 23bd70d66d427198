import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenCases } from '../test/support/golden-cases.js';
import { BirdInvalidInputError } from './errors.js';
import {
  includeProtocols,
  ownedProtocols,
  partitionRoutes,
  planProtocols,
  renderableLayout,
  renderInclude,
  type DesiredRoute,
  type IncludeLayout,
} from './render-include.js';

const goldenDir = join(import.meta.dirname, '..', 'test', 'fixtures', 'golden');
const layout: IncludeLayout = { tables: { vol1: {} } };

describe('renderInclude golden files', () => {
  it.each(goldenCases.map((c) => [c.name, c] as const))('%s', (name, golden) => {
    expect(renderInclude(golden.routes, golden.layout).text).toBe(
      readFileSync(join(goldenDir, `${name}.conf`), 'utf8'),
    );
  });
});

describe('renderInclude', () => {
  it('does not depend on the order of the desired routes', () => {
    const routes: DesiredRoute[] = goldenCases.find((c) => c.name === 'bgp-attributes')?.routes.slice() ?? [];
    expect(renderInclude([...routes].reverse(), layout).text).toBe(renderInclude(routes, layout).text);
  });

  it('merges exact duplicates and rejects a prefix listed twice with different attributes', () => {
    const route: DesiredRoute = { table: 'vol1', prefix: '198.18.10.1/32', family: 'ipv4' };
    expect(planProtocols([route, route], layout)[0]?.routes).toHaveLength(1);
    expect(() => renderInclude([route, { ...route, bgp: { med: 1 } }], layout)).toThrow(
      BirdInvalidInputError,
    );
  });

  it('names protocols {table} and {table}_v6 by default', () => {
    expect(ownedProtocols({ tables: { vol2: {}, vol1: {} } }).map((p) => p.name)).toEqual([
      'vol1',
      'vol1_v6',
      'vol2',
      'vol2_v6',
    ]);
  });

  it.each<[string, DesiredRoute, IncludeLayout?]>([
    ['an unknown table', { table: 'vol9', prefix: '198.18.0.1/32', family: 'ipv4' }],
    ['a table name that is not a BIRD symbol', { table: 'vol-1"', prefix: '198.18.0.1/32', family: 'ipv4' }],
    ['a family that does not match the prefix', { table: 'vol1', prefix: '2001:2::1/128', family: 'ipv4' }],
    ['host bits', { table: 'vol1', prefix: '198.18.0.1/24', family: 'ipv4' }],
    ['config syntax in the prefix', { table: 'vol1', prefix: '198.18.0.1/32; }', family: 'ipv4' }],
    ['a MED above 2^32-1', { table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4', bgp: { med: 2 ** 32 } }],
    [
      'a fractional local pref',
      { table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4', bgp: { localPref: 1.5 } },
    ],
    [
      'a community part above 65535',
      { table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4', bgp: { communities: ['65536:1'] } },
    ],
    [
      'a large community with two parts',
      { table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4', bgp: { largeCommunities: ['1:2'] } },
    ],
    [
      'a gateway of the other family',
      { table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4' },
      { tables: { vol1: { ipv4: { via: '2001:2::1' } } } },
    ],
    [
      'an interface name with a quote',
      { table: 'vol1', prefix: '198.18.0.1/32', family: 'ipv4' },
      { tables: { vol1: { ipv4: { device: 'lo"' } } } },
    ],
    [
      'an IPv6 route in an IPv4-only include',
      { table: 'vol1', prefix: '2001:2::1/128', family: 'ipv6' },
      { tables: { vol1: {} }, families: ['ipv4'] },
    ],
  ])('rejects %s', (_label, route, custom) => {
    expect(() => renderInclude([route], custom ?? layout)).toThrow(BirdInvalidInputError);
  });
});

describe('renderableLayout', () => {
  it("adds the tables given with the default next hop, after the layout's own", () => {
    const { layout: wide, refused } = renderableLayout(
      { tables: { vol2: { ipv4: { via: '198.18.0.254' } } } },
      ['vol1', 'vol2', 'eth0'],
    );
    expect(refused).toEqual([]);
    expect(wide.tables).toEqual({ vol2: { ipv4: { via: '198.18.0.254' } }, vol1: {}, eth0: {} });
    expect(renderInclude([{ table: 'vol1', prefix: '198.18.10.1/32', family: 'ipv4' }], wide).text).toContain(
      'protocol static vol1 {\n  ipv4;\n  route 198.18.10.1/32 via "lo";\n}',
    );
  });

  it.each<[string, IncludeLayout, string[], Map<string, string> | undefined, string, RegExp]>([
    [
      'a protocol name of another table',
      { tables: { vol1: {} } },
      ['vol1_v6'],
      undefined,
      'vol1_v6',
      /ipv4 protocol vol1_v6 is also a protocol of table vol1/,
    ],
    [
      'a protocol name above 64 characters',
      { tables: {} },
      ['t'.repeat(62)],
      undefined,
      't'.repeat(62),
      /ipv6 protocol name 't{62}_v6' is 65 characters long/,
    ],
    ['a name that is no BIRD symbol', { tables: {} }, ['vol-1'], undefined, 'vol-1', /must be a BIRD symbol/],
    [
      "a symbol of BIRD's own config",
      { tables: {} },
      ['peer1'],
      new Map([['peer1', 'protocol']]),
      'peer1',
      /peer1 is already defined in BIRD's config \(protocol\)/,
    ],
    [
      'a next hop of the other family',
      { tables: { vol1: { ipv4: { via: '2001:2::1' } } } },
      [],
      undefined,
      'vol1',
      /is not ipv4/,
    ],
  ])('refuses a table with %s, keeping the others', (_label, layout, extra, foreign, table, why) => {
    const result = renderableLayout({ ...layout, tables: { ...layout.tables, vol9: {} } }, extra, foreign);
    expect(result.refused).toEqual([{ table, reason: expect.stringMatching(why) }]);
    expect(Object.keys(result.layout.tables)).not.toContain(table);
    expect(Object.keys(result.layout.tables)).toContain('vol9');
    expect(() => renderInclude([], result.layout)).not.toThrow();
  });
});

describe('partitionRoutes', () => {
  it('keeps every route renderInclude takes and gives each other one its reason', () => {
    const good: DesiredRoute = { table: 'vol1', prefix: '198.18.10.1/32', family: 'ipv4' };
    const routes: DesiredRoute[] = [
      good,
      { table: 'vol1', prefix: '198.18.10.2/24', family: 'ipv4' },
      { table: 'vol9', prefix: '198.18.10.3/32', family: 'ipv4' },
      { table: 'vol1_v6', prefix: '198.18.10.4/32', family: 'ipv4' },
      { table: 'vol1', prefix: '2001:2::1/128', family: 'ipv6' },
      { ...good, bgp: { med: 1 } },
      { table: 'vol1', prefix: '198.18.10.5/32', family: 'ipv4', bgp: { med: 2 ** 32 } },
    ];
    const v4only: IncludeLayout = { tables: { vol1: {} }, families: ['ipv4'] };
    const { routes: kept, refused } = partitionRoutes(routes, v4only, [
      { table: 'vol1_v6', reason: "table 'vol1_v6' cannot be rendered: ..." },
    ]);
    expect(kept).toEqual([good]);
    expect(refused.map((r) => [r.route.prefix, r.reason])).toEqual([
      ['198.18.10.2/24', expect.stringContaining('host bits')],
      ['198.18.10.3/32', 'Invalid table "vol9": is not one of the injector\'s tables'],
      ['198.18.10.4/32', "table 'vol1_v6' cannot be rendered: ..."],
      ['2001:2::1/128', 'Invalid family "ipv6": is not carried by this include (2001:2::1/128)'],
      [
        '198.18.10.1/32',
        'Invalid prefix "198.18.10.1/32": appears twice in table vol1 with different attributes',
      ],
      ['198.18.10.5/32', expect.stringContaining('bgp.med')],
    ]);
    expect(() => renderInclude(kept, v4only)).not.toThrow();
  });
});

describe('includeProtocols', () => {
  it('reads the tables and families back from a rendered include', () => {
    const wide = renderableLayout({ tables: { vol1: {} } }, ['eth0']).layout;
    expect(includeProtocols(renderInclude([], wide).text, { tables: {} })).toEqual([
      { name: 'eth0', table: 'eth0', family: 'ipv4' },
      { name: 'eth0_v6', table: 'eth0', family: 'ipv6' },
      { name: 'vol1', table: 'vol1', family: 'ipv4' },
      { name: 'vol1_v6', table: 'vol1', family: 'ipv6' },
    ]);
  });

  it('takes the family of a BIRD 1.6 include from the layout', () => {
    const v6: IncludeLayout = { tables: { vol1: {} }, dialect: 'bird1', families: ['ipv6'] };
    expect(includeProtocols(renderInclude([], v6).text, v6)).toEqual([
      { name: 'vol1_v6', table: 'vol1', family: 'ipv6' },
    ]);
  });
});
