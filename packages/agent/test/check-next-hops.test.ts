import { readFileSync } from 'node:fs';
import { BirdReplyReader, parseShowProtocols } from '@rhi/bird-client';
import type { BirdReply } from '@rhi/bird-client';
import { describe, expect, it } from 'vitest';
import { describeNextHops, tableNextHops } from '../src/cli/check-next-hops.js';
import type { AgentConfig } from '../src/config/schema.js';

/** `show protocols all upstream1` of examples/bird.conf's eBGP session, captured from bird 2.0.12. */
function protocols() {
  const bytes = readFileSync(
    new URL('../../bird-client/test/fixtures/replies/show-protocols-all-upstream-ebgp.txt', import.meta.url),
  );
  const replies = new BirdReplyReader()
    .push(bytes)
    .flatMap((e): BirdReply[] => (e.kind === 'reply' ? [e.reply] : []));
  return parseShowProtocols(replies[0]!);
}

const bird = (tables: AgentConfig['bird']['tables']) => ({ tables, dialect: 'bird2' }) as AgentConfig['bird'];
const used = [
  { table: 'vol1', family: 'ipv4' as const },
  { table: 'vol1', family: 'ipv6' as const },
  { table: 'vol1', family: 'ipv4' as const },
];

describe('check: next hops against the live BGP sessions', () => {
  it('gives each table and family the next hop the include renders, once', () => {
    expect(tableNextHops(bird({ vol1: { gateway: '198.18.0.21' } }), used)).toEqual([
      { table: 'vol1', family: 'ipv4', nextHop: { via: '198.18.0.21' } },
      { table: 'vol1', family: 'ipv6', nextHop: { device: 'lo' } },
    ]);
  });

  it('fails a gateway that is the neighbour, and an IPv6 route over a session with no IPv6 next hop', () => {
    const items = describeNextHops(
      protocols(),
      tableNextHops(bird({ vol1: { gateway: '198.18.0.1' } }), used),
    );
    expect(items).toEqual([
      {
        verdict: 'fail',
        what: expect.stringMatching(
          /^table vol1 \(ipv4\): BGP upstream1 would send next hop 198\.18\.0\.1, the neighbour's own address/,
        ),
      },
      {
        verdict: 'fail',
        what: expect.stringMatching(
          /^table vol1 \(ipv6\): BGP upstream1 has no ipv6 next hop address of its own/,
        ),
      },
    ]);
  });

  it('passes what BIRD can send, and warns when no routing protocol carries a family', () => {
    const v4 = describeNextHops(
      protocols(),
      tableNextHops(bird({ vol1: { gateway: '198.18.0.21' } }), used.slice(0, 1)),
    );
    expect(v4).toEqual([{ verdict: 'ok', what: 'ipv4 next hops are valid for BGP upstream1' }]);
    expect(describeNextHops([], tableNextHops(bird({}), used.slice(1, 2)))).toEqual([
      { verdict: 'warn', what: expect.stringMatching(/^no routing protocol .* carries ipv6 routes/) },
    ]);
  });
});
