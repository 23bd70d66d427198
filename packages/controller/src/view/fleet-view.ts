import type { FleetMatrix, MatrixNode, NodeStatus } from '@rhi/contracts';
import { factConditions, trackAlerts, type Alert, type AlertCondition } from '../fleet/alerts.js';
import { Fleet, type HeartbeatOutcome, type IngestOutcome, type NodeRecord } from '../fleet/fleet.js';
import { sameContent } from '../fleet/ingest.js';
import { nodeOf } from '../fleet/judge.js';
import type { VipView } from '../fleet/vip-view.js';
import type { RolloutProgress } from '../rollout/progress.js';
import { FleetIndex } from './fleet-index.js';
import { nodeSummary, type NodeSummary, type VipSummary } from './summaries.js';

/** What the view is built with. */
export interface FleetViewOptions {
  /** The agents' heartbeat interval: a node silent for 3 of them is lost. */
  readonly heartbeatMs: number;
  /** The fewest advertisers a VIP should have. */
  readonly minimum: (id: string) => number;
  readonly now: () => number;
}

/** A change of the view, for the live stream: what changed, identified by a number that only grows. */
export interface ViewChange {
  readonly id: number;
  readonly kind: 'node' | 'alertOpened' | 'alertClosed' | 'rollout';
  readonly subject: string;
  readonly data: unknown;
}

/**
 * The read model the API serves: the fleet, its VIPs and alerts, kept up to date one status at a time (a
 * {@link FleetIndex}); a heartbeat, or a status repeated, only moves the node's liveness.
 */
export class FleetView {
  private readonly fleet = new Fleet();
  private readonly index: FleetIndex;
  private open = new Map<string, Alert>();
  private changeId = 0;
  private readonly listeners = new Set<(change: ViewChange) => void>();
  private readonly recent: ViewChange[] = [];

  constructor(private readonly options: FleetViewOptions) {
    this.index = new FleetIndex({ heartbeatMs: options.heartbeatMs, minimum: options.minimum });
  }

  /** Takes one status message (live, or from the stream at start) stored at `storedAt`. */
  ingest(subject: string, payload: unknown, storedAt: number): IngestOutcome {
    const before = this.fleet.get(nodeOf(subject))?.status;
    const outcome = this.fleet.ingest(subject, payload, storedAt);
    if (!outcome.accepted) return outcome;
    const record = this.fleet.get(outcome.node)!;
    const changed = !before || !sameContent(before, record.status);
    this.index.apply(record, changed);
    if (changed) this.emit('node', outcome.node, { node: outcome.node });
    return outcome;
  }

  /** Takes one heartbeat (live, or from the stream at start) stored at `storedAt`: only liveness moves. */
  heartbeat(subject: string, payload: unknown, storedAt: number): HeartbeatOutcome {
    const outcome = this.fleet.heartbeat(subject, payload, storedAt);
    if (outcome.accepted && outcome.record) this.index.heard(outcome.record);
    return outcome;
  }

  /** Every VIP with every node's part: O(the whole view), for tests and small fleets; the API uses the two below. */
  vips(): VipView[] {
    const now = this.options.now();
    return this.index.ids().map((id) => this.index.vip(id, now)!);
  }

  /** Every VIP's summary, by id: O(VIPs). */
  vipSummaries(): VipSummary[] {
    return this.index.summaries(this.options.now());
  }

  /** One VIP with every node's part: O(its nodes). */
  vip(id: string): VipView | undefined {
    return this.index.vip(id, this.options.now());
  }

  nodes(): NodeSummary[] {
    const now = this.options.now();
    return this.fleet.all().map((r) => nodeSummary(r, now, this.options.heartbeatMs));
  }

  /**
   * The VIP x node matrix: every VIP row, with a cell per node of `names` (every node, by name, when not
   * given; names no node has are left out). O(VIPs x nodes asked).
   */
  matrix(names?: readonly string[]): Omit<FleetMatrix, 'generatedAt' | 'stale'> {
    const now = this.options.now();
    const records = (
      names
        ? names.flatMap((n) => this.fleet.get(n) ?? [])
        : this.fleet.all().sort((a, b) => (a.status.node < b.status.node ? -1 : 1))
    ).map((r) => nodeSummary(r, now, this.options.heartbeatMs));
    const nodes: MatrixNode[] = records.map(
      ({ agentVersion: _v, routes: _r, desired: _d, ruleSet, ...head }) => ({
        ...head,
        ruleSet: ruleSet && { serial: ruleSet.serial, hash: ruleSet.hash },
      }),
    );
    const rows = this.index.matrixRows(
      nodes.map((n) => n.name),
      now,
    );
    return {
      vips: rows.map(({ summary: { states: _s, ...head }, cells }) => ({ ...head, cells })),
      nodes,
      changeId: this.changeId,
    };
  }

  node(name: string): { summary: NodeSummary; status: NodeStatus } | undefined {
    const record: NodeRecord | undefined = this.fleet.get(name);
    if (!record) return undefined;
    return {
      summary: nodeSummary(record, this.options.now(), this.options.heartbeatMs),
      status: record.status,
    };
  }

  /** Every node's summary with its last status (what a what-if simulates). */
  nodeStatuses(): { summary: NodeSummary; status: NodeStatus }[] {
    const now = this.options.now();
    return this.fleet
      .all()
      .map((r) => ({ summary: nodeSummary(r, now, this.options.heartbeatMs), status: r.status }));
  }

  get nodeCount(): number {
    return this.fleet.size;
  }

  /** Nodes lost now. */
  lostCount(): number {
    return this.index.lostCount(this.options.now());
  }

  /**
   * Re-evaluates the alert conditions (on a timer, and after changes): returns the alerts that opened and
   * closed since the last evaluation. `flapThreshold`: the transitions in the window that make a node
   * flapping (default 6). `more`: conditions known outside the view (a node's rule-set rejection).
   */
  evaluateAlerts(
    transitions?: ReadonlyMap<string, number>,
    flapThreshold?: number,
    more: readonly AlertCondition[] = [],
  ): { opened: Alert[]; closed: Alert[] } {
    const now = this.options.now();
    const conditions = [
      ...factConditions(this.index.facts(now), {
        now,
        heartbeatMs: this.options.heartbeatMs,
        ...(transitions ? { transitions } : {}),
        ...(flapThreshold === undefined ? {} : { flapThreshold }),
      }),
      ...more,
    ];
    const { open, opened, closed } = trackAlerts(this.open, conditions, now);
    this.open = open;
    for (const a of opened) this.emit('alertOpened', a.key, a);
    for (const a of closed) this.emit('alertClosed', a.key, a);
    return { opened, closed };
  }

  alerts(): Alert[] {
    return [...this.open.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** A rollout moved (read from the rollout bucket by every replica): a `rollout` change on the stream. */
  rolloutChanged(progress: RolloutProgress): void {
    this.emit('rollout', progress.id, progress);
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
