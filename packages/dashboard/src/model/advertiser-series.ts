import { MATRIX_CELLS, type MatrixCell } from '@rhi/contracts/fleet';
import type { MatrixState } from './matrix-state.js';
import { ROUTE_TRANSITIONS, type TimelineItem } from './timeline-items.js';

/** The most VIPs one chart draws when none is chosen. */
export const MAX_SERIES = 4;

/** One VIP's advertiser count over the window, as steps on {@link AdvertiserSeries.times}. */
export interface VipSeries {
  readonly vip: string;
  /** The count from each time of {@link AdvertiserSeries.times} to the next. */
  readonly counts: readonly number[];
  /** Its minimum, when the matrix names the VIP. */
  readonly minimum: number | null;
  readonly transitions: number;
  readonly lowest: { readonly count: number; readonly at: number };
}

/** Advertisers per VIP over a window: steps on times shared by every VIP's series. */
export interface AdvertiserSeries {
  /** The window's start, each time a count changed, and the window's end (epoch ms), ascending. */
  readonly times: readonly number[];
  readonly series: readonly VipSeries[];
}

/**
 * The VIPs to draw: `chosen` when it names one; else the (at most `max`) VIPs with the most route
 * transitions among `items` whose id contains `part`, most first, then by id. Pure.
 */
export function pickVips(items: readonly TimelineItem[], chosen: string, max = MAX_SERIES): string[] {
  const text = chosen.trim();
  const counts = new Map<string, number>();
  for (const i of items)
    if (ROUTE_TRANSITIONS.has(i.kind) && i.vip !== null) counts.set(i.vip, (counts.get(i.vip) ?? 0) + 1);
  if (counts.has(text)) return [text];
  return [...counts]
    .filter(([vip]) => vip.toLowerCase().includes(text.toLowerCase()))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([vip]) => vip);
}

interface NodeTrack {
  advertising: boolean;
  lost: boolean;
}

const counted = (t: NodeTrack) => t.advertising && !t.lost;

/**
 * Each VIP's advertisers over `[since, until]`, rebuilt node by node from the timeline, since its events
 * carry no count: a node advertises the VIP from its `routeAnnounced` to its `routeWithdrawn`, and never
 * while its `nodeLost` alert is open. Before its first such event in the window a node was in the state
 * that event left (a withdrawal: it advertised); a node with none is taken as the matrix shows it now
 * (`matrix`: advertising cells `A`/`h`, lost nodes not counted). `items` oldest first. Pure.
 */
export function advertiserSeries(
  items: readonly TimelineItem[],
  vips: readonly string[],
  matrix: MatrixState | null,
  since: number,
  until: number,
): AdvertiserSeries {
  const lostEvents = items.filter(
    (i) => i.alertKind === 'nodeLost' && i.node !== null && i.at >= since && i.at <= until,
  );
  const steps = vips.map((vip) => {
    const row = matrix?.vips.find((v) => v.id === vip);
    const routeEvents = items.filter(
      (i) =>
        i.vip === vip && ROUTE_TRANSITIONS.has(i.kind) && i.node !== null && i.at >= since && i.at <= until,
    );
    const tracks = new Map<string, NodeTrack>();
    const track = (node: string) => {
      let t = tracks.get(node);
      if (t) return t;
      const column = matrix ? matrix.nodes.findIndex((n) => n.name === node) : -1;
      const cell = (column >= 0 ? row?.cells[column] : undefined) as MatrixCell | undefined;
      const firstRoute = routeEvents.find((i) => i.node === node);
      const firstLost = lostEvents.find((i) => i.node === node);
      t = {
        advertising: firstRoute
          ? firstRoute.kind === 'routeWithdrawn'
          : cell !== undefined && MATRIX_CELLS[cell]?.counts === true,
        lost: firstLost
          ? firstLost.kind === 'alertClosed'
          : column >= 0 && matrix!.nodes[column]!.state === 'lost',
      };
      tracks.set(node, t);
      return t;
    };
    if (row && matrix) matrix.nodes.forEach((n, i) => row.cells[i] !== '.' && track(n.name));
    for (const i of routeEvents) track(i.node!);
    const about = new Set(tracks.keys());
    const changes = [...routeEvents, ...lostEvents.filter((i) => about.has(i.node!))].sort(
      (a, b) => a.at - b.at || a.seq - b.seq,
    );
    let count = [...tracks.values()].filter(counted).length;
    const points: [number, number][] = [[since, count]];
    for (const i of changes) {
      const t = tracks.get(i.node!)!;
      if (counted(t)) count--;
      if (ROUTE_TRANSITIONS.has(i.kind)) t.advertising = i.kind === 'routeAnnounced';
      else t.lost = i.kind === 'alertOpened';
      if (counted(t)) count++;
      const last = points.at(-1)!;
      if (last[0] === i.at) last[1] = count;
      else points.push([i.at, count]);
    }
    return { vip, minimum: row?.minimum ?? null, transitions: routeEvents.length, points };
  });
  const times = [...new Set([since, ...steps.flatMap((s) => s.points.map((p) => p[0])), until])].sort(
    (a, b) => a - b,
  );
  const series = steps.map((s) => {
    const counts: number[] = [];
    let k = 0;
    for (const t of times) {
      while (k + 1 < s.points.length && s.points[k + 1]![0] <= t) k++;
      counts.push(s.points[k]![1]);
    }
    let lowest = { count: counts[0] ?? 0, at: times[0] ?? since };
    counts.forEach((c, j) => {
      if (c < lowest.count) lowest = { count: c, at: times[j]! };
    });
    return { vip: s.vip, counts, minimum: s.minimum, transitions: s.transitions, lowest };
  });
  return { times, series };
}

/**
 * The chart's text, one sentence per VIP: e.g. `vol1%198.18.200.1/32: 3 advertisers at the start, 2 at
 * the end, lowest 1 at 10:42 (minimum 2)`.
 */
export function advertiserSummary(s: AdvertiserSeries, timeText: (t: number) => string): string {
  if (s.series.length === 0) return 'no route transition in this range: no VIP to draw';
  return s.series
    .map((v) => {
      const first = v.counts[0] ?? 0;
      const last = v.counts.at(-1) ?? 0;
      const low =
        v.lowest.count < Math.min(first, last)
          ? `, lowest ${v.lowest.count} at ${timeText(v.lowest.at)}`
          : '';
      const min = v.minimum === null ? '' : ` (minimum ${v.minimum})`;
      return `${v.vip}: ${first} advertiser${first === 1 ? '' : 's'} at the start, ${last} at the end${low}${min}`;
    })
    .join('; ');
}
