import type { BirdClient } from './client.js';
import { BirdCommandSyntaxError } from './errors.js';
import { exportQueries, judgeExports, type BirdRouteExport, type ExportAnswer } from './export-check.js';
import { parsePrefix } from './prefix.js';
import type { RenderedProtocol } from './render-include.js';

const normal = (prefix: string) => parsePrefix(prefix).text;

/**
 * Asks BIRD which routing protocols export each route of `owned`: one `show route export <router>
 * protocol <ours> count` per pair, and the route list only where the count falls short. A router that
 * went down between the questions (`9001 No valid tables`) counts as down.
 */
export async function readExports(
  client: BirdClient,
  owned: readonly RenderedProtocol[],
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
  return judgeExports(protocols, withRoutes, answers);
}
