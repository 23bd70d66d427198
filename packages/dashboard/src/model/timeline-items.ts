import type { AgentEvent, AlertEvent, OperatorAction, RolloutTimelineEvent } from '@rhi/contracts/fleet';

/** One entry of `GET /api/v1/events`, as the controller answers it (its `TimelineEntry`). */
export interface TimelineEntry {
  /** The events stream's sequence: a stable id across replicas, growing with time. */
  readonly seq: number;
  /** When it was stored (ISO). */
  readonly time: string;
  /** The NATS subject it came on (`rhi.v1.events.<node>`, `rhi.v1.events.controller.alerts`, ...). */
  readonly subject: string;
  /** An `AgentEvent`, `AlertEvent`, `OperatorAction` or `RolloutTimelineEvent`; anything else is shown raw. */
  readonly event: unknown;
}

/** `GET /api/v1/events`: at most `limit` entries from `since`, oldest first; `truncated` when more follow. */
export interface EventsAnswer {
  readonly events: readonly TimelineEntry[];
  readonly truncated: boolean;
}

/** The families of kinds the kind filter offers besides each kind. */
export const KIND_GROUPS = {
  route: 'route transitions',
  node: 'node events',
  alert: 'alerts',
  operator: 'operator actions',
  rollout: 'rollouts',
  other: 'other',
} as const;
export type KindGroup = keyof typeof KIND_GROUPS;

/** A timeline entry as the page shows it and the charts count it. */
export interface TimelineItem {
  readonly seq: number;
  /** When it was stored (epoch ms). */
  readonly at: number;
  /** The agent's event name (`routeWithdrawn`), `alertOpened`/`alertClosed`, `drain`/`undrain`, `rollout.<action>`. */
  readonly kind: string;
  readonly group: KindGroup;
  /** A glyph for the kind, always shown beside its name. */
  readonly icon: string;
  /** The node it is about, when one. */
  readonly node: string | null;
  /** The VIP (route id, `table%prefix`) it is about, when one. */
  readonly vip: string | null;
  /** What it is about when neither a node nor a VIP says it (an alert's subject, a drain's selector, a rollout). */
  readonly subject: string;
  readonly message: string;
  /** Who did it, for an operator's action or a rollout's. */
  readonly by: string | null;
  /** For `alertOpened`/`alertClosed`: the alert's kind (`nodeLost`, `vipBelowMinimum`, ...). */
  readonly alertKind: string | null;
}

/** Route transitions: what the controller counts for flapping, and the charts count. */
export const ROUTE_TRANSITIONS: ReadonlySet<string> = new Set(['routeAnnounced', 'routeWithdrawn']);

const ROUTE_EVENTS = new Set([...ROUTE_TRANSITIONS, 'routeRefused', 'routeNotExported', 'routeExported']);

const ICONS: Record<string, string> = {
  routeAnnounced: '▲',
  routeWithdrawn: '▼',
  routeRefused: '#',
  routeNotExported: '~',
  routeExported: '↗',
  ruleSetApplied: '✓',
  ruleSetRejected: '✗',
  drained: '=',
  undrained: '≠',
  haproxyUnreachable: '⚠',
  haproxyReachable: '✓',
  birdUnreachable: '⚠',
  birdReachable: '✓',
  birdConfigError: '⚠',
  birdConfigAccepted: '✓',
  birdProtocolDisabled: '⊘',
  birdProtocolEnabled: '✓',
  birdDriftRepaired: '↺',
  eventRingUnavailable: '⚠',
  eventRingFollowed: '✓',
  alertOpened: '⚠',
  alertClosed: '✓',
  drain: '=',
  undrain: '≠',
};
const GROUP_ICONS: Record<KindGroup, string> = {
  route: '•',
  node: '•',
  alert: '⚠',
  operator: '✎',
  rollout: '⇢',
  other: '?',
};

const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

type Described = Omit<TimelineItem, 'seq' | 'at' | 'icon'>;

function agentEvent(e: AgentEvent): Described {
  const vip = e.table !== undefined && e.prefix !== undefined ? `${e.table}%${e.prefix}` : null;
  return {
    kind: e.event,
    group: ROUTE_EVENTS.has(e.event) ? 'route' : 'node',
    node: e.node,
    vip,
    subject: vip ?? e.node,
    message: e.reason,
    by: null,
    alertKind: null,
  };
}

function alertEvent(e: AlertEvent): Described {
  return {
    kind: e.event,
    group: 'alert',
    node: e.node ?? null,
    vip: e.vip ?? (e.subject.includes('%') ? e.subject : null),
    subject: e.subject,
    message: `${e.kind}: ${e.reason}`,
    by: null,
    alertKind: e.kind,
  };
}

function operatorAction(e: OperatorAction): Described {
  const counts = new Map<string, number>();
  for (const a of e.answers) counts.set(a.result, (counts.get(a.result) ?? 0) + 1);
  const answers = [...counts].map(([result, n]) => `${n} ${result}`).join(', ');
  const parts = [
    e.reason,
    e.forced ? `forced past ${plural(e.forced.blockers, 'blocker')}: ${e.forced.reason}` : undefined,
    answers === '' ? 'no node answered' : `nodes: ${answers}`,
  ];
  return {
    kind: e.action,
    group: 'operator',
    node: NODE_NAME.test(e.target) ? e.target : null,
    vip: null,
    subject: e.target,
    message: parts.filter((p) => p !== undefined && p !== '').join('; '),
    by: e.by,
    alertKind: null,
  };
}

function rolloutEvent(e: RolloutTimelineEvent): Described {
  const nodes = e.nodes ?? [];
  const count = e.nodeCount ?? nodes.length;
  const parts = [
    e.reason,
    e.step === undefined ? undefined : `step ${e.step}`,
    e.serial === undefined ? undefined : `serial ${e.serial}`,
    count === 0 ? undefined : count <= 3 && nodes.length === count ? nodes.join(', ') : plural(count, 'node'),
  ];
  return {
    kind: `rollout.${(e.kind === 'alert' ? e.alert : e.action) ?? e.kind}`,
    group: 'rollout',
    node: nodes.length === 1 && count === 1 ? nodes[0]! : null,
    vip: null,
    subject: `rollout ${e.rollout}`,
    message: parts.filter((p) => p !== undefined && p !== '').join('; '),
    by: e.by,
    alertKind: null,
  };
}

function describe(entry: TimelineEntry): Described {
  const e = entry.event;
  const schema = isObject(e) ? e.schema : undefined;
  if (isObject(e) && typeof e.event === 'string' && typeof e.node === 'string' && schema === 'rhi.v1.event')
    return agentEvent(e as unknown as AgentEvent);
  if (isObject(e) && schema === 'rhi.v1.alert' && typeof e.subject === 'string')
    return alertEvent(e as unknown as AlertEvent);
  if (isObject(e) && schema === 'rhi.v1.action' && Array.isArray(e.answers))
    return operatorAction(e as unknown as OperatorAction);
  if (isObject(e) && schema === 'rhi.v1.rollout.event')
    return rolloutEvent(e as unknown as RolloutTimelineEvent);
  // Not a shape this page knows (a newer controller, or an unreadable message): shown as it came.
  return {
    kind: isObject(e) && typeof e.event === 'string' ? e.event : 'unknown',
    group: 'other',
    node: isObject(e) && typeof e.node === 'string' ? e.node : null,
    vip: null,
    subject: entry.subject,
    message: JSON.stringify(e)?.slice(0, 200) ?? '',
    by: null,
    alertKind: null,
  };
}

/** What the page shows of a timeline entry: its kind, icon, node, VIP, message and who. Pure. */
export function timelineItem(entry: TimelineEntry): TimelineItem {
  const d = describe(entry);
  return { seq: entry.seq, at: Date.parse(entry.time), icon: ICONS[d.kind] ?? GROUP_ICONS[d.group], ...d };
}

/** What the entries are filtered by on the page (the API filters by exact node and VIP only). */
export interface ItemFilter {
  /** Part of a node name (case-insensitive); empty: any. */
  readonly node: string;
  /** Part of a VIP's route id (case-insensitive); empty: any. */
  readonly vip: string;
  /** A kind (`routeWithdrawn`), a {@link KindGroup} (`route`), or empty: any. */
  readonly kind: string;
}

const contains = (value: string | null, part: string) =>
  part === '' || (value !== null && value.toLowerCase().includes(part.toLowerCase()));

/** Whether `item` passes `f`. Pure. */
export function itemMatches(item: TimelineItem, f: ItemFilter): boolean {
  const node = f.node.trim();
  const vip = f.vip.trim();
  if (
    node !== '' &&
    !contains(item.node, node) &&
    !(item.group === 'operator' && contains(item.subject, node))
  )
    return false;
  if (vip !== '' && !contains(item.vip, vip)) return false;
  const kind = f.kind.trim();
  if (kind === '') return true;
  return kind in KIND_GROUPS ? item.group === kind : item.kind === kind;
}
