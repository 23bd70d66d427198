import type { DesiredRoute, IncludeLayout } from '../../src/render-include.js';

export interface GoldenCase {
  readonly name: string;
  readonly layout: IncludeLayout;
  readonly routes: readonly DesiredRoute[];
}

const v4 = (prefix: string, table = 'vol1', bgp?: DesiredRoute['bgp']): DesiredRoute => ({
  table,
  prefix,
  family: 'ipv4',
  ...(bgp ? { bgp } : {}),
});
const v6 = (prefix: string, table = 'vol1', bgp?: DesiredRoute['bgp']): DesiredRoute => ({
  table,
  prefix,
  family: 'ipv6',
  ...(bgp ? { bgp } : {}),
});

/** Render inputs whose output is kept in test/fixtures/golden/<name>.conf. */
export const goldenCases: readonly GoldenCase[] = [
  { name: 'empty', layout: { tables: { vol1: {} } }, routes: [] },
  {
    name: 'default-next-hop',
    layout: { tables: { vol1: {} } },
    routes: [
      v4('198.18.10.2/32'),
      v4('198.18.10.10/32'),
      v4('198.18.10.1'),
      v6('2001:2:0:0::1/128'),
      v4('198.18.12.0/24'),
    ],
  },
  {
    name: 'gateways-and-tables',
    layout: {
      tables: {
        vol1: { ipv4: { via: '198.18.0.254' }, ipv6: { via: '2001:2::fe' } },
        vol2: { ipv4: { type: 'blackhole' }, ipv6: { type: 'unreachable' } },
        vol3: { ipv4: { device: 'dummy0' } },
      },
    },
    routes: [
      v4('198.18.10.1/32'),
      v6('2001:2::1/128'),
      v4('198.18.11.1/32', 'vol2'),
      v6('2001:2::2/128', 'vol2'),
      v4('198.18.12.1/32', 'vol3'),
    ],
  },
  {
    name: 'bgp-attributes',
    layout: { tables: { vol1: {} } },
    routes: [
      v4('198.18.10.1/32', 'vol1', { med: 10 }),
      v4('198.18.10.2/32', 'vol1', { localPref: 200, communities: ['65000:2', '65000:1', '65000:1'] }),
      v4('198.18.10.3/32', 'vol1', {
        med: 0,
        localPref: 4294967295,
        communities: ['0:0', '65535:65535'],
        largeCommunities: ['4200000000:1:2', '65000:1:2'],
      }),
      v6('2001:2::3/128', 'vol1', { med: 20, largeCommunities: ['65000:3:4'] }),
      v4('198.18.10.4/32', 'vol1', { communities: [] }),
    ],
  },
  {
    name: 'custom-protocol-names',
    layout: {
      tables: { web: {}, db: { ipv4: { type: 'blackhole' } } },
      protocolNames: { ipv4: 'rhi_{table}_v4', ipv6: 'rhi_{table}_v6' },
    },
    routes: [v4('198.18.10.1/32', 'web'), v6('2001:2::1/128', 'web'), v4('198.18.20.1/32', 'db')],
  },
  {
    name: 'bird1-ipv4',
    layout: { tables: { vol1: {} }, dialect: 'bird1', families: ['ipv4'] },
    routes: [v4('198.18.10.1/32'), v4('198.18.10.2/32', 'vol1', { med: 10, communities: ['65000:1'] })],
  },
];
