import type { WhatIfDiff } from '../model/what-if-diff.js';
import { html } from './html.js';

const list = (names: readonly string[]) =>
  names.length === 0 ? html`<span class="muted">-</span>` : names.join(', ');

/** A what-if, readably: the verdict, the guard's blockers, then which VIPs and which nodes change. */
export function WhatIfResult({ diff }: { diff: WhatIfDiff }) {
  return html`<section class="what-if" aria-label="what if" data-allowed=${String(diff.allowed)}>
    <p class=${diff.allowed ? 'ok what-if-verdict' : 'bad what-if-verdict'} role="status">
      <span aria-hidden="true">${diff.allowed ? '✓' : '⊘'}</span> <strong>${diff.verdict}</strong>
      <span class="muted"> · ${diff.candidate}</span>
    </p>
    <p class="muted">nodes: ${diff.counts}</p>
    ${
      diff.blockers.length > 0
        ? html`<ul class="what-if-blockers bad" aria-label="blockers">
            ${diff.blockers.map(
              (b) =>
                html`<li data-blocker=${b.kind} data-subject=${b.subject}>
                  <span aria-hidden="true">⊘ </span>${b.text}
                </li>`,
            )}
          </ul>`
        : null
    }
    ${
      diff.vips.length === 0
        ? html`<p>no VIP changes</p>`
        : html`<div class="rollouts-scroll">
            <table class="what-if-vips">
              <caption>
                VIPs whose advertisers change
              </caption>
              <thead>
                <tr>
                  <th scope="col">VIP</th>
                  <th scope="col">change</th>
                  <th scope="col">advertisers</th>
                  <th scope="col">withdrawn by</th>
                  <th scope="col">added by</th>
                </tr>
              </thead>
              <tbody>
                ${diff.vips.map(
                  (v) =>
                    html`<tr data-vip=${v.id} data-change=${v.change} class=${v.blocked ? 'blocked' : ''}>
                      <th scope="row"><code>${v.id}</code></th>
                      <td class=${v.change === 'loses' ? 'bad' : v.change === 'gains' ? 'ok' : ''}>
                        <span aria-hidden="true">${v.icon}</span> ${v.change}${v.blocked ? ' (blocked)' : ''}
                      </td>
                      <td>${v.advertisers}</td>
                      <td>${list(v.withdrawnBy)}</td>
                      <td>${list(v.addedBy)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    ${
      diff.nodes.length > 0
        ? html`<div class="rollouts-scroll">
            <table class="what-if-nodes">
              <caption>
                nodes that change or have a problem
              </caption>
              <thead>
                <tr>
                  <th scope="col">node</th>
                  <th scope="col">withdraws</th>
                  <th scope="col">adds</th>
                  <th scope="col">notes</th>
                </tr>
              </thead>
              <tbody>
                ${diff.nodes.map(
                  (n) =>
                    html`<tr data-what-if-node=${n.node}>
                      <th scope="row"><code>${n.node}</code></th>
                      <td>${list(n.withdraws)}</td>
                      <td>${list(n.adds)}</td>
                      <td>${n.notes.length ? n.notes.join('; ') : html`<span class="muted">-</span>`}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null
    }
    ${
      diff.notes.length + diff.warnings.length > 0
        ? html`<ul class="what-if-notes muted" aria-label="notes">
            ${diff.notes.map((n) => html`<li data-note=${n.kind}>${n.text}</li>`)}
            ${diff.warnings.map((w) => html`<li>${w}</li>`)}
          </ul>`
        : null
    }
  </section>`;
}
