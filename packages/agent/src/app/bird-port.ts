import { BirdClient, BirdRouteInjector } from '@rhi/bird-client';
import type { IncludeLayout, StaticNextHop } from '@rhi/bird-client';
import type { Logger } from 'pino';
import { BirdInjectorPort } from '../adapters/bird-injector.js';
import type { AgentConfig } from '../config/schema.js';
import type { DesiredRoute } from '../core/planner.js';
import type { HeldRoutes, RouteInjector } from '../loop/ports.js';

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

/** BIRD 1.6 runs IPv4 and IPv6 in two daemons: one injector each, routes split by family. */
class SplitInjector implements RouteInjector {
  constructor(
    private readonly v4: RouteInjector,
    private readonly v6: RouteInjector,
  ) {}
  async set(routes: readonly DesiredRoute[]): Promise<void> {
    await Promise.all([
      this.v4.set(routes.filter((r) => r.family === 'ipv4')),
      this.v6.set(routes.filter((r) => r.family === 'ipv6')),
    ]);
  }
  async held(): Promise<HeldRoutes> {
    const [a, b] = await Promise.all([this.v4.held(), this.v6.held()]);
    return { routes: [...a.routes, ...b.routes] };
  }
  async reconcile(): Promise<void> {
    await Promise.all([this.v4.reconcile(), this.v6.reconcile()]);
  }
}

/** The injector for the agent's config, and the BIRD client(s) behind it (to close on stop). */
export function birdPort(
  config: AgentConfig['bird'],
  logger: Logger,
): { port: RouteInjector; clients: BirdClient[] } {
  const clients: BirdClient[] = [];
  const make = (socketPath: string, includePath: string, families?: readonly ('ipv4' | 'ipv6')[]) => {
    const client = new BirdClient({ socketPath, logger });
    clients.push(client);
    return new BirdRouteInjector({ client, includePath, layout: layoutFor(config, families), logger });
  };
  if (config.dialect === 'bird2') {
    const injector = make(config.socket, config.include);
    return { port: new BirdInjectorPort(injector), clients };
  }
  if (!config.socket6) {
    const injector = make(config.socket, config.include, ['ipv4']);
    return { port: new BirdInjectorPort(injector), clients };
  }
  const v4 = make(config.socket, config.include, ['ipv4']);
  const v6 = make(config.socket6, config.include.replace(/(\.conf)?$/, '6$1'), ['ipv6']);
  return { port: new SplitInjector(new BirdInjectorPort(v4), new BirdInjectorPort(v6)), clients };
}
