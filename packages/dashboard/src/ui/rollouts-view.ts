import type { ApiCaller } from '@rhi/contracts/fleet';
import type { Api } from '../model/api.js';
import { html } from './html.js';

/** What the rollouts view is given by the page. */
export interface RolloutsViewProps {
  readonly api: Api;
  /** Who is signed in: only an operator may act; a viewer sees the same page without the buttons. */
  readonly caller: ApiCaller | null;
  /** Bumped by the page at every `rollout` event of the live stream (and at each (re)connect). */
  readonly rolloutTick: number;
}

/** The rollouts: the what-if of a candidate rule set, the one under way and the newest ones. */
export function RolloutsView(_props: RolloutsViewProps) {
  return html`<section class="panel" aria-label="rollouts">
    <h2>Rollouts</h2>
    <p class="muted">to build</p>
  </section>`;
}
