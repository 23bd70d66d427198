import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenCases } from '../test/support/golden-cases.js';
import { BirdInvalidInputError } from './errors.js';
import {
  ownedProtocols,
  planProtocols,
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
