import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentSnapshot, AgentTransition } from '../loop/ports.js';

/** The agent's Prometheus metrics, on a registry of its own. */
export class AgentMetrics {
  private lastRoutes: AgentSnapshot['routes'] | null = null;
  readonly registry = new Registry();
  private readonly advertised = new Gauge({
    name: 'rhi_route_advertised',
    help: 'Whether the agent asks BIRD to advertise the route (1) or not (0)',
    labelNames: ['table', 'prefix'] as const,
    registers: [this.registry],
  });
  private readonly decision = new Gauge({
    name: 'rhi_route_decision',
    help: "Whether the route's rule holds (1) or not (0), before damping and policies",
    labelNames: ['table', 'prefix'] as const,
    registers: [this.registry],
  });
  private readonly transitions = new Counter({
    name: 'rhi_route_transitions_total',
    help: 'Route announcements and withdrawals',
    labelNames: ['table', 'prefix', 'event'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'rhi_decision_latency_seconds',
    help: 'From a health event reaching the agent to BIRD holding the resulting routes',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly reachable = new Gauge({
    name: 'rhi_dependency_up',
    help: 'Whether a dependency answers and takes what it is given (haproxy, bird: 0 also while BIRD refuses its configuration, nats)',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  private readonly birdFailures = new Counter({
    name: 'rhi_bird_failures_total',
    help: 'Times BIRD became unreachable (kind unreachable) or started refusing its configuration (kind config)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly driftRepairs = new Counter({
    name: 'rhi_bird_drift_repairs_total',
    help: 'Reconciles that found BIRD or the include file differing from the routes in force, and repaired them',
    registers: [this.registry],
  });
  private readonly ringFollowed = new Gauge({
    name: 'rhi_event_ring_followed',
    help: "Whether HAProxy's event ring (haproxy.eventRing) is followed (1) or refused (0: changes seen at the poll interval only)",
    labelNames: ['ring'] as const,
    registers: [this.registry],
  });
  private readonly notExported = new Gauge({
    name: 'rhi_routes_not_exported',
    help: 'Routes BIRD holds for this node but sends to no router (BGP, OSPF, RIP, Babel), as last checked',
    registers: [this.registry],
  });
  private readonly drained = new Gauge({
    name: 'rhi_drained',
    help: 'Whether the node is drained',
    registers: [this.registry],
  });
  private readonly ruleSet = new Gauge({
    name: 'rhi_ruleset_info',
    help: 'The rule set in force (value 1), by hash, serial and source',
    labelNames: ['hash', 'serial', 'source'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true)
      // prom-client samples event-loop delay every 10 ms by default: 100 wake-ups a second, about 1 % of a
      // core on our 2-vCPU VM for an agent that otherwise wakes a few times a second. 1 s is plenty here.
      collectDefaultMetrics({
        register: this.registry,
        prefix: 'rhi_agent_',
        eventLoopMonitoringPrecision: 1000,
      });
  }

  /** Updates the gauges from a published snapshot. */
  observe(s: AgentSnapshot): void {
    this.observeRoutes(s.routes);
    this.reachable.set({ dependency: 'haproxy' }, s.haproxy.reachable ? 1 : 0);
    // BIRD refusing its configuration (`error` while reachable) blocks every change: as good as down.
    this.reachable.set({ dependency: 'bird' }, s.bird.reachable && s.bird.error === undefined ? 1 : 0);
    const ring = s.haproxy.eventRing;
    if (ring && ring.state !== 'pending')
      this.ringFollowed.set({ ring: ring.name }, ring.state === 'following' ? 1 : 0);
    this.drained.set(s.drained ? 1 : 0);
    this.notExported.set(s.exports ? s.exports.routes.filter((r) => r.to.length === 0).length : 0);
    this.ruleSet.reset();
    if (s.ruleSet)
      this.ruleSet.set(
        { hash: s.ruleSet.hash, serial: String(s.ruleSet.serial), source: s.ruleSet.source },
        1,
      );
  }

  /**
   * The per-route gauges. The loop hands out a route's picture again (the same object) while it does
   * not change: only the pictures that differ from the last ones are set, so that a change costs what it
   * touches. Another list of routes (a new rule set) sets them all again.
   */
  private observeRoutes(routes: AgentSnapshot['routes']): void {
    const last = this.lastRoutes;
    if (routes === last) return;
    this.lastRoutes = routes;
    const set = (r: (typeof routes)[number]) => {
      const labels = { table: r.table, prefix: r.prefix };
      this.advertised.set(labels, r.desired ? 1 : 0);
      this.decision.set(labels, r.decision ? 1 : 0);
    };
    if (last !== null && last.length === routes.length) {
      const changed = [];
      let sameRoutes = true;
      for (let i = 0; i < routes.length && sameRoutes; i++) {
        const r = routes[i] as (typeof routes)[number];
        const was = last[i] as (typeof routes)[number];
        if (r === was) continue;
        if (r.prefix !== was.prefix || r.table !== was.table) sameRoutes = false;
        else changed.push(r);
      }
      if (sameRoutes) {
        for (const r of changed) set(r);
        return;
      }
    }
    this.advertised.reset();
    this.decision.reset();
    for (const r of routes) set(r);
  }

  transition(t: AgentTransition): void {
    if ((t.event === 'routeAnnounced' || t.event === 'routeWithdrawn') && t.table && t.prefix) {
      this.transitions.inc({ table: t.table, prefix: t.prefix, event: t.event });
    }
    if (t.event === 'birdUnreachable') this.birdFailures.inc({ kind: 'unreachable' });
    if (t.event === 'birdConfigError') this.birdFailures.inc({ kind: 'config' });
    if (t.event === 'birdDriftRepaired') this.driftRepairs.inc();
  }

  natsConnected(up: boolean): void {
    this.reachable.set({ dependency: 'nats' }, up ? 1 : 0);
  }

  decisionLatency(seconds: number): void {
    this.latency.observe(seconds);
  }
}
