import type { Alert } from '../fleet/alerts.js';
import type { VipView } from '../fleet/vip-view.js';
import type { TimelineEntry } from '../ports.js';
import type { NodeSummary, VipSummary } from '../view/summaries.js';
import { table } from './table.js';

/** The API's alert, with its time as ISO text. */
export type ApiAlert = Omit<Alert, 'since'> & { readonly since: string };

/** The line that opens every rendering of a stale view (the controller cannot reach NATS). */
export const staleNote = (stale: boolean) =>
  stale ? 'STALE: the controller cannot reach NATS; this is its last view\n' : '';

export function renderStatus(v: {
  nodes: readonly NodeSummary[];
  vips: readonly VipSummary[];
  alerts: readonly ApiAlert[];
  stale: boolean;
}): string {
  const lost = v.nodes.filter((n) => n.state === 'lost').length;
  const short = v.vips.filter((x) => x.advertisers < x.minimum).length;
  const lines = [
    `nodes:  ${v.nodes.length} (${v.nodes.length - lost} up, ${lost} lost)`,
    `vips:   ${v.vips.length} (${short} below their minimum of advertisers)`,
    `alerts: ${v.alerts.length}`,
    ...v.alerts.map((a) => `  ${a.kind.padEnd(16)} ${a.message} (since ${a.since})`),
  ];
  return `${staleNote(v.stale)}${lines.join('\n')}`;
}

export function renderNodes(nodes: readonly NodeSummary[], stale: boolean): string {
  return `${staleNote(stale)}${table([
    ['NODE', 'STATE', 'RULE SET', 'DRAINED', 'HAPROXY', 'BIRD', 'ROUTES', 'LAST HEARD'],
    ...nodes.map((n) => [
      n.name,
      n.state,
      n.ruleSet ? `${n.ruleSet.hash.slice(0, 12)} #${n.ruleSet.serial}` : 'none',
      n.drained ? 'yes' : 'no',
      n.haproxyReachable ? 'ok' : 'DOWN',
      n.birdReachable ? 'ok' : 'DOWN',
      `${n.desired}/${n.routes}`,
      n.lastHeard,
    ]),
  ])}`;
}

export function renderVips(vips: readonly VipSummary[], stale: boolean): string {
  return `${staleNote(stale)}${table([
    ['VIP', 'ADVERTISERS', 'MIN', 'NODES', 'STATES'],
    ...vips.map((v) => [
      v.id,
      String(v.advertisers),
      String(v.minimum),
      String(v.nodes),
      Object.entries(v.states)
        .map(([state, n]) => `${state} ${n}`)
        .join(', '),
    ]),
  ])}`;
}

/** One VIP, node by node: who advertises it and why the others do not. */
export function renderExplain(vip: VipView, node: string | undefined, stale: boolean): string {
  const nodes = node === undefined ? vip.nodes : vip.nodes.filter((n) => n.node === node);
  return `${staleNote(stale)}${vip.id}: ${vip.advertisers} of ${vip.nodes.length} nodes advertise it (minimum ${vip.minimum})\n${table(
    [
      ['NODE', 'STATE', 'RULE', 'DESIRED', 'IN BIRD', 'DAMPING', 'WHY'],
      ...nodes.map((n) => [
        n.node,
        n.state,
        n.decision,
        n.desired ? 'yes' : 'no',
        n.inBird === null ? '?' : n.inBird ? 'yes' : 'no',
        n.damping,
        n.reason,
      ]),
    ],
  )}`;
}

export function renderAlerts(alerts: readonly ApiAlert[], stale: boolean): string {
  if (alerts.length === 0) return `${staleNote(stale)}no open alerts`;
  return `${staleNote(stale)}${table([
    ['KIND', 'SUBJECT', 'SINCE', 'MESSAGE'],
    ...alerts.map((a) => [a.kind, a.subject, a.since, a.message]),
  ])}`;
}

export function renderEvent(e: TimelineEntry): string {
  const ev = e.event as { node?: string; event?: string; table?: string; prefix?: string; reason?: string };
  const route = ev.prefix ? ` ${ev.table ?? ''}%${ev.prefix}` : '';
  return `${e.time}  ${ev.node ?? e.subject}  ${ev.event ?? '?'}${route}: ${ev.reason ?? ''}`;
}
