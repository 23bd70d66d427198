import { routeId } from '@rhi/contracts';
import type { RouteStatus } from '@rhi/contracts';
import type { FleetFacts } from '../fleet/alerts.js';
import { DeadlineHeap } from '../fleet/deadline-heap.js';
import type { NodeRecord } from '../fleet/fleet.js';
import { LOST_AFTER_HEARTBEATS } from '../fleet/liveness.js';
import { classify, vipNode, type VipNodeState, type VipView } from '../fleet/vip-view.js';
import { matrixCell } from './matrix-cell.js';
import type { VipSummary } from './summaries.js';

/** What the index is built with. */
export interface FleetIndexOptions {
  readonly heartbeatMs: number;
  /** The fewest advertisers a VIP should have (read once per VIP: the configuration does not change). */
  readonly minimum: (id: string) => number;
}

interface NodeEntry {
  record: NodeRecord;
  /** The node's routes by VIP id. */
  routes: Map<string, RouteStatus>;
  /** Lost as of the last `advance`; a lost node counts nowhere but in `stale` and the lost list. */
  lost: boolean;
  /** The deadline this node has in the heap, or null when it has none (lost). */
  queued: number | null;
}

interface VipEntry {
  readonly id: string;
  readonly table: string;
  readonly prefix: string;
  readonly family: RouteStatus['family'];
  readonly minimum: number;
  /** Each node's route for this VIP, by node. */
  readonly routes: Map<string, RouteStatus>;
  readonly states: Record<VipNodeState, number>;
  /** The node names in order, until one joins or leaves. */
  sorted: string[] | null;
}

const byName = (a: string, b: string) => a.localeCompare(b);
const emptyStates = (): Record<VipNodeState, number> => ({
  advertising: 0,
  'not-sent': 0,
  drift: 0,
  withdrawn: 0,
  unknown: 0,
  stale: 0,
});
const stateOf = (route: RouteStatus, lost: boolean): VipNodeState =>
  lost ? 'stale' : classify(route, false).state;
const hashOf = (record: NodeRecord) => record.status.ruleSet?.hash ?? 'none';

/**
 * The VIP view kept up to date one status at a time: a changed status costs work in proportion to that
 * node's routes, a heartbeat only moves the node's deadline, and a node turning lost costs its routes
 * once. Per VIP it keeps each node's route and the count of nodes in each state, so the VIP list is
 * O(VIPs) and one VIP O(its nodes). Equals `vipViews` and `fleetFacts` recomputed from every record
 * (test/fleet-index.test.ts). Pure: the caller gives the time; the clock should not go back (if it does,
 * every node is judged again).
 */
export class FleetIndex {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly vipEntries = new Map<string, VipEntry>();
  private vipIds: string[] | null = null;
  private readonly deadlines = new DeadlineHeap();
  private readonly lostNodes = new Set<string>();
  private readonly drift = new Map<string, string[]>();
  private readonly ruleSets = new Map<string, number>();
  private now = -Infinity;
  private readonly lostAfterMs: number;

  constructor(private readonly options: FleetIndexOptions) {
    this.lostAfterMs = LOST_AFTER_HEARTBEATS * options.heartbeatMs;
  }

  /**
   * Takes a node's new record. `changed` is false for a heartbeat (the same status with a new time and
   * seq): then only the node's liveness moves.
   */
  apply(record: NodeRecord, changed: boolean): void {
    const name = record.status.node;
    let entry = this.nodes.get(name);
    if (!entry) {
      // Counted nowhere yet: like a lost node without routes, which `update` turns up.
      entry = { record, routes: new Map(), lost: true, queued: null };
      this.nodes.set(name, entry);
      this.update(entry, record, routesById(record), false);
    } else if (changed) this.update(entry, record, routesById(record), false);
    else if (entry.lost) this.update(entry, record, entry.routes, false);
    else entry.record = record;
    this.schedule(entry);
  }

  /**
   * A heartbeat moved on `record` (one `apply` was given) in place: only a lost node has anything to
   * change, turning up; the others' deadlines are read again as they come due (`advance`). O(1) while no
   * node is lost: the fleet's heartbeats come by the thousand a second.
   */
  heard(record: NodeRecord): void {
    if (this.lostNodes.size > 0 && this.lostNodes.has(record.status.node)) this.apply(record, false);
  }

  /** Turns lost the nodes silent for more than 3 heartbeats at `now`: O(nodes whose deadline passed). */
  advance(now: number): void {
    if (now < this.now) {
      this.rejudge(now);
      return;
    }
    this.now = now;
    for (let key = this.deadlines.peek(); key !== undefined && now > key; key = this.deadlines.peek()) {
      const { name } = this.deadlines.pop()!;
      const entry = this.nodes.get(name)!;
      if (entry.queued !== key) continue;
      entry.queued = null;
      const deadline = entry.record.receivedAt + this.lostAfterMs;
      if (now > deadline) this.update(entry, entry.record, entry.routes, true);
      else this.schedule(entry);
    }
  }

  /** Every VIP's summary, by id. */
  summaries(now: number): VipSummary[] {
    this.advance(now);
    return this.ids().map((id) => summary(this.vipEntries.get(id)!));
  }

  /** One VIP with every node's part, or undefined when no node has a rule for it. */
  vip(id: string, now: number): VipView | undefined {
    this.advance(now);
    const vip = this.vipEntries.get(id);
    if (!vip) return undefined;
    vip.sorted ??= [...vip.routes.keys()].sort(byName);
    const nodes = vip.sorted.map((name) => vipNode(name, vip.routes.get(name)!, this.nodes.get(name)!.lost));
    return {
      id,
      table: vip.table,
      prefix: vip.prefix,
      family: vip.family,
      advertisers: vip.states.advertising,
      minimum: vip.minimum,
      nodes,
    };
  }

  /**
   * Every VIP row with one cell per node of `names` (in that order): O(VIPs x names). The caller gives
   * names the index knows.
   */
  matrixRows(names: readonly string[], now: number): { summary: VipSummary; cells: string }[] {
    this.advance(now);
    const entries = names.map((n) => this.nodes.get(n)!);
    return this.ids().map((id) => {
      const vip = this.vipEntries.get(id)!;
      let cells = '';
      for (const e of entries)
        cells += matrixCell(vip.routes.get(e.record.status.node), e.lost, e.record.status.drain.drained);
      return { summary: summary(vip), cells };
    });
  }

  /** The VIP ids, in order. */
  ids(): string[] {
    this.vipIds ??= [...this.vipEntries.keys()].sort(byName);
    return this.vipIds;
  }

  /** What the alert rules judge, at `now`. */
  facts(now: number): FleetFacts {
    this.advance(now);
    return {
      vips: this.summaries(now),
      drift: this.drift,
      lost: [...this.lostNodes].map((node) => ({
        node,
        receivedAt: this.nodes.get(node)!.record.receivedAt,
      })),
      ruleSets: this.ruleSets,
    };
  }

  /** Nodes lost at `now`. */
  lostCount(now: number): number {
    this.advance(now);
    return this.lostNodes.size;
  }

  private schedule(entry: NodeEntry): void {
    const deadline = entry.record.receivedAt + this.lostAfterMs;
    if (entry.queued !== null && entry.queued <= deadline) return;
    this.deadlines.push(deadline, entry.record.status.node);
    entry.queued = deadline;
  }

  private rejudge(now: number): void {
    this.now = now;
    for (const entry of this.nodes.values()) {
      const lost = now > entry.record.receivedAt + this.lostAfterMs;
      if (lost === entry.lost) continue;
      this.update(entry, entry.record, entry.routes, lost);
      if (!lost) this.schedule(entry);
    }
  }

  /** Moves the node from what it counted for to what `record`, `routes` and `lost` make it count for. */
  private update(
    entry: NodeEntry,
    record: NodeRecord,
    routes: Map<string, RouteStatus>,
    lost: boolean,
  ): void {
    const name = record.status.node;
    for (const [id, before] of entry.routes) {
      const after = routes.get(id);
      const vip = this.vipEntries.get(id)!;
      vip.states[stateOf(before, entry.lost)]--;
      if (after) {
        vip.states[stateOf(after, lost)]++;
        vip.routes.set(name, after);
      } else this.leave(vip, name);
    }
    for (const [id, after] of routes) {
      if (entry.routes.has(id)) continue;
      const vip = this.join(id, after, name);
      vip.states[stateOf(after, lost)]++;
    }
    if (!entry.lost) this.count(hashOf(entry.record), -1);
    if (!lost) this.count(hashOf(record), 1);
    const drift = lost ? [] : [...routes].filter(([, r]) => stateOf(r, false) === 'drift').map(([id]) => id);
    if (drift.length > 0) this.drift.set(name, drift.sort(byName));
    else this.drift.delete(name);
    if (lost) this.lostNodes.add(name);
    else this.lostNodes.delete(name);
    entry.record = record;
    entry.routes = routes;
    entry.lost = lost;
  }

  private join(id: string, route: RouteStatus, name: string): VipEntry {
    let vip = this.vipEntries.get(id);
    if (!vip) {
      vip = {
        id,
        table: route.table,
        prefix: route.prefix,
        family: route.family,
        minimum: this.options.minimum(id),
        routes: new Map(),
        states: emptyStates(),
        sorted: null,
      };
      this.vipEntries.set(id, vip);
      this.vipIds = null;
    }
    vip.routes.set(name, route);
    vip.sorted = null;
    return vip;
  }

  private leave(vip: VipEntry, name: string): void {
    vip.routes.delete(name);
    vip.sorted = null;
    if (vip.routes.size > 0) return;
    this.vipEntries.delete(vip.id);
    this.vipIds = null;
  }

  private count(hash: string, by: number): void {
    const n = (this.ruleSets.get(hash) ?? 0) + by;
    if (n === 0) this.ruleSets.delete(hash);
    else this.ruleSets.set(hash, n);
  }
}

function routesById(record: NodeRecord): Map<string, RouteStatus> {
  return new Map(record.status.routes.map((r) => [routeId(r), r]));
}

function summary(vip: VipEntry): VipSummary {
  const states: Partial<Record<VipNodeState, number>> = {};
  for (const [state, n] of Object.entries(vip.states) as [VipNodeState, number][])
    if (n > 0) states[state] = n;
  return {
    id: vip.id,
    table: vip.table,
    prefix: vip.prefix,
    family: vip.family,
    advertisers: vip.states.advertising,
    minimum: vip.minimum,
    nodes: vip.routes.size,
    states,
  };
}
