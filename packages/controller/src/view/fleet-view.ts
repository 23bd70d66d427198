import type { NodeStatus } from '@rhi/contracts';
import { trackAlerts, alertConditions, type Alert } from '../fleet/alerts.js';
import { Fleet, type IngestOutcome, type NodeRecord } from '../fleet/fleet.js';
import { vipViews, type VipView } from '../fleet/vip-view.js';
import { nodeSummary, vipSummary, type NodeSummary, type VipSummary } from './summaries.js';

/** What the view is built with. */
export interface FleetViewOptions {
  /** The agents' heartbeat interval: a node silent for 3 of them is lost. */
  readonly heartbeatMs: number;
  /** The fewest advertisers a VIP should have. */
  readonly minimum: (id: string) => number;
  readonly now: () => number;
}

const contentOf = ({ time: _t, seq: _s, ...rest }: NodeStatus) => JSON.stringify(rest);

/** A change of the view, for the live stream: what changed, identified by a number that only grows. */
export interface ViewChange {
  readonly id: number;
  readonly kind: 'node' | 'alertOpened' | 'alertClosed';
  readonly subject: string;
  readonly data: unknown;
}

/** The read model the API serves: the fleet, its VIPs and alerts, recomputed only when something changed. */
export class FleetView {
  private readonly fleet = new Fleet();
  private version = 0;
  private cached: { version: number; second: number; vips: VipView[] } | null = null;
  private open = new Map<string, Alert>();
  private changeId = 0;
  private readonly listeners = new Set<(change: ViewChange) => void>();
  private readonly recent: ViewChange[] = [];

  constructor(private readonly options: FleetViewOptions) {}

  /** Takes one status message (live, or from the stream at start) stored at `storedAt`. */
  ingest(subject: string, payload: unknown, storedAt: number): IngestOutcome {
    const before = this.fleet.get(subject.slice(subject.lastIndexOf('.') + 1))?.status;
    const outcome = this.fleet.ingest(subject, payload, storedAt);
    // A heartbeat repeats the status with a new time and seq: only a change recomputes the view (the
    // liveness it moves is recomputed every second anyway).
    if (
      outcome.accepted &&
      (!before || contentOf(before) !== contentOf(this.fleet.get(outcome.node)!.status))
    ) {
      this.version++;
      this.emit('node', outcome.node, { node: outcome.node });
    }
    return outcome;
  }

  /** Every VIP, recomputed when a status arrived or a second passed (liveness depends on the time). */
  vips(): VipView[] {
    const now = this.options.now();
    const second = Math.floor(now / 1000);
    if (this.cached?.version === this.version && this.cached.second === second) return this.cached.vips;
    const vips = vipViews(this.fleet.all(), {
      now,
      heartbeatMs: this.options.heartbeatMs,
      minimum: this.options.minimum,
    });
    this.cached = { version: this.version, second, vips };
    return vips;
  }

  vipSummaries(): VipSummary[] {
    return this.vips().map(vipSummary);
  }

  vip(id: string): VipView | undefined {
    return this.vips().find((v) => v.id === id);
  }

  nodes(): NodeSummary[] {
    const now = this.options.now();
    return this.fleet.all().map((r) => nodeSummary(r, now, this.options.heartbeatMs));
  }

  node(name: string): { summary: NodeSummary; status: NodeStatus } | undefined {
    const record: NodeRecord | undefined = this.fleet.get(name);
    if (!record) return undefined;
    return {
      summary: nodeSummary(record, this.options.now(), this.options.heartbeatMs),
      status: record.status,
    };
  }

  get nodeCount(): number {
    return this.fleet.size;
  }

  /**
   * Re-evaluates the alert conditions (on a timer, and after changes): returns the alerts that opened and
   * closed since the last evaluation.
   */
  evaluateAlerts(transitions?: ReadonlyMap<string, number>): { opened: Alert[]; closed: Alert[] } {
    const now = this.options.now();
    const conditions = alertConditions(this.vips(), this.fleet.all(), {
      now,
      heartbeatMs: this.options.heartbeatMs,
      ...(transitions ? { transitions } : {}),
    });
    const { open, opened, closed } = trackAlerts(this.open, conditions, now);
    this.open = open;
    for (const a of opened) this.emit('alertOpened', a.key, a);
    for (const a of closed) this.emit('alertClosed', a.key, a);
    return { opened, closed };
  }

  alerts(): Alert[] {
    return [...this.open.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Calls `listener` with each change from now on; returns the function that stops it. */
  subscribe(listener: (change: ViewChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The changes after `id` still remembered (the last 1,000), or null when some are already forgotten. */
  changesSince(id: number): ViewChange[] | null {
    if (id >= this.changeId) return [];
    const first = this.recent[0];
    if (!first || first.id > id + 1) return null;
    return this.recent.filter((c) => c.id > id);
  }

  private emit(kind: ViewChange['kind'], subject: string, data: unknown): void {
    const change = { id: ++this.changeId, kind, subject, data };
    this.recent.push(change);
    if (this.recent.length > 1000) this.recent.shift();
    for (const l of this.listeners) l(change);
  }
}
