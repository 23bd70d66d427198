import { describe, expect, it } from 'vitest';
import { fromBirdRoute, toBirdRoute } from '../src/adapters/bird-injector.js';

describe('bird-client route mapping', () => {
  it('carries BGP attributes both ways', () => {
    const route = {
      table: 'vol2',
      prefix: '2001:db8::1/128',
      family: 'ipv6' as const,
      attributes: {
        med: 10,
        localPref: 200,
        communities: [[65000, 1] as const],
        largeCommunities: [[65000, 1, 2] as const],
      },
    };
    const bird = toBirdRoute(route);
    expect(bird).toEqual({
      table: 'vol2',
      prefix: '2001:db8::1/128',
      family: 'ipv6',
      bgp: { med: 10, localPref: 200, communities: ['65000:1'], largeCommunities: ['65000:1:2'] },
    });
    expect(fromBirdRoute(bird)).toEqual(route);
  });

  it('leaves routes without attributes bare', () => {
    const route = { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' as const };
    expect(toBirdRoute(route)).toEqual(route);
    expect(fromBirdRoute({ ...route, bgp: {} })).toEqual(route);
  });
});
