import type { FleetMatrix, MatrixNode, MatrixVip } from '@rhi/contracts/fleet';
import type { MatrixState } from '../src/model/matrix-state.js';
import { DEFAULT_PAGE_SIZE, type MatrixOptions } from '../src/model/matrix-view.js';

export const T0 = '2025-01-01T00:00:00.000Z';

/** A node column: up, reachable, undrained, with the labels given. */
export function node(
  name: string,
  labels: Record<string, string> = {},
  over: Partial<MatrixNode> = {},
): MatrixNode {
  return {
    name,
    state: 'up',
    labels,
    drained: false,
    haproxyReachable: true,
    birdReachable: true,
    lastHeard: T0,
    ruleSet: { serial: 1, hash: 'h1' },
    ...over,
  };
}

/**
 * A VIP row, `id` as `table%prefix`; `advertisers` defaults to the `A`/`h` cells, `minimum` to 1 and
 * `nodes` to the cells that are not `.`.
 */
export function vip(id: string, cells: string, over: Partial<MatrixVip> = {}): MatrixVip {
  const [table = '', prefix = ''] = id.split('%');
  return {
    id,
    table,
    prefix,
    family: prefix.includes(':') ? 'ipv6' : 'ipv4',
    advertisers: [...cells].filter((c) => c === 'A' || c === 'h').length,
    minimum: 1,
    nodes: [...cells].filter((c) => c !== '.').length,
    cells,
    ...over,
  };
}

export function matrix(
  nodes: readonly MatrixNode[],
  vips: readonly MatrixVip[],
  over: Partial<FleetMatrix> = {},
): FleetMatrix {
  return { vips, nodes, changeId: 1, generatedAt: T0, stale: false, ...over };
}

export function state(nodes: readonly MatrixNode[], vips: readonly MatrixVip[]): MatrixState {
  return { vips, nodes, generatedAt: T0, stale: false };
}

/** The options of a page with nothing chosen: one group of every node, collapsed. */
export function options(over: Partial<MatrixOptions> = {}): MatrixOptions {
  return {
    groupBy: null,
    expanded: new Set(),
    vipText: '',
    nodeSelector: [],
    state: 'all',
    pageSize: DEFAULT_PAGE_SIZE,
    pages: new Map(),
    ...over,
  };
}

/** `[id, cells]` of each VIP: what a merge or a view keeps, in order. */
export const rows = (vips: readonly MatrixVip[]) => vips.map((v) => [v.id, v.cells]);
export const names = (nodes: readonly MatrixNode[]) => nodes.map((n) => n.name);
