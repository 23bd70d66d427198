import type { Api } from '../model/api.js';
import type { MatrixState } from '../model/matrix-state.js';
import { html } from './html.js';

/** What the timeline view is given by the page. */
export interface TimelineViewProps {
  readonly api: Api;
  /** The matrix as the page holds it (null until read): VIP and node names for the filters. */
  readonly matrix: MatrixState | null;
  /** Bumped by the page at every event of the live stream that adds to the timeline. */
  readonly eventTick: number;
}

/** The timeline of the fleet (filter by node, VIP, time) and its charts. */
export function TimelineView(_props: TimelineViewProps) {
  return html`<section class="panel" aria-label="timeline">
    <h2>Timeline</h2>
    <p class="muted">to build</p>
  </section>`;
}
