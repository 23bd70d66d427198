import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loopbackPair, startBird, type BirdInstance } from '@rhi/test-support';

/** Runs `bird -p -c file`: parse the config and exit. */
export function birdParse(configPath: string): { ok: boolean; output: string } {
  const result = spawnSync('bird', ['-p', '-c', configPath], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

const TIMERS =
  'connect delay time 1; connect retry time 1; error wait time 1,2; hold time 6; keepalive time 2;';

/** Config of the injector's BIRD: the include, and an iBGP session exporting our protocols. */
export function injectorConfig(o: {
  includePath: string;
  local: string;
  remote: string;
  port: number;
  protocols?: [string, string];
}): string {
  const [v4, v6] = o.protocols ?? ['vol1', 'vol1_v6'];
  return `log stderr { error, bug };
router id 198.18.0.1;
protocol device { scan time 10; }
include "${o.includePath}";
protocol bgp peer1 {
  local ${o.local} port ${o.port} as 65001; neighbor ${o.remote} port ${o.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}
  ipv4 { next hop self; import none; export where proto = "${v4}"; };
  ipv6 { next hop self; next hop address 2001:2:ffff::1; import none; export where proto = "${v6}"; };
}
`;
}

/** Config of the BGP peer that receives the injected routes. */
export function peerConfig(o: { local: string; remote: string; port: number }): string {
  return `log stderr { error, bug };
router id 198.18.0.2;
protocol device { scan time 10; }
protocol bgp injector {
  local ${o.remote} port ${o.port} as 65001; neighbor ${o.local} port ${o.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`;
}

/** The injector's BIRD, with an empty include `rhi-routes.conf` in its dir, and its iBGP peer BIRD. */
export interface InjectorPair {
  readonly bird: BirdInstance;
  readonly peer: BirdInstance;
  readonly includePath: string;
}

/** Starts both BIRDs on a fresh loopback pair (the BGP session comes up on its own, within seconds). */
export async function startInjectorPair(): Promise<InjectorPair> {
  const link = loopbackPair();
  const [bird, peer] = await Promise.all([
    startBird({
      name: 'injector',
      files: { 'rhi-routes.conf': '' },
      config: (dir) => injectorConfig({ includePath: join(dir, 'rhi-routes.conf'), ...link }),
    }),
    startBird({ name: 'peer', config: () => peerConfig(link) }),
  ]);
  return { bird, peer, includePath: join(bird.dir, 'rhi-routes.conf') };
}
