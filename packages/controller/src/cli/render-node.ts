import {
  HEALTH_REPORT_MAX_BYTES,
  routeId,
  type HealthReport,
  type NodeStatus,
  type RouteStatus,
} from '@rhi/contracts';
import { LOST_AFTER_HEARTBEATS } from '../fleet/liveness.js';
import type { NodeRuleSetState } from '../rulesets/rule-set-states.js';
import type { NodeSummary } from '../view/summaries.js';
import { staleNote } from './render.js';
import { table } from './table.js';

/** The API's answer for one node (`GET /api/v1/nodes/{name}`), as `rhictl nodes NAME` reads it. */
export interface NodeDetail {
  /** The node's summary, as in the node list. */
  readonly node: NodeSummary;
  /** The last status the node published. */
  readonly status: NodeStatus;
  /** The node's latest HAProxy health report, or null while the controller has received none. */
  readonly health: HealthReport | null;
  /** Its rule-set state; null (or absent, from an older controller) when the controller keeps no rule sets. */
  readonly ruleSet?: NodeRuleSetState | null;
}

/**
 * One node for a person on call: a header (liveness, rule set, drain, daemons), its routes, and its
 * HAProxy health with what is down first. `now` (epoch ms) only says how old the times are. Pure.
 */
export function renderNode(detail: NodeDetail, stale: boolean, now: number): string {
  return `${staleNote(stale)}${[
    header(detail, now),
    routes(detail.status.routes),
    health(detail.health, now),
  ].join('\n\n')}`;
}

function header({ node, status: s, ruleSet }: NodeDetail, now: number): string {
  const labels = Object.entries(s.labels)
    .sort(([a], [b]) => compare(a, b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const rows: [string, string][] = [
    ['node', node.name],
    [
      'state',
      node.state === 'up'
        ? 'up'
        : `LOST: silent for over ${LOST_AFTER_HEARTBEATS} heartbeat intervals; below is its last status`,
    ],
    ['last heard', `${node.lastHeard} (${ago(node.lastHeard, now)})`],
    ['agent', s.agentVersion],
    ['labels', labels || 'none'],
    [
      'rule set',
      s.ruleSet
        ? `${s.ruleSet.hash.slice(0, 12)} #${s.ruleSet.serial} from ${s.ruleSet.source}, applied ${s.ruleSet.appliedAt}`
        : 'none',
    ],
    ...assignment(ruleSet),
    ['drain', drain(s.drain, now)],
    ['haproxy', haproxy(s.haproxy)],
    ['bird', bird(s.bird)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`).join('\n');
}

/** The assignment row, when one is assigned: what an operator checks after a push. */
function assignment(state: NodeRuleSetState | null | undefined): [string, string][] {
  if (!state?.assigned) return [];
  const a = state.assigned;
  const what = `#${a.serial} ${a.hash.slice(0, 12)}${a.rollout ? ` (rollout ${a.rollout})` : ''}`;
  if (state.sync === 'synced') return [['assigned', `${what}: running it`]];
  if (state.sync === 'error' && state.error) {
    const e = state.error;
    return [
      [
        'assigned',
        `${what}: REJECTED${e.code ? ` (${e.code})` : ''} at ${e.at}: ${e.reason}; keeps the rule set above`,
      ],
    ];
  }
  return [['assigned', `${what}: not applied yet`]];
}

function drain(d: NodeStatus['drain'], now: number): string {
  if (!d.drained) return 'no';
  return [
    'DRAINED',
    d.since && `since ${d.since} (${ago(d.since, now)})`,
    d.mode && `mode ${d.mode}`,
    d.waitSessions !== undefined &&
      `waiting for ${d.waitSessions} sessions or fewer (last read ${d.sessions ?? '?'})`,
    d.deadline && `withdrawn by ${d.deadline} at the latest`,
    d.reason && `reason: ${oneLine(d.reason)}`,
  ]
    .filter(Boolean)
    .join(', ');
}

function haproxy(h: NodeStatus['haproxy']): string {
  const ring = h.eventRing
    ? `; event ring ${h.eventRing.name} ${h.eventRing.state}${h.eventRing.error ? `: ${oneLine(h.eventRing.error)}` : ''}`
    : '';
  return `${daemon(h.reachable, h.pid === undefined ? undefined : `pid ${h.pid}`, h.error)}${ring}`;
}

function bird(b: NodeStatus['bird']): string {
  const disabled = b.disabled?.length
    ? `; protocols DISABLED as a fail-safe (their routes withdrawn): ${b.disabled.join(', ')}`
    : '';
  return `${daemon(b.reachable, b.version === undefined ? undefined : `BIRD ${b.version}`, b.error)}${disabled}`;
}

function daemon(reachable: boolean, detail: string | undefined, error: string | undefined): string {
  return `${reachable ? 'reachable' : 'UNREACHABLE'}${detail ? ` (${detail})` : ''}${error ? `: ${oneLine(error)}` : ''}`;
}

function routes(rs: readonly RouteStatus[]): string {
  if (rs.length === 0) return 'routes: none';
  return `routes: ${rs.length} (${rs.filter((r) => r.desired).length} desired)\n${table([
    ['ROUTE', 'DECISION', 'DESIRED', 'IN BIRD', 'DAMPING', 'ALLOWED', 'REASON'],
    ...rs.map((r) => [
      routeId(r),
      r.decision,
      r.desired ? 'yes' : 'no',
      r.inBird === null ? '?' : r.inBird ? 'yes' : 'no',
      r.damping,
      r.allowed ? 'yes' : 'NO',
      oneLine(r.reason),
    ]),
  ])}`;
}

function health(h: HealthReport | null, now: number): string {
  if (!h) return 'haproxy health: no health report received';
  const parts = [
    `haproxy health: report #${h.seq} at ${h.time} (${ago(h.time, now)})${h.pid === undefined ? '' : `, pid ${h.pid}`}`,
  ];
  if (!h.reachable) parts.push('HAProxy could NOT be read for this report: it lists no proxies');
  const frontends = downFirst(Object.entries(h.frontends));
  parts.push(
    frontends.length === 0
      ? 'frontends: none'
      : `frontends: ${frontends.length} (${downCount(frontends)} down)\n${table([
          ['FRONTEND', 'UP'],
          ...frontends.map(([name, f]) => [name, f.up ? 'up' : 'DOWN']),
        ])}`,
  );
  const backends = downFirst(Object.entries(h.backends));
  parts.push(
    backends.length === 0
      ? 'backends: none'
      : `backends: ${backends.length} (${downCount(backends)} down)\n${table([
          ['BACKEND', 'UP', 'USABLE/TOTAL'],
          ...backends.map(([name, b]) => [name, b.up ? 'up' : 'DOWN', `${b.serversUp}/${b.serversTotal}`]),
        ])}`,
  );
  if (h.omitted.frontends > 0 || h.omitted.backends > 0)
    parts.push(
      `omitted from the report: ${h.omitted.frontends} frontends, ${h.omitted.backends} backends ` +
        `(it is capped at ${HEALTH_REPORT_MAX_BYTES / 1024} KiB; the proxies its rule set names are kept first)`,
    );
  return parts.join('\n\n');
}

const downFirst = <T extends { readonly up: boolean }>(entries: [string, T][]): [string, T][] =>
  entries.sort(([a, x], [b, y]) => Number(x.up) - Number(y.up) || compare(a, b));

const downCount = (entries: readonly [string, { readonly up: boolean }][]) =>
  entries.filter(([, p]) => !p.up).length;

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** How long before `now` the ISO time `at` was, roughly (`42s ago`, `3m12s ago`, `2h5m ago`, `3d4h ago`). */
function ago(at: string, now: number): string {
  const ms = now - Date.parse(at);
  if (Number.isNaN(ms)) return 'unreadable time';
  if (ms < -1000) return 'ahead of this clock';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60}m ago`;
  return `${Math.floor(h / 24)}d${h % 24}h ago`;
}
