import {
  BirdConfigError,
  BirdConnectionError,
  BirdIncludeWriteError,
  BirdReplyError,
  BirdTimeoutError,
  BirdVerifyError,
} from '@rhi/bird-client';
import { describe, expect, it } from 'vitest';
import { driftRepaired, fromBirdRoute, injectorFailure, toBirdRoute } from '../src/adapters/bird-injector.js';

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

describe("bird-client's errors as the loop reports them", () => {
  it.each([
    [new BirdConnectionError('/run/bird/bird.ctl', 'connect ENOENT'), 'unreachable', 'BIRD_CONNECTION'],
    [new BirdTimeoutError('configure', 5000, '/run/bird/bird.ctl'), 'unreachable', 'BIRD_TIMEOUT'],
    [new BirdConfigError('bird.conf:3:1 syntax error', 'bird.conf', 3, 1), 'config', 'BIRD_CONFIG_INVALID'],
    [new BirdVerifyError('vol1', ['198.18.200.1/32'], []), 'config', 'BIRD_VERIFY_FAILED'],
    [new BirdIncludeWriteError('/run/rhi/rhi-routes.conf'), 'config', 'BIRD_INCLUDE_WRITE'],
    [new BirdReplyError('configure', 8007, 'Access denied'), 'config', 'BIRD_REPLY_ERROR'],
    [
      new BirdReplyError('show route', 8004, 'Stopped due to reconfiguration'),
      'unreachable',
      'BIRD_REPLY_ERROR',
    ],
    [new Error('something else'), 'unreachable', 'UNKNOWN'],
  ])('%s', (err, kind, code) => {
    expect(injectorFailure(err)).toMatchObject({ kind, code, message: err.message, cause: err });
  });
});

describe('drift repaired by a reconcile', () => {
  it('tells what differed, and nothing when BIRD and the include were as left', () => {
    expect(driftRepaired({ wrote: false, configured: false })).toBeUndefined();
    expect(driftRepaired({ wrote: true, configured: true })).toMatch(/^the include file differed/);
    expect(driftRepaired({ wrote: false, configured: true })).toMatch(
      /^BIRD's routes differed from the include/,
    );
  });
});
