import { describe, expect, it } from 'vitest';
import { fixtureReply } from '../test/support/fixtures.js';
import { parseShowRoute } from './parse-routes.js';
import { planProtocols, type DesiredRoute } from './render-include.js';
import { diffProtocol, heldRoutes, toDesiredRoute } from './route-diff.js';

const captured = parseShowRoute(fixtureReply('show-route-all'));
const vol1 = { name: 'vol1', table: 'vol1', family: 'ipv4' as const };
const layout = { tables: { vol1: {} } };

describe('heldRoutes and diffProtocol', () => {
  it('turns BIRD routes of one protocol into desired routes', () => {
    expect(heldRoutes(vol1, captured).map(toDesiredRoute)).toEqual([
      { table: 'vol1', prefix: '198.18.10.1/32', family: 'ipv4' },
      { table: 'vol1', prefix: '198.18.10.3/32', family: 'ipv4' },
      {
        table: 'vol1',
        prefix: '198.18.10.2/32',
        family: 'ipv4',
        bgp: { med: 10, localPref: 200, communities: ['65000:1'], largeCommunities: ['65000:1:2'] },
      },
    ]);
  });

  it('finds no drift when BIRD holds the desired routes, whatever their order', () => {
    const desired: DesiredRoute[] = heldRoutes(vol1, captured).map(toDesiredRoute).reverse();
    const [protocol] = planProtocols(desired, layout);
    expect(protocol && diffProtocol(protocol, heldRoutes(vol1, captured))).toEqual({
      missing: [],
      unexpected: [],
    });
  });

  it('reports missing, unexpected and changed routes', () => {
    const desired: DesiredRoute[] = [
      { table: 'vol1', prefix: '198.18.10.1/32', family: 'ipv4' },
      {
        table: 'vol1',
        prefix: '198.18.10.2/32',
        family: 'ipv4',
        bgp: { med: 11, localPref: 200, communities: ['65000:1'], largeCommunities: ['65000:1:2'] },
      },
      { table: 'vol1', prefix: '198.18.10.9/32', family: 'ipv4' },
    ];
    const [protocol] = planProtocols(desired, layout);
    expect(protocol && diffProtocol(protocol, heldRoutes(vol1, captured))).toEqual({
      missing: [
        '198.18.10.2/32 {med 11, local_pref 200, community 65000:1, large_community 65000:1:2}',
        '198.18.10.9/32',
      ],
      unexpected: [
        '198.18.10.3/32',
        '198.18.10.2/32 {med 10, local_pref 200, community 65000:1, large_community 65000:1:2}',
      ],
    });
  });
});
