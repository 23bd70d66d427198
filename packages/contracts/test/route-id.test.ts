import { describe, expect, it } from 'vitest';
import { parseRouteId, routeId } from '../src/index.js';

describe('route ids', () => {
  it('round-trips table%prefix, IPv6 prefixes included', () => {
    for (const route of [
      { table: 'vol1', prefix: '198.18.200.1/32' },
      { table: 'vol2', prefix: '2001:db8:200::1/128' },
    ])
      expect(parseRouteId(routeId(route))).toEqual(route);
    expect(routeId({ table: 'vol1', prefix: '198.18.200.1/32' })).toBe('vol1%198.18.200.1/32');
  });

  it('refuses what is not an id', () => {
    for (const bad of ['198.18.200.1/32', '%198.18.200.1/32', 'vol1%', ''])
      expect(parseRouteId(bad)).toBeNull();
  });
});
