import type { ItemFilter } from './timeline-items.js';

/** The time ranges the timeline offers: the last 15 minutes, hour, 6 hours, day, or from-to. */
export const RANGES = {
  '15m': { label: 'last 15 min', ms: 15 * 60_000 },
  '1h': { label: 'last 1 h', ms: 3_600_000 },
  '6h': { label: 'last 6 h', ms: 6 * 3_600_000 },
  '24h': { label: 'last 24 h', ms: 24 * 3_600_000 },
  custom: { label: 'from – to', ms: 0 },
} as const;
export type RangeName = keyof typeof RANGES;

/** What the timeline shows: the filters of its form, as the page address keeps them. */
export interface TimelineFilters extends ItemFilter {
  readonly range: RangeName;
  /** For `custom`: the range's start (epoch ms), or null (the last 24 h). */
  readonly from: number | null;
  /** For `custom`: the range's end (epoch ms), or null (now, followed live). */
  readonly to: number | null;
}

export const DEFAULT_FILTERS: TimelineFilters = {
  node: '',
  vip: '',
  kind: '',
  range: '1h',
  from: null,
  to: null,
};

/**
 * The address's parameters of the timeline, prefixed so that they never meet the fleet view's own
 * (`vip`, `nodes`, `state`, ...) in the same query.
 */
export const PARAMS = {
  node: 'tl-node',
  vip: 'tl-vip',
  kind: 'tl-kind',
  range: 'tl-range',
  from: 'tl-from',
  to: 'tl-to',
} as const;

const timeOf = (text: string | null): number | null => {
  if (text === null || text === '') return null;
  const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(t) ? t : null;
};

/** The timeline's filters from a page address's query (`?tl-node=lb1&tl-range=6h`); defaults for the rest. */
export function filtersFromQuery(query: string): TimelineFilters {
  const q = new URLSearchParams(query);
  const range = q.get(PARAMS.range) ?? DEFAULT_FILTERS.range;
  return {
    node: q.get(PARAMS.node) ?? '',
    vip: q.get(PARAMS.vip) ?? '',
    kind: q.get(PARAMS.kind) ?? '',
    range: range in RANGES ? (range as RangeName) : DEFAULT_FILTERS.range,
    from: timeOf(q.get(PARAMS.from)),
    to: timeOf(q.get(PARAMS.to)),
  };
}

/**
 * `query` (the page's own, kept as it is) with the timeline's parameters set to `f`: only what differs
 * from the defaults, times in ISO. Returns the query without its `?`.
 */
export function queryWithFilters(query: string, f: TimelineFilters): string {
  const q = new URLSearchParams(query);
  for (const name of Object.values(PARAMS)) q.delete(name);
  if (f.node.trim() !== '') q.set(PARAMS.node, f.node.trim());
  if (f.vip.trim() !== '') q.set(PARAMS.vip, f.vip.trim());
  if (f.kind !== '') q.set(PARAMS.kind, f.kind);
  if (f.range !== DEFAULT_FILTERS.range) q.set(PARAMS.range, f.range);
  if (f.range === 'custom') {
    if (f.from !== null) q.set(PARAMS.from, new Date(f.from).toISOString());
    if (f.to !== null) q.set(PARAMS.to, new Date(f.to).toISOString());
  }
  return q.toString();
}

/** The time window of `f` at `now`: `until` null while it ends now (the view follows the live stream). */
export interface TimeWindow {
  readonly since: number;
  readonly until: number | null;
}

/** The window `f` shows at `now`. A from-to with no start begins 24 h before its end. Pure. */
export function windowOf(f: TimelineFilters, now: number): TimeWindow {
  if (f.range !== 'custom') return { since: now - RANGES[f.range].ms, until: null };
  const until = f.to !== null && f.to < now ? f.to : null;
  const end = until ?? now;
  const since = f.from ?? end - RANGES['24h'].ms;
  return { since: Math.min(since, end), until };
}

/** A name the API takes as a node (`TOKEN` of the contracts). */
const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The part of the filters the API applies (exact names only): the node when it is a node name the page
 * knows (or any valid name while it knows none), the VIP when it is a whole route id. Partial text is
 * matched on the page instead.
 */
export function serverFilters(
  f: ItemFilter,
  knownNodes: ReadonlySet<string>,
  knownVips: ReadonlySet<string>,
): { readonly node?: string; readonly vip?: string } {
  const node = f.node.trim();
  const vip = f.vip.trim();
  const exactNode = NODE_NAME.test(node) && (knownNodes.size === 0 || knownNodes.has(node));
  const at = vip.indexOf('%');
  const exactVip = at > 0 && at < vip.length - 1 && (knownVips.size === 0 || knownVips.has(vip));
  return { ...(exactNode ? { node } : {}), ...(exactVip ? { vip } : {}) };
}

/** One read of the timeline: the API's filters and the window, `limit` entries at most. */
export interface EventsRequest {
  readonly node?: string;
  readonly vip?: string;
  readonly since: number;
  readonly until: number | null;
  readonly limit: number;
}

/** The path of `GET /api/v1/events` for `r`, times in epoch ms as the API takes them. Pure. */
export function eventsPath(r: EventsRequest): string {
  const q = new URLSearchParams();
  if (r.node !== undefined) q.set('node', r.node);
  if (r.vip !== undefined) q.set('vip', r.vip);
  q.set('since', String(Math.max(0, Math.floor(r.since))));
  if (r.until !== null) q.set('until', String(Math.floor(r.until)));
  q.set('limit', String(r.limit));
  return `/api/v1/events?${q.toString()}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `t` as an `<input type="datetime-local">` value, in the browser's time zone (`2025-01-01T10:42`). */
export function localInputValue(t: number | null): string {
  if (t === null) return '';
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An `<input type="datetime-local">` value (the browser's time zone) as epoch ms; null when empty or wrong. */
export function fromLocalInput(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const t = new Date(y, mo - 1, d, h, mi, Number.isNaN(s) ? 0 : s).getTime();
  return Number.isFinite(t) ? t : null;
}
