import type { MatrixCell } from '@rhi/contracts/fleet';
import { DEFAULT_PAGE_SIZE, type MatrixOptions } from './matrix-view.js';
import { parseSelector } from './selector.js';

const STATES = new Set(['all', 'problems', 'L', 'U', 'X', 'S', 'h', 'A', 'N', 'B', 'd', 'W']);

/** The options a page address holds (`?group=site&open=par1,ams1&vip=200.1&nodes=role%3Dedge&state=problems`). */
export function optionsFromQuery(query: string, fallbackGroup: string | null): MatrixOptions {
  const q = new URLSearchParams(query);
  const group = q.get('group');
  const state = q.get('state') ?? 'all';
  return {
    groupBy: group === null ? fallbackGroup : group === '' ? null : group,
    expanded: new Set((q.get('open') ?? '').split(',').filter((g) => g !== '')),
    vipText: q.get('vip') ?? '',
    nodeSelector: parseSelector(q.get('nodes') ?? '') ?? [],
    state: (STATES.has(state) ? state : 'all') as MatrixOptions['state'],
    pageSize: DEFAULT_PAGE_SIZE,
    pages: new Map(),
  };
}

/** The query that gives back `o` (only what differs from the defaults). */
export function queryFromOptions(o: MatrixOptions, nodesText: string): string {
  const q = new URLSearchParams();
  q.set('group', o.groupBy ?? '');
  if (o.expanded.size > 0) q.set('open', [...o.expanded].sort().join(','));
  if (o.vipText !== '') q.set('vip', o.vipText);
  if (nodesText.trim() !== '') q.set('nodes', nodesText.trim());
  if (o.state !== 'all') q.set('state', o.state as string);
  return q.toString();
}

/** The query keys {@link queryFromOptions} writes: the fleet view's. */
const FLEET_KEYS = ['group', 'open', 'vip', 'nodes', 'state'];

/** `current` with the fleet view's keys set from `fleetQuery`, and every other view's keys kept. */
export function withFleetQuery(current: string, fleetQuery: string): string {
  const q = new URLSearchParams(current);
  for (const k of FLEET_KEYS) q.delete(k);
  for (const [k, v] of new URLSearchParams(fleetQuery)) q.set(k, v);
  return q.toString();
}

export type StateFilter = 'all' | 'problems' | MatrixCell;
