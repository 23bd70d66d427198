import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BirdInvalidInputError } from './errors.js';
import { parseAddress, parsePrefix } from './prefix.js';

describe('parsePrefix', () => {
  it.each([
    ['198.18.0.1/32', 'ipv4', '198.18.0.1/32'],
    ['198.18.0.1', 'ipv4', '198.18.0.1/32'],
    ['198.18.0.0/15', 'ipv4', '198.18.0.0/15'],
    ['0.0.0.0/0', 'ipv4', '0.0.0.0/0'],
    ['2001:2::1/128', 'ipv6', '2001:2::1/128'],
    ['2001:0002:0000:0000:0000:0000:0000:0001/128', 'ipv6', '2001:2::1/128'],
    ['2001:DB8:0:0:1:0:0:1', 'ipv6', '2001:db8::1:0:0:1/128'],
    ['2001:2:0:1:0:0:0:0/64', 'ipv6', '2001:2:0:1::/64'],
    ['::/0', 'ipv6', '::/0'],
    ['::1', 'ipv6', '::1/128'],
    ['::ffff:198.18.0.1', 'ipv6', '::ffff:c612:1/128'],
    ['2001:2:0:0:1:0:0:0/128', 'ipv6', '2001:2:0:0:1::/128'],
    ['2001:2:0:0:1:0:0:1', 'ipv6', '2001:2::1:0:0:1/128'],
    ['1:0:1:1:1:1:1:1', 'ipv6', '1:0:1:1:1:1:1:1/128'],
  ])('%s is %s %s', (input, family, text) => {
    expect(parsePrefix(input)).toMatchObject({ family, text });
  });

  it.each([
    '198.18.0.1/24',
    '198.18.0.256/32',
    '198.18.0/24',
    '198.18.0.01/32',
    '198.18.0.1/33',
    '198.18.0.1/32/1',
    '2001:2::1/129',
    '2001:2::1::2',
    '2001:2:1:2:3:4:5:6:7',
    '2001:2::/16',
    '12345::1',
    'vol1',
    '',
    '198.18.0.1/32 ; protocol',
  ])('rejects %j', (input) => {
    expect(() => parsePrefix(input)).toThrow(BirdInvalidInputError);
  });

  it('rejects a family mismatch', () => {
    expect(() => parsePrefix('198.18.0.1/32', 'ipv6')).toThrow(/not ipv6/);
  });

  it('round-trips: canonical text parses to itself, and keys sort numerically', () => {
    const v6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(v6, (groups) => {
        const first = parsePrefix(groups.map((g) => g.toString(16)).join(':'));
        expect(parsePrefix(first.text)).toEqual(first);
        expect(first.text.split('/')[0]?.split('::').length).toBeLessThanOrEqual(2);
      }),
    );
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        const pa = parsePrefix(a.join('.'));
        const pb = parsePrefix(b.join('.'));
        const numeric = (x: number[]) => x.reduce((n, o) => n * 256 + o, 0);
        expect(Math.sign(pa.key.localeCompare(pb.key))).toBe(Math.sign(numeric(a) - numeric(b)));
      }),
    );
  });
});

describe('parseAddress', () => {
  it('reads a bare address and rejects a prefix', () => {
    expect(parseAddress('2001:2:0::fe')).toEqual({ family: 'ipv6', text: '2001:2::fe' });
    expect(() => parseAddress('198.18.0.1/32')).toThrow(BirdInvalidInputError);
  });
});
