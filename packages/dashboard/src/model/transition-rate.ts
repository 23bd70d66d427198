import { ROUTE_TRANSITIONS, type TimelineItem } from './timeline-items.js';

/** The most buckets a chart draws: a longer range counts in buckets of several minutes. */
export const MAX_BUCKETS = 1440;

/** Route transitions counted per bucket of `minutes` minutes over a window. */
export interface TransitionRate {
  /** Each bucket's start (epoch ms), oldest first, every bucket of the window (zero counts too). */
  readonly starts: readonly number[];
  readonly counts: readonly number[];
  /** The bucket's length in minutes (1 unless the window holds more than {@link MAX_BUCKETS} minutes). */
  readonly minutes: number;
  readonly total: number;
  /** The fullest bucket (the first of equals), or null when there is none with a transition. */
  readonly peak: { readonly count: number; readonly at: number } | null;
}

/**
 * The route transitions (`routeAnnounced`, `routeWithdrawn`) among `items`, counted per minute (per
 * bucket of whole minutes, see {@link MAX_BUCKETS}) from `since` to `until`, buckets aligned on the
 * clock's minutes. Items outside the window are left out. Pure.
 */
export function transitionRate(
  items: readonly TimelineItem[],
  since: number,
  until: number,
  maxBuckets = MAX_BUCKETS,
): TransitionRate {
  const minute = 60_000;
  const spanMinutes = Math.max(1, Math.ceil((until - since) / minute));
  const minutes = Math.max(1, Math.ceil(spanMinutes / maxBuckets));
  const size = minutes * minute;
  const first = Math.floor(since / size) * size;
  const n = Math.max(1, Math.floor((until - first) / size) + 1);
  const counts = new Array<number>(n).fill(0);
  let total = 0;
  for (const i of items) {
    if (!ROUTE_TRANSITIONS.has(i.kind) || i.at < since || i.at > until) continue;
    const b = Math.floor((i.at - first) / size);
    counts[b] = (counts[b] ?? 0) + 1;
    total++;
  }
  const starts = counts.map((_, b) => first + b * size);
  let peak: TransitionRate['peak'] = null;
  counts.forEach((count, b) => {
    if (count > 0 && (peak === null || count > peak.count)) peak = { count, at: starts[b]! };
  });
  return { starts, counts, minutes, total, peak };
}

/** The chart's text: the total and the peak, e.g. `42 route transitions; peak 12 transitions/min at 10:42`. */
export function transitionRateSummary(r: TransitionRate, timeText: (t: number) => string): string {
  if (r.total === 0) return 'no route transition in this range';
  const per = r.minutes === 1 ? 'min' : `${r.minutes} min`;
  const peak = r.peak
    ? `; peak ${r.peak.count} transition${r.peak.count === 1 ? '' : 's'}/${per} at ${timeText(r.peak.at)}`
    : '';
  return `${r.total} route transition${r.total === 1 ? '' : 's'}${peak}`;
}
