import { readFile } from 'node:fs/promises';
import type { BgpPair } from './bgp-pair.js';
import type { BgpRouteCounts } from './bgp-stats.js';
import { bgpChannelStats } from './bgp-stats.js';
import { waitFor } from './util.js';

/**
 * Waits until the router has received every route change the node had sent when the wait began: the
 * node's export counters (`accepted`) equal the router's import counters (`received`) on the session's
 * ipv4 channel. BIRD hands a changed route to BGP while `configure` applies it, so after a `configure`
 * returned this is the moment from which the router's counters can no longer grow because of it.
 * Resolves with the router's counts. BGP sends only the last state of a prefix that changed twice before
 * it left, so a flap that fast keeps the counters apart and the wait times out, naming both.
 */
export async function routerCaughtUp(pair: BgpPair, timeoutMs = 15_000): Promise<BgpRouteCounts> {
  return waitFor(
    'the router to have received every route change the node sent',
    async () => {
      const sent = (await bgpChannelStats(pair.node, 'router1'))['ipv4']?.exported;
      const got = (await bgpChannelStats(pair.router, 'node1'))['ipv4']?.imported;
      if (!sent || !got) throw new Error('no ipv4 channel on the session');
      if (sent.updates === got.updates && sent.withdraws === got.withdraws) return got;
      throw new Error(`the node sent ${JSON.stringify(sent)}, the router has ${JSON.stringify(got)}`);
    },
    timeoutMs,
  );
}

const procHex = (ip: string) =>
  ip
    .split('.')
    .map((b) => Number(b).toString(16).padStart(2, '0'))
    .reverse()
    .join('')
    .toUpperCase();

/**
 * Identifies the BGP session between the pair by its TCP connection (the router's socket, from
 * /proc/net/tcp): a session that was re-established has a new connection, hence a new id. BIRD itself
 * shows only when the session came up, as a wall-clock time that is not meant to be compared.
 */
export function bgpSessionId(pair: BgpPair, timeoutMs = 15_000): Promise<string> {
  return waitFor(
    'one established BGP session between the pair',
    async () => {
      const info = await pair.router.command('show protocols all node1');
      const neighbor = /Neighbor address:\s+(\d+\.\d+\.\d+\.\d+)/.exec(info)?.[1];
      const source = /Source address:\s+(\d+\.\d+\.\d+\.\d+)/.exec(info)?.[1];
      if (!/BGP state:\s+Established/.test(info) || !neighbor || !source)
        throw new Error('the session is not established');
      const established = (await readFile('/proc/net/tcp', 'utf8'))
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter(
          ([, local, remote, state]) =>
            state === '01' &&
            local?.startsWith(`${procHex(source)}:`) === true &&
            remote?.startsWith(`${procHex(neighbor)}:`) === true,
        );
      const [row, ...more] = established;
      if (!row || more.length > 0)
        throw new Error(`${established.length} TCP connections from ${source} to ${neighbor}`);
      // local and remote address:port, and the socket's inode (unique among live sockets).
      return `${row[1]} ${row[2]} ${row[9]}`;
    },
    timeoutMs,
  );
}
