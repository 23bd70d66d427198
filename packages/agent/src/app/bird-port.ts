import { BirdClient, BirdRouteInjector, ownedProtocols, renderableLayout } from '@rhi/bird-client';
import type { IncludeLayout, StaticNextHop } from '@rhi/bird-client';
import type { Logger } from 'pino';
import { BirdInjectorPort } from '../adapters/bird-injector.js';
import type { AgentConfig } from '../config/schema.js';
import type { TableView } from '../core/accept-rule-set.js';
import type { DesiredRoute } from '../core/planner.js';
import type { ApplyResult, HeldRoutes, ReconcileResult, RouteExport, RouteInjector } from '../loop/ports.js';
import { InjectorFailure } from '../loop/ports.js';

const hop = (ip: string | undefined): StaticNextHop | undefined => (ip ? { via: ip } : undefined);

/** The include layout the config describes: one entry per configured table, next hops from `gateway`. */
export function layoutFor(
  config: AgentConfig['bird'],
  families?: readonly ('ipv4' | 'ipv6')[],
): IncludeLayout {
  const tables = Object.fromEntries(
    Object.entries(config.tables).map(([name, t]) => {
      const ipv4 = hop(t.gateway);
      const ipv6 = hop(t.gateway6);
      return [name, { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) }];
    }),
  );
  return { tables, dialect: config.dialect, ...(families ? { families } : {}) };
}

/**
 * The tables as the rule-set check sees them: the configured ones, and per table the protocols it would
 * get and why it cannot be rendered, against BIRD's own symbols when they could be read (`foreign`).
 */
export function tableView(
  config: AgentConfig['bird'],
  foreign: ReadonlyMap<string, string> | null,
  families?: readonly ('ipv4' | 'ipv6')[],
): TableView {
  const layout = layoutFor(config, families);
  return {
    configured: new Set(Object.keys(layout.tables)),
    symbolsChecked: foreign !== null,
    judge: (tables) => {
      const widened = renderableLayout(layout, tables, foreign ?? undefined);
      const problems = new Map(widened.refused.map((r) => [r.table, r.reason]));
      const protocols = ownedProtocols(renderableLayout(layout, tables).layout);
      return new Map(
        tables.map((table) => {
          const problem = problems.get(table);
          const names = protocols.filter((p) => p.table === table).map((p) => p.name);
          return [table, problem === undefined ? { protocols: names } : { protocols: names, problem }];
        }),
      );
    },
  };
}

/** BIRD 1.6 runs IPv4 and IPv6 in two daemons: one injector each, routes split by family. */
class SplitInjector implements RouteInjector {
  constructor(
    private readonly v4: RouteInjector,
    private readonly v6: RouteInjector,
  ) {}
  async set(routes: readonly DesiredRoute[], tables: readonly string[]): Promise<ApplyResult> {
    const [a, b] = await Promise.allSettled([
      this.v4.set(
        routes.filter((r) => r.family === 'ipv4'),
        tables,
      ),
      this.v6.set(
        routes.filter((r) => r.family === 'ipv6'),
        tables,
      ),
    ]);
    if (a.status === 'fulfilled' && b.status === 'fulfilled') {
      const enabled = [...(a.value.enabled ?? []), ...(b.value.enabled ?? [])];
      return { refused: [...a.value.refused, ...b.value.refused], ...(enabled.length ? { enabled } : {}) };
    }
    // The first failure, with every protocol either daemon disabled as a fail-safe.
    const failures = [a, b].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const first = failures[0];
    const disabled = failures.flatMap((f) => (f instanceof InjectorFailure ? f.disabled : []));
    if (!(first instanceof InjectorFailure) || disabled.length === first.disabled.length) throw first;
    throw new InjectorFailure(first.kind, first.code, first.message, {
      cause: first.cause,
      disabled,
      ...(first.failSafeError === undefined ? {} : { failSafeError: first.failSafeError }),
    });
  }
  async held(): Promise<HeldRoutes> {
    const [a, b] = await Promise.all([this.v4.held(), this.v6.held()]);
    return { routes: [...a.routes, ...b.routes] };
  }
  async reconcile(): Promise<ReconcileResult> {
    const results = await Promise.all([this.v4.reconcile(), this.v6.reconcile()]);
    const enabled = results.flatMap((r) => (r ? (r.enabled ?? []) : []));
    const repaired = results.flatMap((r, i) =>
      r?.repaired ? [`${i ? 'IPv6' : 'IPv4'} BIRD: ${r.repaired}`] : [],
    );
    return {
      ...(enabled.length ? { enabled } : {}),
      ...(repaired.length ? { repaired: repaired.join('; ') } : {}),
    };
  }
  async exports(): Promise<RouteExport[] | null> {
    const [a, b] = await Promise.all([this.v4.exports?.(), this.v6.exports?.()]);
    return a && b ? [...a, ...b] : null;
  }
}

/**
 * The injector for the agent's config, the BIRD client(s) behind it (to close on stop), and `tables()`,
 * which reads BIRD's symbols (null when BIRD cannot be read) for the rule-set check's view of the tables.
 */
export function birdPort(
  config: AgentConfig['bird'],
  logger: Logger,
  onConnectionLost: () => void = () => undefined,
): { port: RouteInjector; clients: BirdClient[]; tables: () => Promise<TableView> } {
  const clients: BirdClient[] = [];
  const injectors: BirdRouteInjector[] = [];
  const make = (socketPath: string, includePath: string, families?: readonly ('ipv4' | 'ipv6')[]) => {
    // A hung BIRD counts as unreachable after bird.timeoutMs; configure keeps bird-client's 5 s.
    const options = { socketPath, logger, answerTimeoutMs: config.timeoutMs, onConnectionLost };
    const client = new BirdClient(options);
    // Read-backs (reconcile, export checks, status) on a connection of their own: a change never waits
    // behind one in the line of the first.
    const readClient = new BirdClient(options);
    clients.push(client, readClient);
    const injector = new BirdRouteInjector({
      client,
      readClient,
      includePath,
      layout: layoutFor(config, families),
      logger,
    });
    injectors.push(injector);
    return injector;
  };
  const families = config.dialect === 'bird1' && !config.socket6 ? (['ipv4'] as const) : undefined;
  const tables = async () => {
    try {
      const foreign = new Map<string, string>();
      for (const injector of injectors)
        for (const [k, v] of await injector.foreignSymbols()) foreign.set(k, v);
      return tableView(config, foreign, families);
    } catch {
      return tableView(config, null, families);
    }
  };
  if (config.dialect === 'bird2') {
    const injector = make(config.socket, config.include);
    return { port: new BirdInjectorPort(injector), clients, tables };
  }
  if (!config.socket6) {
    const injector = make(config.socket, config.include, ['ipv4']);
    return { port: new BirdInjectorPort(injector), clients, tables };
  }
  const v4 = make(config.socket, config.include, ['ipv4']);
  const v6 = make(config.socket6, config.include.replace(/(\.conf)?$/, '6$1'), ['ipv6']);
  return { port: new SplitInjector(new BirdInjectorPort(v4), new BirdInjectorPort(v6)), clients, tables };
}
