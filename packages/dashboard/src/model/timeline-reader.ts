import { eventsPath, type EventsRequest } from './timeline-query.js';
import { timelineItem, type EventsAnswer, type TimelineItem } from './timeline-items.js';

/** Entries per read of `GET /api/v1/events` (the API allows 10,000). */
export const PAGE_SIZE = 2000;
/** The most entries the page holds for one view: beyond it, the oldest are let go. */
export const MAX_HELD = 20_000;

/** What the page holds of a window of the timeline: its entries, oldest first, by `seq` once each. */
export interface TimelineHeld {
  readonly items: readonly TimelineItem[];
  /** The start of the window the items cover completely (epoch ms): later than asked when some were let go. */
  readonly since: number;
  /** How many entries of the window were let go (the oldest), past {@link MAX_HELD}. */
  readonly dropped: number;
}

/**
 * `held` with `page` merged in (each `seq` once, oldest first), entries before `since` left out (a
 * window that slides with the clock) and at most `max` kept, the newest. Pure.
 */
export function mergeItems(
  held: TimelineHeld,
  page: readonly TimelineItem[],
  since: number,
  max = MAX_HELD,
): TimelineHeld {
  const bySeq = new Map<number, TimelineItem>();
  for (const i of held.items) if (i.at >= since) bySeq.set(i.seq, i);
  for (const i of page) if (i.at >= since) bySeq.set(i.seq, i);
  const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const over = Math.max(0, all.length - max);
  const items = over === 0 ? all : all.slice(over);
  return {
    items,
    since: over === 0 ? Math.max(since, held.since) : items[0]!.at,
    dropped: held.dropped + over,
  };
}

/** The empty hold of a window starting at `since`. */
export const emptyHeld = (since: number): TimelineHeld => ({ items: [], since, dropped: 0 });

/**
 * Reads the timeline from `from` (epoch ms) to the request's end into `held`, page after page: the API
 * answers oldest first, so each next page starts at the newest entry of the one before (the same
 * millisecond again: entries are merged by `seq`). Calls `onPage` with each new hold; stops when the API
 * has no more, after `maxPages`, or when `cancelled()` says so. Returns the last hold and whether the
 * window is read to its end.
 */
export async function readTimeline(
  get: <T>(path: string) => Promise<T>,
  request: Omit<EventsRequest, 'limit'>,
  from: number,
  held: TimelineHeld,
  options: {
    readonly onPage?: (h: TimelineHeld) => void;
    readonly cancelled?: () => boolean;
    readonly maxPages?: number;
    readonly pageSize?: number;
  } = {},
): Promise<{ held: TimelineHeld; complete: boolean }> {
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const maxPages = options.maxPages ?? 20;
  let since = from;
  let h = held;
  for (let page = 0; page < maxPages; page++) {
    const answer = await get<EventsAnswer>(eventsPath({ ...request, since, limit: pageSize }));
    if (options.cancelled?.()) return { held: h, complete: false };
    const items = answer.events.map(timelineItem);
    h = mergeItems(h, items, request.since);
    options.onPage?.(h);
    const newest = items.at(-1)?.at;
    if (!answer.truncated || newest === undefined) return { held: h, complete: true };
    // A page of one millisecond only would start again at the same place.
    if (newest <= since) since += 1;
    else since = newest;
  }
  return { held: h, complete: false };
}
