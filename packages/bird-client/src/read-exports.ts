import type { BirdClient } from './client.js';
import { BirdCommandSyntaxError } from './errors.js';
import {
  exportQueries,
  judgeExports,
  routers,
  type BirdRouteExport,
  type ExportAnswer,
} from './export-check.js';
import { parsePrefix } from './prefix.js';
import type { BirdProtocol } from './parse-protocols.js';
import type { RenderedProtocol } from './render-include.js';

const normal = (prefix: string) => parsePrefix(prefix).text;

/**
 * The last answer of {@link readExports}, to give again while nothing it was made of changed: the same
 * routes (the same `owned`), the same protocols as BIRD shows them, every router exporting all or down.
 */
export class ExportMemo {
  owned: readonly RenderedProtocol[] | undefined;
  key: string | undefined;
  result: BirdRouteExport[] = [];
}

/** What {@link judgeExports} reads of the routers and answers (not their counters, which move all the time). */
function memoKey(protocols: readonly BirdProtocol[], answers: ReadonlyMap<string, ExportAnswer>): string {
  const seen = routers(protocols).map((r) => [
    r.name,
    r.proto,
    r.state,
    r.since,
    r.info,
    r.neighborAddress,
    r.channels.map((c) => [c.name, c.bgpNextHop]),
  ]);
  return JSON.stringify([seen, [...answers]]);
}

/**
 * Asks BIRD which routing protocols export each route of `owned`: one `show route export <router>
 * protocol <ours> count` per pair, and the route list only where the count falls short. A router that
 * went down between the questions (`9001 No valid tables`) counts as down. With a `memo`, an answer made
 * of the same questions and replies as the last one is that one (the same array), judged once.
 */
export async function readExports(
  client: BirdClient,
  owned: readonly RenderedProtocol[],
  memo?: ExportMemo,
): Promise<BirdRouteExport[]> {
  const withRoutes = owned.filter((p) => p.routes.length > 0);
  if (withRoutes.length === 0) return [];
  const protocols = await client.showProtocols({ all: true });
  const answers = new Map<string, ExportAnswer>();
  for (const q of exportQueries(protocols, withRoutes)) {
    try {
      const counts = await client.showRouteCount({ export: q.router, protocol: q.protocol });
      const exported = counts.reduce((sum, c) => sum + c.routes, 0);
      if (exported >= q.routes) {
        answers.set(q.key, { exported: 'all' });
        continue;
      }
      const routes = await client.showRoute({ export: q.router, protocol: q.protocol });
      answers.set(q.key, { exported: new Set(routes.map((r) => normal(r.prefix))) });
    } catch (err) {
      if (!(err instanceof BirdCommandSyntaxError)) throw err;
      answers.set(q.key, { down: `${q.router} could not be asked: ${err.message}` });
    }
  }
  const key = [...answers.values()].some((a) => 'exported' in a && a.exported !== 'all')
    ? undefined
    : memoKey(protocols, answers);
  if (memo && key !== undefined && memo.owned === owned && memo.key === key) return memo.result;
  const result = judgeExports(protocols, withRoutes, answers);
  if (memo) Object.assign(memo, { owned, key, result });
  return result;
}
