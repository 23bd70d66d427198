import { describe, expect, it } from 'vitest';
import { formatSocketAddress, parseSocketAddress } from './address.js';
import { HaproxyBadAddressError } from './errors.js';

describe('parseSocketAddress', () => {
  it.each([
    ['/run/haproxy/admin.sock', { kind: 'unix', path: '/run/haproxy/admin.sock' }],
    ['unix@/run/haproxy/admin.sock', { kind: 'unix', path: '/run/haproxy/admin.sock' }],
    ['relative.sock', { kind: 'unix', path: 'relative.sock' }],
    ['ipv4@127.0.0.1:9999', { kind: 'tcp', family: 4, host: '127.0.0.1', port: 9999 }],
    ['ipv6@[::1]:9999', { kind: 'tcp', family: 6, host: '::1', port: 9999 }],
  ])('%s', (text, address) => {
    expect(parseSocketAddress(text)).toEqual(address);
  });

  it.each([
    '',
    'ipv4@127.0.0.1',
    'ipv4@127.0.0.1:0',
    'ipv4@127.0.0.1:70000',
    'ipv6@::1:99',
    'tcp@host:1',
    'unix@',
  ])('refuses %j', (text) => expect(() => parseSocketAddress(text)).toThrow(HaproxyBadAddressError));

  it.each(['/x/y.sock', 'ipv4@198.18.0.1:80', 'ipv6@[2001:db8::1]:443'])('formats %s back', (text) => {
    expect(formatSocketAddress(parseSocketAddress(text))).toBe(text);
  });
});
