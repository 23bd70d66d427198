import type { RolloutRow } from '../model/rollout-rows.js';
import { html } from './html.js';

/** A status as an icon and its word (colour only adds to them). */
export function StatusBadge({ row }: { row: Pick<RolloutRow, 'look' | 'status'> }) {
  return html`<span class=${`rollout-status tone-${row.look.tone}`}
    ><span aria-hidden="true">${row.look.icon}</span> ${row.look.text}</span
  >`;
}

/** The rollouts, the one under way first: pick one to see it in detail. */
export function RolloutList({
  rows,
  selected,
  onSelect,
}: {
  rows: readonly RolloutRow[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  if (rows.length === 0) return html`<p class="muted">no rollout yet</p>`;
  return html`<div class="rollouts-scroll">
    <table class="rollouts-table">
      <caption class="muted">
        the rollout under way first, then the newest
      </caption>
      <thead>
        <tr>
          <th scope="col">rollout</th>
          <th scope="col">status</th>
          <th scope="col">serial</th>
          <th scope="col">target</th>
          <th scope="col">progress</th>
          <th scope="col">started</th>
          <th scope="col">message</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr
              key=${r.id}
              data-rollout=${r.id}
              data-status=${r.status}
              class=${r.id === selected ? 'selected' : ''}
              aria-current=${r.id === selected ? 'true' : undefined}
            >
              <th scope="row">
                <button class="link" onClick=${() => onSelect(r.id)}>${r.id}</button>
                ${r.active ? html` <span class="badge">under way</span>` : null}
              </th>
              <td><${StatusBadge} row=${r} /></td>
              <td>${r.serial}</td>
              <td><code>${r.target}</code></td>
              <td>${r.progress}</td>
              <td>${r.createdAt} <span class="muted">by ${r.createdBy}</span></td>
              <td class="rollout-message">${r.message}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
