import type { ApiAlert, ApiCaller, MatrixCell } from '@rhi/contracts/fleet';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiFailure, createApi } from '../model/api.js';
import { FleetFeed, type FleetSnapshot } from '../model/fleet-feed.js';
import { followStream, type StreamState } from '../model/live-stream.js';
import { defaultGroupBy, matrixView, type MatrixOptions } from '../model/matrix-view.js';
import { parseSelector } from '../model/selector.js';
import { optionsFromQuery, queryFromOptions, withFleetQuery } from '../model/url-options.js';
import { AlertsPanel } from './alerts-panel.js';
import { DetailPanel, type Selection } from './detail-panel.js';
import { Filters } from './filters.js';
import { html } from './html.js';
import { Legend, MatrixTable } from './matrix-table.js';
import { RolloutsView } from './rollouts-view.js';
import { TimelineView } from './timeline-view.js';

const TOKEN_KEY = 'rhi.token';

/** The page's views, one at a time, named in the address (`#fleet`, `#rollouts`, `#timeline`). */
const TABS = ['fleet', 'rollouts', 'timeline'] as const;
type Tab = (typeof TABS)[number];
const tabOf = (hash: string): Tab => TABS.find((t) => hash === `#${t}`) ?? 'fleet';

function TabBar({ tab, onTab }: { tab: Tab; onTab: (t: Tab) => void }) {
  return html`<nav class="tabs" aria-label="views">
    ${TABS.map(
      (t) =>
        html`<a
          href=${`#${t}`}
          class=${t === tab ? 'tab current' : 'tab'}
          aria-current=${t === tab ? 'page' : undefined}
          onClick=${(e: Event) => {
            e.preventDefault();
            onTab(t);
          }}
          >${t}</a
        >`,
    )}
  </nav>`;
}

/** The token: from `#token=...` (the address the demo prints; then taken out of the address), else this tab's. */
function initialToken(): string | null {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m?.[1]) {
    const t = decodeURIComponent(m[1]);
    sessionStorage.setItem(TOKEN_KEY, t);
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function Login({ onToken, message }: { onToken: (t: string) => void; message: string | null }) {
  const [text, setText] = useState('');
  return html`<main class="login">
    <h1>rhi fleet</h1>
    <form
      onSubmit=${(e: Event) => {
        e.preventDefault();
        if (text.trim() !== '') onToken(text.trim());
      }}
    >
      <label
        >API token
        <input
          type="password"
          name="token"
          autocomplete="current-password"
          value=${text}
          onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
      /></label>
      <button type="submit">Open</button>
      ${message ? html`<p class="bad" role="alert">${message}</p>` : null}
      <p class="muted">
        A viewer or operator token of this controller (<code>api.tokens</code>); kept in this tab only.
      </p>
    </form>
  </main>`;
}

function StreamBadge({ s }: { s: StreamState }) {
  const text =
    s.kind === 'live'
      ? 'live'
      : s.kind === 'connecting'
        ? 'connecting…'
        : `connection lost: ${s.reason}; retrying in ${Math.ceil(s.retryInMs / 1000)} s`;
  return html`<span class=${`stream stream-${s.kind}`} role="status" data-stream=${s.kind}>
    <span aria-hidden="true">${s.kind === 'live' ? '●' : s.kind === 'connecting' ? '◌' : '⚠'}</span> ${text}
  </span>`;
}

function Dashboard({ token, onLogout }: { token: string; onLogout: (why: string | null) => void }) {
  const api = useMemo(() => createApi(token), [token]);
  const [snap, setSnap] = useState<FleetSnapshot>({ matrix: null, alerts: [], error: null });
  const [stream, setStream] = useState<StreamState>({ kind: 'connecting', attempt: 0 });
  const [caller, setCaller] = useState<ApiCaller | null>(null);
  const [options, setOptions] = useState<MatrixOptions | null>(null);
  const [nodesText, setNodesText] = useState(() => new URLSearchParams(location.search).get('nodes') ?? '');
  const [selection, setSelection] = useState<Selection | null>(null);
  const [tab, setTab] = useState<Tab>(() => tabOf(location.hash));
  const [rolloutTick, setRolloutTick] = useState(0);
  const [eventTick, setEventTick] = useState(0);
  const openTab = (t: Tab) => {
    history.replaceState(null, '', `${location.pathname}${location.search}#${t}`);
    setTab(t);
  };

  useEffect(() => {
    api
      .get<ApiCaller>('/api/v1/whoami')
      .then(setCaller)
      .catch((err: unknown) => {
        if (err instanceof ApiFailure && err.status === 401) onLogout(err.message);
      });
    const feed = new FleetFeed(api, setSnap);
    const stop = followStream({
      url: '/api/v1/stream',
      token,
      onEvent: (e) => {
        feed.event(e);
        setEventTick((n) => n + 1);
        if (e.kind === 'rollout') setRolloutTick((n) => n + 1);
      },
      onState: (s) => {
        setStream(s);
        if (s.kind === 'live') {
          void feed.reloadAll();
          setRolloutTick((n) => n + 1);
          setEventTick((n) => n + 1);
        }
      },
    });
    // Liveness moves on the controller's clock: a whole read now and then keeps "lost" true.
    const every = setInterval(() => void feed.reloadAll(), 30_000);
    return () => {
      stop();
      clearInterval(every);
    };
  }, [api]);

  const matrix = snap.matrix;
  useEffect(() => {
    if (matrix && options === null) {
      const o = optionsFromQuery(location.search, defaultGroupBy(matrix.nodes));
      // Small fleets open every group: one glance shows every node.
      if (o.expanded.size === 0 && matrix.nodes.length <= 40) {
        const all = new Set(
          matrix.nodes.map((n) => (o.groupBy ? (n.labels[o.groupBy] ?? `(no ${o.groupBy})`) : 'all nodes')),
        );
        setOptions({ ...o, expanded: all });
      } else setOptions(o);
    }
  }, [matrix, options]);
  useEffect(() => {
    if (options)
      history.replaceState(
        null,
        '',
        `?${withFleetQuery(location.search, queryFromOptions(options, nodesText))}${location.hash}`,
      );
  }, [options, nodesText]);

  const view = useMemo(
    () =>
      matrix && options
        ? matrixView(matrix, { ...options, nodeSelector: parseSelector(nodesText) ?? [] })
        : null,
    [matrix, options, nodesText],
  );
  const labelKeys = useMemo(
    () => [...new Set((matrix?.nodes ?? []).flatMap((n) => Object.keys(n.labels)))].sort(),
    [matrix],
  );
  const update = (o: Partial<MatrixOptions>) => options && setOptions({ ...options, ...o });
  const toggle = (g: string) => {
    if (!options) return;
    const e = new Set(options.expanded);
    if (e.has(g)) e.delete(g);
    else e.add(g);
    update({ expanded: e });
  };
  const letterOf = (node: string, vip: string): MatrixCell => {
    const i = matrix?.nodes.findIndex((n) => n.name === node) ?? -1;
    const v = matrix?.vips.find((x) => x.id === vip);
    return ((i >= 0 && v?.cells[i]) || '.') as MatrixCell;
  };
  const onAlert = (a: ApiAlert) => {
    if (a.subject.includes('%')) update({ vipText: a.subject.split('%')[1] ?? a.subject, state: 'all' });
    else if (a.subject !== 'fleet') setSelection({ kind: 'node', node: a.subject });
  };
  const lost = matrix?.nodes.filter((n) => n.state === 'lost').length ?? 0;
  const drained = matrix?.nodes.filter((n) => n.drained).length ?? 0;
  const shownSelection =
    selection?.kind === 'cell'
      ? { ...selection, letter: letterOf(selection.node, selection.vip) }
      : selection;

  const fleetView = html`${
      matrix
        ? html`<p class="summary" aria-label="fleet summary">
            <span><strong>${matrix.nodes.length}</strong> nodes</span>
            ${lost > 0 ? html`<span class="bad">⊘ ${lost} lost</span>` : null}
            ${drained > 0 ? html`<span>= ${drained} drained</span>` : null}
            <span><strong>${matrix.vips.length}</strong> VIPs</span>
            <span class=${view && view.below > 0 ? 'bad' : 'ok'}
              >${view && view.below > 0 ? '▼' : '✓'} ${view?.below ?? 0} below minimum</span
            >
            <span class=${snap.alerts.length > 0 ? 'bad' : ''}>${snap.alerts.length} alerts</span>
            <span class="muted">as of ${new Date(matrix.generatedAt).toLocaleTimeString()}</span>
          </p>`
        : html`<p class="muted">reading the fleet…</p>`
    }
    ${
      options
        ? html`<${Filters}
            options=${options}
            labelKeys=${labelKeys}
            nodesText=${nodesText}
            onOptions=${update}
            onNodesText=${setNodesText}
          />`
        : null
    }
    <div class="layout">
      <main class="main">
        ${
          view
            ? view.tables.length === 0
              ? html`<p class="muted">
                  no VIP to
                  show${matrix && matrix.vips.length > 0 ? ' with these filters' : ': no node has reported a rule yet'}
                </p>`
              : html`<${MatrixTable}
                  view=${view}
                  selected=${selection?.kind === 'cell' ? selection : null}
                  onCell=${(node: string, vip: string) => setSelection({ kind: 'cell', node, vip, letter: letterOf(node, vip) })}
                  onNode=${(node: string) => setSelection({ kind: 'node', node })}
                  onGroup=${toggle}
                  onPage=${(g: string, page: number) => options && update({ pages: new Map(options.pages).set(g, page) })}
                />`
            : null
        }
        <${Legend} />
      </main>
      <aside class="side">
        ${
          shownSelection
            ? html`<${DetailPanel}
                api=${api}
                selection=${shownSelection}
                caller=${caller}
                drained=${matrix?.nodes.find((n) => n.name === shownSelection.node)?.drained ?? null}
                onClose=${() => setSelection(null)}
              />`
            : null
        }
        <${AlertsPanel} alerts=${snap.alerts} onSubject=${onAlert} />
      </aside>
    </div>`;

  return html`<div class="app">
    <header class="top">
      <h1>rhi fleet</h1>
      <${TabBar} tab=${tab} onTab=${openTab} />
      <${StreamBadge} s=${stream} />
      ${matrix?.stale ? html`<span class="badge bad" role="alert">controller cannot reach NATS: this view may be stale</span>` : null}
      ${snap.error ? html`<span class="badge bad" role="alert">${snap.error}</span>` : null}
      <span class="who"
        >${caller ? html`${caller.name} <span class="muted">(${caller.role})</span>` : null}</span
      >
      <button class="link" onClick=${() => onLogout(null)}>sign out</button>
    </header>
    ${
      tab === 'rollouts'
        ? html`<${RolloutsView} api=${api} caller=${caller} rolloutTick=${rolloutTick} />`
        : tab === 'timeline'
          ? html`<${TimelineView} api=${api} matrix=${matrix} eventTick=${eventTick} />`
          : fleetView
    }
  </div>`;
}

/** The page: the token first, then the fleet. */
export function App() {
  const [token, setToken] = useState<string | null>(() => initialToken());
  const [message, setMessage] = useState<string | null>(null);
  if (!token)
    return html`<${Login}
      message=${message}
      onToken=${(t: string) => (sessionStorage.setItem(TOKEN_KEY, t), setToken(t))}
    />`;
  return html`<${Dashboard}
    token=${token}
    onLogout=${(why: string | null) => {
      sessionStorage.removeItem(TOKEN_KEY);
      setMessage(why);
      setToken(null);
    }}
  />`;
}
