import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ALERT_KINDS } from './fleet/alerts.js';
import type { FleetView } from './view/fleet-view.js';

/** The controller's Prometheus metrics; the view's gauges are read when scraped. */
export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly statuses = new Counter({
    name: 'rhi_controller_statuses_total',
    help: 'Status messages ingested, by result (accepted, or dropped: schema, subject, stale)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly heartbeats = new Counter({
    name: 'rhi_controller_heartbeats_total',
    help: 'Heartbeats ingested, by result (accepted, or dropped: schema, subject, stale)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly statusRequests = new Counter({
    name: 'rhi_controller_status_requests_total',
    help: 'Nodes asked for their status again (rhi.v1.resend.<node>): their heartbeats vouched for one not held',
    registers: [this.registry],
  });
  private readonly lag = new Histogram({
    name: 'rhi_controller_ingest_lag_seconds',
    help: 'From an agent publishing a status or heartbeat (its time) to the controller taking it, by message',
    labelNames: ['message'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly healthReports = new Counter({
    name: 'rhi_controller_health_reports_total',
    help: 'Health reports ingested, by result (accepted, or dropped: schema, subject, stale)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly leaseHeldGauge = new Gauge({
    name: 'rhi_controller_lease_held',
    help: 'Whether this replica holds the lease (1) and does the once-only work, such as publishing alerts',
    registers: [this.registry],
  });
  private readonly leaseChanges = new Counter({
    name: 'rhi_controller_lease_changes_total',
    help: 'Times this replica acquired or lost the lease',
    labelNames: ['change'] as const,
    registers: [this.registry],
  });
  private readonly alertEvents = new Counter({
    name: 'rhi_controller_alert_events_total',
    help: 'Alert events this replica published to the timeline, by event and result (stored, duplicate)',
    labelNames: ['event', 'result'] as const,
    registers: [this.registry],
  });

  private readonly bound: Partial<
    Record<'status' | 'heartbeat', { accepted: Counter.Internal; lag: Histogram.Internal<'message'> }>
  > = {};

  constructor(view: FleetView, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    new Gauge({
      name: 'rhi_controller_vip_advertisers',
      help: 'Nodes advertising each VIP (BIRD holds it and sends it), against rhi_controller_vip_minimum',
      labelNames: ['vip'] as const,
      registers,
      collect() {
        this.reset();
        for (const v of view.vipSummaries()) this.set({ vip: v.id }, v.advertisers);
      },
    });
    new Gauge({
      name: 'rhi_controller_vip_minimum',
      help: 'The fewest advertisers each VIP should have',
      labelNames: ['vip'] as const,
      registers,
      collect() {
        this.reset();
        for (const v of view.vipSummaries()) this.set({ vip: v.id }, v.minimum);
      },
    });
    new Gauge({
      name: 'rhi_controller_nodes',
      help: 'Nodes by state (up, lost)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const lost = view.lostCount();
        this.set({ state: 'up' }, view.nodeCount - lost);
        this.set({ state: 'lost' }, lost);
      },
    });
    new Gauge({
      name: 'rhi_controller_alerts',
      help: 'Open alerts by kind',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const open = view.alerts();
        for (const kind of ALERT_KINDS) this.set({ kind }, open.filter((a) => a.kind === kind).length);
      },
    });
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'rhi_controller_' });
  }

  /**
   * Counts one status or heartbeat taken or dropped; `publishedAt` is the message's own time (epoch ms), when
   * it had one.
   */
  ingested(
    message: 'status' | 'heartbeat',
    outcome: { readonly accepted: true } | { readonly accepted: false; readonly reason: string },
    publishedAt: number | undefined,
    now: number,
  ): void {
    const counter = message === 'status' ? this.statuses : this.heartbeats;
    if (!outcome.accepted) counter.inc({ result: outcome.reason });
    else {
      // Bound once: a fleet's heartbeats come by the thousand a second.
      const bound = (this.bound[message] ??= {
        accepted: counter.labels('accepted'),
        lag: this.lag.labels(message),
      });
      bound.accepted.inc();
      if (publishedAt !== undefined) bound.lag.observe(Math.max(0, now - publishedAt) / 1000);
    }
  }

  /** One node asked for its status again. */
  statusRequested(): void {
    this.statusRequests.inc();
  }

  /** Counts one health report: `accepted`, or the reason it was dropped. */
  healthReport(result: string): void {
    this.healthReports.inc({ result });
  }

  /** The lease was acquired or lost. */
  lease(change: 'acquired' | 'lost'): void {
    this.leaseHeldGauge.set(change === 'acquired' ? 1 : 0);
    this.leaseChanges.inc({ change });
  }

  /** One alert event published; `duplicate` when the stream already had it. */
  alertEvent(event: string, duplicate: boolean): void {
    this.alertEvents.inc({ event, result: duplicate ? 'duplicate' : 'stored' });
  }

  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
