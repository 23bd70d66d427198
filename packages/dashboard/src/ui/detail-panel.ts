import {
  MATRIX_CELLS,
  type ApiCaller,
  type ExplanationNode,
  type HealthReport,
  type MatrixCell,
  type NodeDetail,
  type RouteStatus,
} from '@rhi/contracts/fleet';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../model/api.js';
import { DrainControls } from './drain-controls.js';
import { html } from './html.js';

export type Selection =
  | { readonly kind: 'cell'; readonly node: string; readonly vip: string; readonly letter: MatrixCell }
  | { readonly kind: 'node'; readonly node: string };

const yes = (b: boolean | null | undefined) => (b === null || b === undefined ? 'unknown' : b ? 'yes' : 'no');
const ago = (iso: string) => {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : `${Math.round(s / 3600)} h ago`;
};

/** The rule's verdict as a tree: which term made it false. */
function Explanation({ node }: { node: ExplanationNode }) {
  return html`<li class=${node.value ? 'ok' : 'bad'}>
    <span aria-hidden="true">${node.value ? '✓' : '✗'}</span>
    <code>${node.term}</code> <span class="muted">${node.detail}</span>
    ${
      node.children.length > 0 || node.omitted
        ? html`<ul>
            ${node.children.map((c) => html`<${Explanation} node=${c} />`)}
            ${node.omitted ? html`<li class="muted">${node.omitted} more left out</li>` : null}
          </ul>`
        : null
    }
  </li>`;
}

/** The HAProxy proxies a rule's explanation names (`b:be_app`, `f:fe_web`), with their health. */
function proxiesOf(root: ExplanationNode, health: HealthReport | null) {
  const out: { term: string; text: string; up: boolean | null }[] = [];
  const seen = new Set<string>();
  const walk = (n: ExplanationNode) => {
    const m = /^([bf]):([\w.:-]+)/.exec(n.term);
    if (m && !seen.has(n.term)) {
      seen.add(n.term);
      const name = m[2]!;
      if (m[1] === 'b') {
        const b = health?.backends[name];
        out.push({
          term: n.term,
          up: b ? b.up : null,
          text: b
            ? `${b.up ? 'up' : 'down'}, ${b.serversUp} of ${b.serversTotal} servers up`
            : 'not in the last health report',
        });
      } else {
        const f = health?.frontends[name];
        out.push({
          term: n.term,
          up: f ? f.up : null,
          text: f ? (f.up ? 'up' : 'down') : 'not in the last health report',
        });
      }
    }
    n.children.forEach(walk);
  };
  walk(root);
  return out;
}

function RouteFacts({ route, health }: { route: RouteStatus; health: HealthReport | null }) {
  const proxies = proxiesOf(route.explanation, health);
  return html`
    <dl class="facts">
      <dt>rule says</dt>
      <dd>${route.decision}</dd>
      <dt>asked of BIRD</dt>
      <dd>${route.desired ? 'advertise' : 'withdraw'}</dd>
      <dt>in BIRD</dt>
      <dd>${yes(route.inBird)}</dd>
      ${
        route.exported
          ? html`<dt>sent to</dt>
              <dd>
                ${route.exported.to.join(', ') || 'no router'}${route.exported.problems.length > 0 ? html` <span class="muted">(${route.exported.problems.join('; ')})</span>` : null}
              </dd>`
          : null
      }
      <dt>damping</dt>
      <dd>${route.damping}</dd>
      <dt>allowlist</dt>
      <dd>${route.allowed ? 'allowed' : 'blocked'}</dd>
      <dt>since</dt>
      <dd><time datetime=${route.since}>${ago(route.since)}</time></dd>
      ${
        route.refused
          ? html`<dt>refused</dt>
              <dd>${route.refused}</dd>`
          : null
      }
    </dl>
    <h3>Why</h3>
    <p class="reason">${route.reason}</p>
    <ul class="explanation">
      <${Explanation} node=${route.explanation} />
    </ul>
    ${
      proxies.length > 0
        ? html`<h3>HAProxy health behind it</h3>
            <ul class="proxies">
              ${proxies.map((x) => html`<li class=${x.up === null ? '' : x.up ? 'ok' : 'bad'}><code>${x.term}</code> ${x.text}</li>`)}
            </ul>`
        : null
    }
  `;
}

function NodeFacts({ d }: { d: NodeDetail }) {
  const rs = d.ruleSet;
  return html`<dl class="facts">
    <dt>state</dt>
    <dd class=${d.node.state === 'lost' ? 'bad' : ''}>${d.node.state}</dd>
    <dt>last heard</dt>
    <dd><time datetime=${d.node.lastHeard}>${ago(d.node.lastHeard)}</time></dd>
    <dt>labels</dt>
    <dd>${Object.entries(d.node.labels).map(([k, v]) => html`<code class="label">${k}=${v}</code> `)}</dd>
    <dt>drained</dt>
    <dd>${d.node.drained ? 'yes' : 'no'}</dd>
    <dt>HAProxy</dt>
    <dd>${d.node.haproxyReachable ? 'reachable' : 'unreachable'}</dd>
    <dt>BIRD</dt>
    <dd>${d.node.birdReachable ? 'reachable' : 'unreachable'}</dd>
    <dt>agent</dt>
    <dd>${d.node.agentVersion}</dd>
    <dt>routes</dt>
    <dd>${d.node.desired} advertised of ${d.node.routes}</dd>
    <dt>rule set</dt>
    <dd>
      ${d.node.ruleSet ? html`serial ${d.node.ruleSet.serial} (${d.node.ruleSet.source}), <code>${d.node.ruleSet.hash.slice(0, 12)}</code>` : 'none'}
      ${rs ? html`<br /><span class=${rs.sync === 'error' ? 'bad' : ''}>${rs.sync}</span>${rs.assigned ? html`, assigned serial ${rs.assigned.serial}` : null}` : null}
      ${rs?.error ? html`<br /><span class="bad">rejected serial ${rs.error.serial}: ${rs.error.code ?? ''} ${rs.error.reason}</span>` : null}
    </dd>
  </dl>`;
}

/** The detail of a cell (the node's route for the VIP, why, and the health behind it) or of a node. */
export function DetailPanel({
  api,
  selection,
  caller,
  drained,
  onClose,
}: {
  api: Api;
  selection: Selection;
  /** Who holds the token: an operator gets the drain buttons. */
  caller: ApiCaller | null;
  /** The node's drain as the matrix last showed it: a change reads the detail again. */
  drained: boolean | null;
  onClose: () => void;
}) {
  const [detail, setDetail] = useState<NodeDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reread, setReread] = useState(0);
  const key = `${
    selection.kind === 'cell' ? `${selection.node} ${selection.vip} ${selection.letter}` : selection.node
  } ${String(drained)} ${reread}`;
  useEffect(() => {
    let live = true;
    setError(null);
    api
      .get<NodeDetail>(`/api/v1/nodes/${encodeURIComponent(selection.node)}`)
      .then((d) => live && setDetail(d))
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [key]);
  const route =
    selection.kind === 'cell' && detail?.node.name === selection.node
      ? detail.status.routes.find((r) => `${r.table}%${r.prefix}` === selection.vip)
      : undefined;
  return html`<section class="panel detail" aria-label="detail" aria-live="polite">
    <header>
      <h2>
        ${selection.kind === 'cell' ? html`${selection.node} <span class="muted">·</span> ${selection.vip}` : html`node ${selection.node}`}
      </h2>
      <button class="close" onClick=${onClose} aria-label="close the detail">×</button>
    </header>
    ${
      selection.kind === 'cell'
        ? html`<p class=${`state-line c-text-${MATRIX_CELLS[selection.letter].state}`}>
            <span aria-hidden="true">${MATRIX_CELLS[selection.letter].icon}</span>
            ${MATRIX_CELLS[selection.letter].label}
          </p>`
        : null
    }
    ${error ? html`<p class="bad" role="alert">${error}</p>` : null}
    ${!detail && !error ? html`<p class="muted">reading…</p>` : null}
    ${route && detail ? html`<${RouteFacts} route=${route} health=${detail.health} />` : null}
    ${selection.kind === 'cell' && detail && !route ? html`<p class="muted">this node has no rule for ${selection.vip} any more</p>` : null}
    ${
      detail
        ? html`<h3>Node</h3>
            <${NodeFacts} d=${detail} />
            <${DrainControls}
              key=${detail.node.name}
              api=${api}
              node=${detail.node}
              caller=${caller}
              onChanged=${() => setReread((n) => n + 1)}
            />`
        : null
    }
  </section>`;
}
