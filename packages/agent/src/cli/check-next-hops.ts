import { DEFAULT_NEXT_HOP, nextHopProblem, routers } from '@rhi/bird-client';
import type { BirdProtocol, TableNextHop } from '@rhi/bird-client';
import type { AgentConfig } from '../config/schema.js';
import { layoutFor } from '../app/bird-port.js';
import type { CheckItem } from './check.js';

/** The next hop each (table, family) the rules use gets: the table's gateway, or the default (via "lo"). */
export function tableNextHops(
  bird: AgentConfig['bird'],
  used: readonly { readonly table: string; readonly family: 'ipv4' | 'ipv6' }[],
): TableNextHop[] {
  const layout = layoutFor(bird);
  const seen = new Map<string, TableNextHop>();
  for (const { table, family } of used) {
    const key = `${table} ${family}`;
    if (!seen.has(key))
      seen.set(key, { table, family, nextHop: layout.tables[table]?.[family] ?? DEFAULT_NEXT_HOP });
  }
  return [...seen.values()];
}

/**
 * Whether BIRD's routing protocols would send the rules' routes with the next hops the tables give them:
 * a gateway that is a BGP neighbour's own address, or an IPv6 route over a session with no IPv6 next hop
 * address, is refused by BIRD at send time while every table looks fine.
 */
export function describeNextHops(
  protocols: readonly BirdProtocol[],
  hops: readonly TableNextHop[],
): CheckItem[] {
  const all = routers(protocols);
  const items: CheckItem[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const mine = hops.filter((h) => h.family === family);
    if (mine.length === 0) continue;
    const carrying = all.filter((r) => r.channels.length === 0 || r.channels.some((c) => c.name === family));
    if (carrying.length === 0) {
      items.push({
        verdict: 'warn',
        what: `no routing protocol (BGP, OSPF, RIP, Babel) in BIRD carries ${family} routes: no router receives the rules' ${family} routes`,
      });
      continue;
    }
    let fine = true;
    for (const router of carrying)
      for (const hop of mine) {
        const verdict = nextHopProblem(router, hop);
        if (verdict === 'ok') continue;
        fine = false;
        items.push(
          verdict === 'unknown'
            ? {
                verdict: 'warn',
                what: `BGP ${router.name} is not established: whether it has a ${family} next hop for table ${hop.table} cannot be told yet`,
              }
            : { verdict: 'fail', what: `table ${hop.table} (${family}): ${verdict.problem}` },
        );
      }
    if (fine)
      items.push({
        verdict: 'ok',
        what: `${family} next hops are valid for ${carrying.map((r) => `${r.proto} ${r.name}`).join(', ')}`,
      });
  }
  return items;
}
