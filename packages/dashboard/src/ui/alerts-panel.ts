import type { ApiAlert } from '@rhi/contracts/fleet';
import { html } from './html.js';

const since = (s: string | number) => new Date(typeof s === 'number' ? s : Date.parse(s));
const icon: Record<string, string> = {
  vipNoAdvertiser: '⛔',
  vipBelowMinimum: '▼',
  nodeLost: '⊘',
  nodeDrift: '!',
  nodeFlapping: '≈',
  ruleSetMismatch: '≠',
  ruleSetRejected: '✗',
};

/** The open alerts, oldest first; an alert about a node or a VIP leads to it. */
export function AlertsPanel({
  alerts,
  onSubject,
}: {
  alerts: readonly ApiAlert[];
  onSubject: (a: ApiAlert) => void;
}) {
  const sorted = [...alerts].sort((a, b) => since(a.since).getTime() - since(b.since).getTime());
  return html`<section class="panel alerts" aria-label="alerts">
    <h2>Alerts <span class=${`badge ${alerts.length > 0 ? 'bad' : 'ok'}`}>${alerts.length}</span></h2>
    ${sorted.length === 0 ? html`<p class="muted">no open alert</p>` : null}
    <ul>
      ${sorted.map(
        (a) =>
          html`<li class="alert" data-kind=${a.kind}>
            <button class="link" onClick=${() => onSubject(a)}>
              <span aria-hidden="true">${icon[a.kind] ?? '!'}</span> <strong>${a.kind}</strong> ${a.subject}
            </button>
            <div>${a.message}</div>
            <time class="muted" datetime=${since(a.since).toISOString()}
              >since ${since(a.since).toLocaleTimeString()}</time
            >
          </li>`,
      )}
    </ul>
  </section>`;
}
