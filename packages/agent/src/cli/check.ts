import { access, constants } from 'node:fs/promises';
import { BirdClient, BirdRouteInjector, protocolNameFor } from '@rhi/bird-client';
import type { BirdConfigCheck } from '@rhi/bird-client';
import { routeId } from '@rhi/contracts';
import { HaproxyClient } from '@rhi/haproxy-client';
import { formatDiagnostics, parse } from '@rhi/rules-dsl';
import { readFile } from 'node:fs/promises';
import { layoutFor, tableView } from '../app/bird-port.js';
import type { AgentConfig } from '../config/schema.js';
import { parseLimits } from '../core/accept-rule-set.js';
import { allowlist } from '../core/allowlist.js';
import { proxyNames, unknownProxies } from '../core/proxy-names.js';
import { describeNextHops, tableNextHops } from './check-next-hops.js';
import { describeEventRing, preflightChecks, tryEventRing } from './check-preflight.js';

/** One line of `rhi-agent check`. */
export interface CheckItem {
  readonly verdict: 'ok' | 'warn' | 'fail';
  readonly what: string;
  readonly detail?: string;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Checks everything an operator must get right before `rhi-agent run`; never throws. */
export async function runChecks(config: AgentConfig): Promise<CheckItem[]> {
  const items: CheckItem[] = [
    { verdict: 'ok', what: 'configuration is valid' },
    ...(await preflightChecks(config)),
  ];
  let proxies: string[] = [];
  let routes: readonly {
    readonly table: string;
    readonly family: 'ipv4' | 'ipv6';
    readonly prefix: string;
  }[] = [];
  /** Each table the rules use, with the place of the first rule that uses it. */
  const tables = new Map<string, string>();
  const file = config.rules.file;
  if (file) {
    try {
      const result = parse(await readFile(file, 'utf8'), { file, ...parseLimits(config.rules.limits) });
      if (!result.ok) {
        items.push({
          verdict: 'fail',
          what: `rules file ${file} has errors`,
          detail: formatDiagnostics(result.diagnostics),
        });
      } else {
        routes = result.ruleSet.rules.flatMap((r) => r.routes);
        const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
        items.push({
          verdict: result.diagnostics.length ? 'warn' : 'ok',
          what: `rules file ${file}: ${count(result.ruleSet.rules.length, 'rule')}, ${count(routes.length, 'route')}`,
          ...(result.diagnostics.length ? { detail: formatDiagnostics(result.diagnostics) } : {}),
        });
        const allowed = allowlist(config.allowlist);
        const outside = routes.filter((r) => !allowed.allows(r.prefix));
        items.push(
          outside.length
            ? {
                verdict: 'warn',
                what: `${outside.length} routes are outside the allowlist and will never be advertised`,
                detail: outside.map(routeId).join(', '),
              }
            : { verdict: 'ok', what: 'every route is inside the allowlist' },
        );
        proxies = proxyNames(result.ruleSet);
        result.ruleSet.rules.forEach((rule, i) => {
          const at = result.locations[i];
          for (const r of rule.routes)
            if (!tables.has(r.table)) tables.set(r.table, `${file}:${at?.line ?? 0}:${at?.column ?? 0}`);
        });
      }
    } catch (err) {
      items.push({ verdict: 'fail', what: `cannot read rules file ${file}`, detail: message(err) });
    }
  }
  const socket = config.haproxy.sockets[0] ?? '';
  try {
    const health = await new HaproxyClient({
      socket,
      timeoutMs: config.haproxy.timeoutMs,
      retries: 0,
    }).readHealth();
    items.push({
      verdict: 'ok',
      what: `HAProxy answers on ${socket} (pid ${health.process.pid}, ${health.process.version})`,
    });
    const unknown = unknownProxies(proxies, health);
    if (proxies.length) {
      items.push(
        unknown.length
          ? {
              verdict: 'fail',
              what: `rules name proxies HAProxy does not have (they would count as down)`,
              detail: unknown.join(', '),
            }
          : { verdict: 'ok', what: `all ${proxies.length} proxies the rules name exist in HAProxy` },
      );
    }
    const ring = config.haproxy.eventRing;
    if (ring !== undefined) {
      const client = new HaproxyClient({ socket, timeoutMs: config.haproxy.timeoutMs, retries: 0 });
      const trial = await tryEventRing(client, ring, config.haproxy.timeoutMs);
      items.push(describeEventRing(ring, config.haproxy.pollIntervalMs, trial));
    }
  } catch (err) {
    items.push({ verdict: 'fail', what: `HAProxy does not answer on ${socket}`, detail: message(err) });
  }
  const client = new BirdClient({ socketPath: config.bird.socket, answerTimeoutMs: config.bird.timeoutMs });
  const injector = new BirdRouteInjector({
    client,
    includePath: config.bird.include,
    layout: layoutFor(config.bird),
  });
  try {
    const foreign = await injector.foreignSymbols().catch(() => null);
    const verdicts = tableView(config.bird, foreign).judge([...tables.keys()]);
    items.push(...describeTables(config, tables, verdicts));
    const renderable = [...verdicts].filter(([, v]) => v.problem === undefined).map(([t]) => t);
    const layout = layoutFor(config.bird);
    const needed = new Set(routes.map((r) => protocolNameFor(layout, r.table, r.family)));
    items.push(
      ...describeBirdCheck(await injector.checkConfig(config.bird.config, { tables: renderable }), needed),
    );
    items.push(
      ...describeNextHops(await client.showProtocols({ all: true }), tableNextHops(config.bird, routes)),
    );
  } catch (err) {
    items.push({
      verdict: 'fail',
      what: `cannot check BIRD (${config.bird.socket}, ${config.bird.config})`,
      detail: message(err),
    });
  } finally {
    client.close();
  }
  try {
    await access(config.stateDir, constants.W_OK);
    items.push({ verdict: 'ok', what: `state directory ${config.stateDir} is writable` });
  } catch (err) {
    items.push({
      verdict: 'fail',
      what: `state directory ${config.stateDir} is not writable`,
      detail: message(err),
    });
  }
  items.push(
    config.nats
      ? { verdict: 'ok', what: `NATS configured (${config.nats.servers.join(', ')}), authenticated` }
      : { verdict: 'warn', what: 'no NATS: the agent works alone, with no fleet view or rule-set pushes' },
  );
  return items;
}

/** The rules' route tables: refused when they cannot be rendered, told when bird.tables does not list them. */
function describeTables(
  config: AgentConfig,
  tables: ReadonlyMap<string, string>,
  verdicts: ReturnType<ReturnType<typeof tableView>['judge']>,
): CheckItem[] {
  return [...tables].flatMap(([table, place]): CheckItem[] => {
    const verdict = verdicts.get(table);
    if (verdict?.problem)
      return [
        {
          verdict: 'fail',
          what: `table ${table} cannot be rendered: the agent refuses rules that use it`,
          detail: `${place}: ${verdict.problem}`,
        },
      ];
    if (Object.hasOwn(config.bird.tables, table)) return [];
    return [
      {
        verdict: 'warn',
        what: `table ${table} is not in bird.tables: its routes get the default next hop (via "lo"), in ${verdict?.protocols.join(', ') ?? table}`,
        detail: `first used at ${place}; list it in bird.tables for a gateway`,
      },
    ];
  });
}

/**
 * BIRD's verdict as checklist lines. A protocol that carries none of the rules' routes (e.g. `vol1_v6`
 * with IPv4 rules only) is a warning, not a failure: nothing is lost while it is not exported.
 */
function describeBirdCheck(check: BirdConfigCheck, needed: ReadonlySet<string>): CheckItem[] {
  const fine: CheckItem[] = [
    ...(check.includesFile ? [{ verdict: 'ok' as const, what: 'BIRD config includes our route file' }] : []),
    ...check.protocols
      .filter((p) => p.exported && p.running !== false)
      .map((p) => ({
        verdict: 'ok' as const,
        what: `protocol ${p.name} is exported${p.running ? ' and running' : ''}`,
      })),
  ];
  const problems = check.problems.map(({ message, protocol, pending }): CheckItem => {
    const idle = protocol !== undefined && !needed.has(protocol);
    return {
      verdict: idle || pending ? 'warn' : 'fail',
      what: idle ? `${message}; it carries no route of the current rules` : message,
    };
  });
  return [...fine, ...problems];
}

/** Renders the checklist, one verdict per line. */
export function renderChecks(items: readonly CheckItem[]): string {
  const mark = { ok: '[ ok ]', warn: '[warn]', fail: '[FAIL]' } as const;
  return items
    .map((i) => `${mark[i.verdict]} ${i.what}${i.detail ? `\n${i.detail.replace(/^/gm, '       ')}` : ''}`)
    .join('\n');
}
