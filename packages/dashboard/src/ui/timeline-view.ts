import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { advertiserSeries, pickVips } from '../model/advertiser-series.js';
import { ApiFailure, type Api } from '../model/api.js';
import type { MatrixState } from '../model/matrix-state.js';
import { itemMatches } from '../model/timeline-items.js';
import {
  filtersFromQuery,
  queryWithFilters,
  serverFilters,
  windowOf,
  type TimelineFilters as Filters,
} from '../model/timeline-query.js';
import { emptyHeld, mergeItems, readTimeline, type TimelineHeld } from '../model/timeline-reader.js';
import { transitionRate } from '../model/transition-rate.js';
import { html } from './html.js';
import { TimelineCharts } from './timeline-charts.js';
import { TimelineFilters } from './timeline-filters.js';
import { TimelineList } from './timeline-list.js';

/** What the timeline view is given by the page. */
export interface TimelineViewProps {
  readonly api: Api;
  /** The matrix as the page holds it (null until read): VIP and node names for the filters. */
  readonly matrix: MatrixState | null;
  /** Bumped by the page at every event of the live stream that adds to the timeline. */
  readonly eventTick: number;
}

/** Entries the list draws at first, and more at each "show more". */
const LIST_STEP = 200;
/** The live stream moves the timeline at most this often. */
const REFRESH_MS = 1000;

const DAY = 86_400_000;

interface Failure {
  readonly code: string;
  readonly message: string;
}
const failureOf = (err: unknown): Failure =>
  err instanceof ApiFailure
    ? { code: err.code, message: err.message }
    : { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };
const clock = (withDate: boolean, seconds: boolean) => {
  const f = new Intl.DateTimeFormat(undefined, {
    ...(withDate ? { month: 'short', day: 'numeric' } : {}),
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
  });
  return (t: number) => f.format(t);
};

/** The timeline of the fleet (filter by node, VIP, kind, time), newest first, and its charts. */
export function TimelineView({ api, matrix, eventTick }: TimelineViewProps) {
  const [filters, setFilters] = useState<Filters>(() => filtersFromQuery(location.search));
  const [held, setHeld] = useState<TimelineHeld | null>(null);
  const [complete, setComplete] = useState(true);
  const [reading, setReading] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [readAt, setReadAt] = useState(() => Date.now());
  const [shown, setShown] = useState(LIST_STEP);
  const refresh = useRef<() => void>(() => undefined);
  const lastTick = useRef(eventTick);

  const nodes = useMemo(() => (matrix?.nodes ?? []).map((n) => n.name).sort(), [matrix]);
  const vips = useMemo(() => (matrix?.vips ?? []).map((v) => v.id).sort(), [matrix]);
  const server = useMemo(
    () => serverFilters(filters, new Set(nodes), new Set(vips)),
    [filters.node, filters.vip, nodes, vips],
  );
  const readKey = [server.node, server.vip, filters.range, filters.from, filters.to].join(' ');

  // The address keeps the filters (the fleet view keeps them too when it writes its own).
  useEffect(() => {
    const query = queryWithFilters(location.search, filters);
    if (query !== location.search.replace(/^\?/, ''))
      history.replaceState(
        history.state,
        '',
        `${location.pathname}${query === '' ? '' : `?${query}`}${location.hash}`,
      );
  });

  useEffect(() => {
    let gone = false;
    let busy = false;
    let again = false;
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let hold: TimelineHeld | null = null;
    const cancelled = () => gone;
    const live = windowOf(filters, Date.now()).until === null;
    setHeld(null);
    setFailure(null);
    setShown(LIST_STEP);
    const read = async () => {
      busy = true;
      again = false;
      last = Date.now();
      const w = windowOf(filters, last);
      // A window ending now slides: what is before its start is let go, what is new is read from the newest held.
      const base = hold ? mergeItems(hold, [], w.since) : emptyHeld(w.since);
      setReading(true);
      try {
        const r = await readTimeline(
          api.get,
          { ...server, since: w.since, until: w.until },
          base.items.at(-1)?.at ?? w.since,
          base,
          { cancelled, onPage: (h) => !gone && setHeld(h), maxPages: 50 },
        );
        if (gone) return;
        hold = r.held;
        setHeld(r.held);
        setComplete(r.complete);
        setReadAt(w.until ?? last);
        setFailure(null);
      } catch (err) {
        if (!gone) setFailure(failureOf(err));
      } finally {
        busy = false;
        if (!gone) {
          setReading(false);
          if (again) schedule();
        }
      }
    };
    const schedule = () => {
      if (busy) {
        again = true;
        return;
      }
      if (timer !== undefined) return;
      timer = setTimeout(
        () => {
          timer = undefined;
          void read();
        },
        Math.max(0, last + REFRESH_MS - Date.now()),
      );
    };
    refresh.current = live ? schedule : () => undefined;
    void read();
    return () => {
      gone = true;
      clearTimeout(timer);
      refresh.current = () => undefined;
    };
  }, [api, readKey]);

  useEffect(() => {
    if (eventTick === lastTick.current) return;
    lastTick.current = eventTick;
    refresh.current();
  }, [eventTick]);

  const items = held?.items ?? [];
  const listed = useMemo(() => items.filter((i) => itemMatches(i, filters)).reverse(), [items, filters]);
  const kinds = useMemo(() => [...new Set(items.map((i) => i.kind))], [items]);
  const since = held?.since ?? windowOf(filters, readAt).since;
  const withDate =
    readAt - since > DAY / 2 || new Date(since).toDateString() !== new Date(readAt).toDateString();
  const listTime = useMemo(() => clock(withDate, true), [withDate]);
  const chartTime = useMemo(() => clock(withDate, false), [withDate]);
  const charted = useMemo(
    () => items.filter((i) => itemMatches(i, { ...filters, kind: '' })),
    [items, filters],
  );
  const rate = useMemo(() => transitionRate(charted, since, readAt), [charted, since, readAt]);
  // Counts need every node's events of a VIP: the VIPs are those the filtered entries move most, their
  // counts come from all entries held.
  const advertisers = useMemo(
    () => advertiserSeries(items, pickVips(charted, filters.vip), matrix, since, readAt),
    [items, charted, filters.vip, matrix, since, readAt],
  );
  const advertisersNote =
    server.node !== undefined
      ? `only ${server.node}'s events are read: the other nodes are counted as the matrix shows them now`
      : null;

  const update = (f: Partial<Filters>) => setFilters((old) => ({ ...old, ...f }));
  const total = items.length;

  return html`<section class="panel timeline" aria-label="timeline">
    <h2>Timeline</h2>
    <${TimelineFilters} filters=${filters} nodes=${nodes} vips=${vips} kinds=${kinds} onFilters=${update} />
    <p class="timeline-status muted" role="status">
      ${
        held === null
          ? reading
            ? 'reading the timeline…'
            : ''
          : html`${listed.length} of ${total} ${total === 1 ? 'event' : 'events'} in the
            range${reading ? ' (reading…)' : ''}`
      }
    </p>
    ${
      failure
        ? html`<p class="bad timeline-error" role="alert" data-error=${failure.code}>
            <span aria-hidden="true">⚠ </span><code>${failure.code}</code>: ${failure.message}
          </p>`
        : null
    }
    ${
      held && held.dropped > 0
        ? html`<p class="bad" role="note">
            the range holds more than ${total} events: the oldest ${held.dropped} are not held; the list and
            the charts begin at ${listTime(held.since)}
          </p>`
        : null
    }
    ${
      held && !complete && !reading
        ? html`<p class="bad" role="note">
            not read to the end of the range: it holds too many events; narrow the range or filter by node or
            VIP
          </p>`
        : null
    }
    ${
      held
        ? html`<${TimelineCharts}
              advertisers=${advertisers}
              rate=${rate}
              timeText=${chartTime}
              advertisersNote=${advertisersNote}
            />
            <${TimelineList}
              items=${listed}
              shown=${shown}
              onMore=${() => setShown((n) => n + LIST_STEP)}
              timeText=${listTime}
              dated=${withDate}
            />`
        : null
    }
  </section>`;
}
