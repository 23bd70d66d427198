import type { TimelineItem } from '../model/timeline-items.js';
import { html } from './html.js';

export interface TimelineListProps {
  /** The entries to show, newest first. */
  readonly items: readonly TimelineItem[];
  /** How many to show: the rest are counted, not drawn. */
  readonly shown: number;
  readonly onMore: () => void;
  readonly timeText: (t: number) => string;
  /** Whether the times carry their date (a range over more than a day): a wider column. */
  readonly dated: boolean;
}

/** The timeline, newest first: time, kind (icon and name), node and VIP, message, who. */
export function TimelineList({ items, shown, onMore, timeText, dated }: TimelineListProps) {
  if (items.length === 0) return html`<p class="muted">no event in this range with these filters</p>`;
  const hidden = items.length - Math.min(shown, items.length);
  return html`<ol class=${dated ? 'timeline-list dated' : 'timeline-list'}>
      ${items.slice(0, shown).map(
        (i) =>
          html`<li key=${i.seq} data-event-kind=${i.kind} class=${`event event-${i.group}`}>
            <time datetime=${new Date(i.at).toISOString()}>${timeText(i.at)}</time>
            <span class="event-kind"><span aria-hidden="true">${i.icon}</span> ${i.kind}</span>
            <span class="event-subject">
              ${i.node ? html`<span class="event-node">${i.node}</span>` : null}
              ${i.vip ? html`<code class="event-vip">${i.vip}</code>` : null}
              ${i.subject !== i.node && i.subject !== i.vip ? html`<span>${i.subject}</span>` : null}
            </span>
            <span class="event-message">${i.message}</span>
            ${i.by ? html`<span class="event-by">by <strong>${i.by}</strong></span>` : null}
          </li>`,
      )}
    </ol>
    ${
      hidden > 0
        ? html`<p class="muted timeline-more" role="note">
            ${hidden} older ${hidden === 1 ? 'entry' : 'entries'} not shown: narrow the filters or the range,
            or${' '}
            <button type="button" class="link" onClick=${onMore}>show ${Math.min(hidden, 200)} more</button>
          </p>`
        : null
    }`;
}
