import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { parseShowProtocols } from './parse-protocols.js';
import { BirdReplyReader } from './reply-reader.js';

describe('parseShowProtocols', () => {
  it('reads every row of show protocols', () => {
    const rows = parseShowProtocols(fixtureReply('show-protocols')).map(
      ({ name, proto, table, state, since, info }) => ({
        name,
        proto,
        table,
        state,
        since,
        info,
      }),
    );
    expect(rows).toEqual([
      {
        name: 'device1',
        proto: 'Device',
        table: '---',
        state: 'up',
        since: expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}$/),
        info: '',
      },
      {
        name: 'vol1',
        proto: 'Static',
        table: 'master4',
        state: 'up',
        since: expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}$/),
        info: '',
      },
      {
        name: 'vol1_v6',
        proto: 'Static',
        table: 'master6',
        state: 'up',
        since: expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}$/),
        info: '',
      },
      {
        name: 'peer1',
        proto: 'BGP',
        table: '---',
        state: 'up',
        since: expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}$/),
        info: 'Established',
      },
    ]);
  });

  it('reads BGP state, neighbor and channel counters from show protocols all', () => {
    const protocols = parseShowProtocols(fixtureReply('show-protocols-all'));
    const peer = protocols.find((p) => p.name === 'peer1');
    expect(peer?.bgpState).toBe('Established');
    expect(peer?.neighborAddress).toMatch(/^127\.18\.\d+\.2$/);
    expect(peer?.channels).toEqual([
      {
        name: 'ipv4',
        state: 'UP',
        table: 'master4',
        imported: 0,
        exported: 3,
        preferred: 0,
        bgpNextHop: [expect.stringMatching(/^127\.18\.\d+\.1$/)],
      },
      {
        name: 'ipv6',
        state: 'UP',
        table: 'master6',
        imported: 0,
        exported: 1,
        preferred: 0,
        bgpNextHop: ['2001:2:ffff::1'],
      },
    ]);
    expect(protocols.find((p) => p.name === 'vol1')?.channels).toEqual([
      { name: 'ipv4', state: 'UP', table: 'master4', imported: 3, exported: 0, preferred: 3 },
    ]);
    expect(protocols.find((p) => p.name === 'device1')?.details).toEqual([]);
  });

  it('reads a pattern query and a single protocol', () => {
    expect(parseShowProtocols(fixtureReply('show-protocols-vol-pattern')).map((p) => p.name)).toEqual([
      'vol1',
      'vol1_v6',
    ]);
    expect(
      parseShowProtocols(fixtureReply('show-protocols-all-peer1')).map((p) => [p.name, p.bgpState]),
    ).toEqual([['peer1', 'Established']]);
  });

  it('reads a static protocol disabled while the config is broken, and up again after a configure', () => {
    const state = (name: string) => parseShowProtocols(fixtureReply(name)).map((p) => [p.name, p.state]);
    expect(state('show-protocols-vol1-disabled')).toEqual([['vol1', 'down']]);
    expect(state('show-protocols-vol1-after-configure')).toEqual([['vol1', 'up']]);
  });

  it('keeps a two-word "iso long" Since apart from Info', () => {
    const [event] = new BirdReplyReader().push(
      '2002-Name       Proto      Table      State  Since         Info\n1002-peer1      BGP        ---        start  2026-11-24 05:03:57  Active        Socket: Connection refused\n0000 \n',
    );
    const [row] = event?.kind === 'reply' ? parseShowProtocols(event.reply) : [];
    expect([row?.since, row?.info, row?.state]).toEqual([
      '2026-11-24 05:03:57',
      'Active Socket: Connection refused',
      'start',
    ]);
  });
});
