import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loopbackPair, startBird, type BirdInstance } from '@rhi/test-support';
import { readBirdLog, type BirdLogRecord } from './bird-log.js';

/** Runs `bird -p -c file`: parse the config and exit. */
export function birdParse(configPath: string): { ok: boolean; output: string } {
  const result = spawnSync('bird', ['-p', '-c', configPath], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/**
 * Quick (re)connects. The hold timer stays at BIRD's 240 s: a short one would reset the session whenever a
 * loaded machine stalls a BIRD for a few seconds, and nothing here needs it, since on loopback the peer
 * sees the connection close at once even when a BIRD is killed.
 */
const TIMERS = 'connect delay time 1; connect retry time 1; error wait time 1,2;';

/**
 * With a log file, BIRD also logs everything there, with each CLI command it gets (`CLI: configure`) and
 * the BGP session's state changes (`peer1: State changed to up`): see readBirdLog. Off by default, so
 * that the benchmark's BIRD does no extra writes.
 */
function logging(logFile: string | undefined): { global: string; bgp: string } {
  return logFile === undefined
    ? { global: '', bgp: '' }
    : { global: `log "${logFile}" all;\ndebug commands 2;\n`, bgp: ' debug { states };' };
}

/** Config of the injector's BIRD: the include, and an iBGP session exporting our protocols. */
export function injectorConfig(o: {
  includePath: string;
  local: string;
  remote: string;
  port: number;
  protocols?: [string, string];
  logFile?: string;
}): string {
  const [v4, v6] = o.protocols ?? ['vol1', 'vol1_v6'];
  const log = logging(o.logFile);
  return `log stderr { error, bug };
${log.global}router id 198.18.0.1;
protocol device { scan time 10; }
include "${o.includePath}";
protocol bgp peer1 {
  local ${o.local} port ${o.port} as 65001; neighbor ${o.remote} port ${o.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}${log.bgp}
  ipv4 { next hop self; import none; export where proto = "${v4}"; };
  ipv6 { next hop self; next hop address 2001:2:ffff::1; import none; export where proto = "${v6}"; };
}
`;
}

/** Config of the BGP peer that receives the injected routes. */
export function peerConfig(o: { local: string; remote: string; port: number; logFile?: string }): string {
  const log = logging(o.logFile);
  return `log stderr { error, bug };
${log.global}router id 198.18.0.2;
protocol device { scan time 10; }
protocol bgp injector {
  local ${o.remote} port ${o.port} as 65001; neighbor ${o.local} port ${o.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}${log.bgp}
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

/** The log records of a BIRD started by `startInjectorPair({ logs: true })`, since its first start. */
export function readPairLog(bird: BirdInstance): Promise<BirdLogRecord[]> {
  return readBirdLog(join(bird.dir, 'bird.log'));
}

/**
 * Starts both BIRDs on a fresh loopback pair (the BGP session comes up on its own, within seconds). With
 * `logs`, each logs to `bird.log` in its dir (kept across halt/start): read it with readPairLog.
 */
export async function startInjectorPair(options: { logs?: boolean } = {}): Promise<InjectorPair> {
  const link = loopbackPair();
  const logFile = (dir: string) => (options.logs ? join(dir, 'bird.log') : undefined);
  const [bird, peer] = await Promise.all([
    startBird({
      name: 'injector',
      files: { 'rhi-routes.conf': '' },
      config: (dir) =>
        injectorConfig({ includePath: join(dir, 'rhi-routes.conf'), logFile: logFile(dir), ...link }),
    }),
    startBird({ name: 'peer', config: (dir) => peerConfig({ logFile: logFile(dir), ...link }) }),
  ]);
  return { bird, peer, includePath: join(bird.dir, 'rhi-routes.conf') };
}
