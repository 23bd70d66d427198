import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, parsePrefix } from '../src/index.js';
import { parsePrefixSlowly } from '../src/ip.js';
import { fcRuns } from './arbitraries.js';

const runs = fcRuns(20261124, 500);

/** Groups biased towards zero runs and the edge values of RFC 5952 and of the dotted forms. */
const group = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constantFrom(1, 0xffff, 0xdb8, 0x2001, 0xa, 0x100) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

/** An IPv6 address written any way the grammar allows: full, compressed anywhere, upper case, leading zeros. */
const ipv6Text = fc
  .record({
    groups: fc.array(group, { minLength: 8, maxLength: 8 }),
    gapAt: fc.integer({ min: -1, max: 7 }),
    gapLength: fc.integer({ min: 1, max: 8 }),
    upper: fc.boolean(),
    pad: fc.boolean(),
    dotted: fc.boolean(),
  })
  .map(({ groups, gapAt, gapLength, upper, pad, dotted }) => {
    const hex = groups.map((g) => {
      const h = g.toString(16);
      return pad ? h.padStart(4, '0') : h;
    });
    let parts: string[] = hex;
    if (dotted) {
      const [g6 = 0, g7 = 0] = groups.slice(6);
      parts = [...hex.slice(0, 6), `${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`];
    }
    let text = parts.join(':');
    if (gapAt >= 0 && gapAt < parts.length) {
      const end = Math.min(parts.length, gapAt + gapLength);
      if (groups.slice(gapAt, end).every((g) => g === 0)) {
        text = `${parts.slice(0, gapAt).join(':')}::${parts.slice(end).join(':')}`;
      }
    }
    return upper ? text.toUpperCase() : text;
  });

/** Canonical IPv6 texts (no mask): what the fast path takes, next to the masks it must refuse. */
const canonicalIPv6 = fc
  .tuple(fc.array(group, { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 128 }))
  .map(([groups, length]) => {
    const network = groups.map((g, k) => {
      const keep = Math.max(0, Math.min(16, length - 16 * k));
      return keep === 0 ? 0 : g & ~((1 << (16 - keep)) - 1) & 0xffff;
    });
    const parsed = parsePrefixSlowly(`${network.map((g) => g.toString(16)).join(':')}/${length}`);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.prefix.slice(0, parsed.prefix.indexOf('/'));
  });

const mask = fc.option(
  fc.oneof(
    fc.integer({ min: 0, max: 128 }).map(String),
    fc.constantFrom('', '00', '064', '129', '1000', 'x'),
  ),
  { nil: undefined },
);

const ipv4Text = fc
  .tuple(
    fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }).map(String), fc.constantFrom('00', '01', '256', '')), {
      minLength: 3,
      maxLength: 5,
    }),
    fc.option(fc.oneof(fc.integer({ min: 0, max: 33 }).map(String), fc.constantFrom('', '00', '08')), {
      nil: undefined,
    }),
  )
  .map(([octets, m]) => (m === undefined ? octets.join('.') : `${octets.join('.')}/${m}`));

describe('the fast paths of prefix parsing agree with the full parser', () => {
  it('on IPv6 texts (canonical ones are taken in place, every other one is left to the full parser)', () => {
    fc.assert(
      fc.property(fc.oneof(ipv6Text, canonicalIPv6), mask, (address, m) => {
        const text = m === undefined ? address : `${address}/${m}`;
        expect(parsePrefix(text)).toEqual(parsePrefixSlowly(text));
      }),
      runs,
    );
  });

  it('on IPv4 texts', () => {
    fc.assert(
      fc.property(ipv4Text, (text) => {
        expect(parsePrefix(text)).toEqual(parsePrefixSlowly(text));
      }),
      runs,
    );
  });

  it('in the parser, which reads networks in place', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          ipv4Text,
          fc
            .tuple(fc.oneof(ipv6Text, canonicalIPv6), mask)
            .map(([a, m]) => (m === undefined ? a : `${a}/${m}`)),
        ),
        (network) => {
          const expected = parsePrefixSlowly(network);
          const { ruleSet, diagnostics } = parse(`vol2%${network} = true\n`);
          const errors = diagnostics.filter((d) => d.severity === 'error');
          if (expected.ok) {
            expect(errors).toEqual([]);
            expect(ruleSet.rules[0]?.routes).toEqual([
              { table: 'vol2', prefix: expected.prefix, family: expected.family },
            ]);
          } else {
            expect(errors.map((d) => [d.code, d.message])).toEqual([[expected.code, expected.message]]);
          }
        },
      ),
      runs,
    );
  });

  it('on the canonical forms RFC 5952 picks between', () => {
    for (const [text, prefix] of [
      ['2001:db8::1', '2001:db8::1/128'],
      ['2001:db8:0:0:1::1', '2001:db8::1:0:0:1/128'],
      ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1/128'],
      ['2001:0:0:1::1', '2001:0:0:1::1/128'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1/128'],
      ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1/128'],
      ['::', '::/128'],
      ['::1', '::1/128'],
      ['1::', '1::/128'],
      ['::1:2', '::0.1.0.2/128'],
      ['::ffff:102:304', '::ffff:1.2.3.4/128'],
      ['2001:DB8::/32', '2001:db8::/32'],
      ['fe80::/10', 'fe80::/10'],
    ] as const) {
      expect(parsePrefix(text)).toMatchObject({ ok: true, prefix });
    }
  });
});
