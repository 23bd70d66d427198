import type { ComponentChildren } from 'preact';
import type { NodeProgress, NodeState, RolloutDetail } from '../model/rollout-rows.js';
import { StatusBadge } from './rollout-list.js';
import { html } from './html.js';

const NODE_LOOK: Readonly<Record<NodeState, { icon: string; text: string }>> = {
  waiting: { icon: '…', text: 'waiting' },
  assigned: { icon: '◌', text: 'assigned' },
  applied: { icon: '✓', text: 'applied' },
  rejected: { icon: '✗', text: 'rejected' },
};

function NodeItem({ n, rollback }: { n: NodeProgress; rollback: boolean }) {
  const look = NODE_LOOK[n.state];
  const hooks = rollback
    ? { 'data-rollback-node': n.name, 'data-rollback-node-state': n.state }
    : { 'data-node': n.name, 'data-node-state': n.state };
  return html`<li class=${`rollout-node node-${n.state}`} ...${hooks}>
    <code>${n.name}</code>
    <span class="node-state"><span aria-hidden="true">${look.icon}</span> ${look.text}</span>
    ${
      n.state === 'rejected'
        ? html`<span class="node-reason">${n.code ? html`<code>${n.code}</code>: ` : null}${n.reason}</span>`
        : null
    }
  </li>`;
}

/** One rollout in detail (as `rhictl rollout status`): its steps node by node, its stop and rollback. */
export function RolloutDetailView({ d, children }: { d: RolloutDetail; children?: ComponentChildren }) {
  return html`<article
    class="rollout-detail"
    data-rollout=${d.id}
    data-status=${d.status}
    aria-label=${`rollout ${d.id}`}
  >
    <h3><span class="rollout-id">${d.id}</span> <${StatusBadge} row=${d} /></h3>
    <p class="rollout-head"><code>${d.head}</code></p>
    <dl class="facts">
      <dt>started</dt>
      <dd>${d.createdAt} by ${d.createdBy}</dd>
      <dt>message</dt>
      <dd>${d.message ?? html`<span class="muted">none</span>`}</dd>
      <dt>rule set</dt>
      <dd>serial ${d.serial} <code class="muted" title=${d.hash}>${d.hash.slice(0, 12)}</code></dd>
      <dt>target</dt>
      <dd><code>${d.target}</code></dd>
      <dt>strategy</dt>
      <dd>${d.strategy}</dd>
    </dl>
    ${children}
    <ol class="rollout-steps" aria-label="steps">
      ${d.steps.map(
        (s) =>
          html`<li class=${s.current ? 'rollout-step current' : 'rollout-step'} data-step=${s.index}>
            <p class="step-head">
              <strong>step ${s.index} ${s.kind}</strong> ${s.size}${s.applied ? html`, ${s.applied}` : null}
              ${s.phase ? html` <span class="step-phase" role=${s.soakLeftMs !== null ? 'timer' : undefined}>${s.phase}</span>` : null}
            </p>
            <ul class="rollout-nodes">
              ${s.nodes.map((n) => html`<${NodeItem} key=${n.name} n=${n} rollback=${false} />`)}
            </ul>
          </li>`,
      )}
    </ol>
    ${
      d.absent.length > 0
        ? html`<p class="muted">
            left out (lost when planned, assigned once it completes): ${d.absent.join(', ')}
          </p>`
        : null
    }
    ${
      d.rejections.length > 0
        ? html`<ul class="rollout-notes bad" aria-label="rejections">
            ${d.rejections.map((t) => html`<li><span aria-hidden="true">✗ </span>${t}</li>`)}
          </ul>`
        : null
    }
    ${d.stop ? html`<p class="rollout-stop"><span aria-hidden="true">■ </span>${d.stop}</p>` : null}
    ${
      d.rollback
        ? html`<section class="rollout-rollback" aria-label="rollback">
            <p><span aria-hidden="true">↺ </span>${d.rollback.line}</p>
            <ul class="rollout-nodes">
              ${d.rollback.nodes.map((n) => html`<${NodeItem} key=${n.name} n=${n} rollback=${true} />`)}
            </ul>
          </section>`
        : null
    }
    ${d.rollsBackTo ? html`<p class="muted">${d.rollsBackTo}</p>` : null}
    ${d.failure ? html`<p class="bad" role="alert"><span aria-hidden="true">✗ </span>${d.failure}</p>` : null}
  </article>`;
}
