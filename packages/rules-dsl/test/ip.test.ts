import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../src/index.js';

describe('parsePrefix', () => {
  it.each([
    ['198.18.200.1', '198.18.200.1/32', 'ipv4', 32],
    ['198.18.200.1/32', '198.18.200.1/32', 'ipv4', 32],
    ['198.18.0.0/15', '198.18.0.0/15', 'ipv4', 15],
    ['0.0.0.0/0', '0.0.0.0/0', 'ipv4', 0],
    ['255.255.255.255', '255.255.255.255/32', 'ipv4', 32],
    ['0.0.0.0', '0.0.0.0/32', 'ipv4', 32],
    ['2001:db8::1', '2001:db8::1/128', 'ipv6', 128],
    ['2001:DB8::A', '2001:db8::a/128', 'ipv6', 128],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128', 'ipv6', 128],
    ['::', '::/128', 'ipv6', 128],
    ['::/0', '::/0', 'ipv6', 0],
    ['::1', '::1/128', 'ipv6', 128],
    ['1::', '1::/128', 'ipv6', 128],
    ['2001:db8::/32', '2001:db8::/32', 'ipv6', 32],
    // RFC 5952 4.2.2: a single zero group is not compressed.
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1/128', 'ipv6', 128],
    // RFC 5952 4.2.3: the longest run is compressed; on a tie, the first.
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1/128', 'ipv6', 128],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1/128', 'ipv6', 128],
    ['2001:db8::0:1', '2001:db8::1/128', 'ipv6', 128],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8/128', 'ipv6', 128],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0/128', 'ipv6', 128],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8/128', 'ipv6', 128],
    ['2001:db8:200::/64', '2001:db8:200::/64', 'ipv6', 64],
    // Embedded IPv4 in the last 32 bits.
    ['64:ff9b::198.18.200.7', '64:ff9b::c612:c807/128', 'ipv6', 128],
    ['2001:db8:1:2:3:4:198.18.200.7', '2001:db8:1:2:3:4:c612:c807/128', 'ipv6', 128],
    // RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad; IPv4-compatible ones too, as inet_ntop
    // and BIRD 2 (`show route`: ::ffff:198.18.200.7/128, ::198.18.200.8/128) print them.
    ['::ffff:198.18.200.7', '::ffff:198.18.200.7/128', 'ipv6', 128],
    ['::FFFF:c612:c807', '::ffff:198.18.200.7/128', 'ipv6', 128],
    ['0:0:0:0:0:ffff:198.18.0.0/112', '::ffff:198.18.0.0/112', 'ipv6', 112],
    ['::ffff:0:0/96', '::ffff:0.0.0.0/96', 'ipv6', 96],
    ['::198.18.200.8', '::198.18.200.8/128', 'ipv6', 128],
    ['::ffff', '::ffff/128', 'ipv6', 128],
    ['::1:0:0', '::1:0:0/128', 'ipv6', 128],
    ['::ffff:0:0:0', '::ffff:0:0:0/128', 'ipv6', 128],
  ])('%s -> %s', (text, prefix, family, length) => {
    expect(parsePrefix(text)).toEqual({ ok: true, prefix, family, length });
  });

  it('writes every prefix length canonically and accepts its own output', () => {
    for (let len = 0; len <= 32; len++) {
      const r = parsePrefix(`0.0.0.0/${len}`);
      expect(r).toMatchObject({ ok: true, prefix: `0.0.0.0/${len}`, length: len });
    }
    for (let len = 0; len <= 128; len++) {
      const r = parsePrefix(`::/${len}`);
      expect(r).toMatchObject({ ok: true, prefix: `::/${len}`, length: len });
    }
  });

  it.each([
    ['198.18.0.1/24', '198.18.0.0/24'],
    ['198.18.200.5/31', '198.18.200.4/31'],
    ['198.18.255.255/15', '198.18.0.0/15'],
    ['198.18.200.1/0', '0.0.0.0/0'],
    ['2001:db8::1/64', '2001:db8::/64'],
    ['2001:db8:ffff::/33', '2001:db8:8000::/33'],
    ['2001:db8::1/127', '2001:db8::/127'],
    ['::1/0', '::/0'],
  ])('host bits in %s suggest %s', (text, network) => {
    expect(parsePrefix(text)).toEqual({
      ok: false,
      code: 'RULE_HOST_BITS',
      message: `'${text}' has host bits set; did you mean '${network}'?`,
      offset: 0,
      length: text.length,
    });
    expect(parsePrefix(network)).toMatchObject({ ok: true, prefix: network });
  });

  it.each([
    ['198.18.200.0/33', 12, 3, '0 to 32 for IPv4'],
    ['198.18.200.0/', 12, 1, '0 to 32 for IPv4'],
    ['198.18.200.0/08', 12, 3, '0 to 32 for IPv4'],
    ['198.18.200.0/+8', 12, 3, '0 to 32 for IPv4'],
    ['198.18.200.0/ 8', 12, 3, '0 to 32 for IPv4'],
    ['198.18.200.0/1e1', 12, 4, '0 to 32 for IPv4'],
    ['198.18.200.0/99999999999999999999', 12, 21, '0 to 32 for IPv4'],
    ['2001:db8::/129', 10, 4, '0 to 128 for IPv6'],
    ['2001:db8::/-0', 10, 3, '0 to 128 for IPv6'],
  ])('bad mask %s', (text, offset, length, range) => {
    const r = parsePrefix(text);
    expect(r).toMatchObject({ ok: false, code: 'RULE_BAD_MASK', offset, length });
    expect(r.ok ? '' : r.message).toContain(range);
  });

  it.each([
    ['198.18.200.01', 'leading zero'],
    ['198.18.200.001', 'leading zero'],
    ['010.18.200.1', 'leading zero'],
    ['198.18.200', 'four dot-separated numbers'],
    ['198.18.200.1.2', 'four dot-separated numbers'],
    ['198.18..1', 'is not a number'],
    ['198.18.200.256', 'larger than 255'],
    ['198.18.200.1000', 'is not a number'],
    ['198.18.200.x', 'not an IPv4 or IPv6 address'],
    ['-1.0.0.0', 'not an IPv4 or IPv6 address'],
    ['example.com', 'not an IPv4 or IPv6 address'],
    ['１９８.18.200.1', 'not an IPv4 or IPv6 address'],
    ['2001:db8::1::2', "'::' may appear only once"],
    ['2001:db8:::1', 'is not a group'],
    ['2001:db8:0:0:0:0:0:0:1', 'expected 8 groups, found 9'],
    ['2001:db8:0:0:0:0:1', 'expected 8 groups, found 7'],
    ['1:2:3:4:5:6:7::8', 'too many groups'],
    ['2001:db8:12345::1', "'12345' is not a group"],
    ['2001:db8:g::1', "'g' is not a group"],
    ['2001:db8::-1', "'-1' is not a group"],
    [':1:2:3:4:5:6:7', "'' is not a group"],
    ['1:2:3:4:5:6:7:', "'' is not a group"],
    ['::198.18.200.256', 'larger than 255'],
    ['::198.18.200', 'four dot-separated numbers'],
    ['198.18.200.7::', 'is not a group'],
    ['198.18.200.7::1', 'is not a group'],
    ['::198.18.200.7:1', 'is not a group'],
    ['', 'found nothing'],
    ['::ffff:198.18.200.7:1', 'is not a group'],
  ])('bad address %s: %s', (text, reason) => {
    const r = parsePrefix(text);
    expect(r).toMatchObject({ ok: false, code: 'RULE_BAD_ADDRESS', offset: 0 });
    expect(r.ok ? '' : r.message).toContain(reason);
  });

  it('reports a bad address before a bad mask, and points at the address only', () => {
    expect(parsePrefix('198.18.200.256/99')).toMatchObject({
      code: 'RULE_BAD_ADDRESS',
      offset: 0,
      length: 14,
    });
  });
});
