import { MATRIX_CELLS, type MatrixCell, type MatrixNode, type MatrixVip } from '@rhi/contracts/fleet';
import type { MatrixState } from './matrix-state.js';
import { matches, type Selector } from './selector.js';

/** The letters that are a problem wherever they are. */
export const PROBLEM_CELLS: ReadonlySet<string> = new Set(['L', 'U', 'X', 'S']);

/** Most urgent first: what a group's cell shows when its nodes differ. */
const URGENCY: readonly MatrixCell[] = ['L', 'U', 'X', 'S', 'N', 'B', 'd', 'W', 'h', 'A', '.'];

/** How the page draws the matrix: chosen by the operator, kept in the URL. */
export interface MatrixOptions {
  /** The label whose values group the node columns; null: one group of every node. */
  readonly groupBy: string | null;
  /** Groups shown node by node; the others are one column each. */
  readonly expanded: ReadonlySet<string>;
  /** Rows whose id contains this text (case-insensitive). */
  readonly vipText: string;
  /** Only nodes whose labels match. */
  readonly nodeSelector: Selector;
  /** `all`, `problems` (below minimum, or any lost, unknown, drift or not-sent cell), or one letter. */
  readonly state: 'all' | 'problems' | MatrixCell;
  /** Node columns shown per expanded group (the page pages through the rest). */
  readonly pageSize: number;
  /** The page shown of each expanded group (default 0); clamped to the group's first and last page. */
  readonly pages: ReadonlyMap<string, number>;
}

export const DEFAULT_PAGE_SIZE = 100;

/** A column: one node, or a group of nodes drawn as one. */
export type Column =
  | { readonly kind: 'node'; readonly node: MatrixNode; readonly index: number; readonly group: string }
  | {
      readonly kind: 'group';
      readonly group: string;
      readonly indices: readonly number[];
      readonly lost: number;
      readonly drained: number;
    };

/** A group of columns, as its header shows it. */
export interface ColumnGroup {
  readonly group: string;
  readonly nodes: number;
  readonly expanded: boolean;
  /** The columns it takes. */
  readonly span: number;
  readonly page: number;
  readonly pages: number;
}

/** One drawn cell: a node's letter, or a group's counts. */
export type Cell =
  | { readonly kind: 'node'; readonly letter: MatrixCell }
  | {
      readonly kind: 'group';
      /** The most urgent letter among its nodes. */
      readonly worst: MatrixCell;
      /** Nodes of the group advertising it. */
      readonly advertising: number;
      /** Nodes of the group with a rule for it. */
      readonly withRule: number;
      readonly counts: Readonly<Partial<Record<MatrixCell, number>>>;
    };

export interface Row {
  readonly vip: MatrixVip;
  readonly below: boolean;
  readonly problem: boolean;
  readonly cells: readonly Cell[];
}

export interface TableRows {
  readonly table: string;
  readonly rows: readonly Row[];
}

/** What the page draws. */
export interface MatrixView {
  readonly groups: readonly ColumnGroup[];
  readonly columns: readonly Column[];
  readonly tables: readonly TableRows[];
  /** VIPs below their minimum (all of them, whatever the filters). */
  readonly below: number;
  readonly shownVips: number;
  readonly shownNodes: number;
}

const letterAt = (vip: MatrixVip, i: number) => (vip.cells[i] ?? '.') as MatrixCell;
const counts = (l: MatrixCell) => MATRIX_CELLS[l].counts;

/** The label most nodes have, `site` first: the default grouping. */
export function defaultGroupBy(nodes: readonly MatrixNode[]): string | null {
  const seen = new Map<string, number>();
  for (const n of nodes) for (const k of Object.keys(n.labels)) seen.set(k, (seen.get(k) ?? 0) + 1);
  if ((seen.get('site') ?? 0) > 0) return 'site';
  let best: string | null = null;
  for (const [k, c] of seen) if (best === null || c > seen.get(best)!) best = k;
  return best;
}

/** The name of a node's group under `groupBy` (nodes without the label: `(no <label>)`). */
export function groupOf(node: MatrixNode, groupBy: string | null): string {
  if (groupBy === null) return 'all nodes';
  return node.labels[groupBy] ?? `(no ${groupBy})`;
}

/** Derives what to draw from the state and the options. Pure: O(VIPs x columns drawn + nodes). */
export function matrixView(state: MatrixState, o: MatrixOptions): MatrixView {
  const byGroup = new Map<string, number[]>();
  state.nodes.forEach((n, i) => {
    if (!matches(o.nodeSelector, n.labels)) return;
    const g = groupOf(n, o.groupBy);
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(i);
  });
  const groups: ColumnGroup[] = [];
  const columns: Column[] = [];
  for (const g of [...byGroup.keys()].sort()) {
    const indices = byGroup.get(g)!;
    const expanded = o.expanded.has(g);
    if (!expanded) {
      const members = indices.map((i) => state.nodes[i]!);
      columns.push({
        kind: 'group',
        group: g,
        indices,
        lost: members.filter((n) => n.state === 'lost').length,
        drained: members.filter((n) => n.drained).length,
      });
      groups.push({ group: g, nodes: indices.length, expanded, span: 1, page: 0, pages: 1 });
      continue;
    }
    const pages = Math.max(1, Math.ceil(indices.length / o.pageSize));
    const asked = Math.trunc(o.pages.get(g) ?? 0);
    const page = Number.isNaN(asked) ? 0 : Math.min(Math.max(0, asked), pages - 1);
    const shown = indices.slice(page * o.pageSize, (page + 1) * o.pageSize);
    for (const i of shown) columns.push({ kind: 'node', node: state.nodes[i]!, index: i, group: g });
    groups.push({ group: g, nodes: indices.length, expanded, span: shown.length, page, pages });
  }
  const visible = [...byGroup.values()].flat();
  const text = o.vipText.trim().toLowerCase();
  const tables = new Map<string, Row[]>();
  let below = 0;
  for (const vip of state.vips) {
    const isBelow = vip.advertisers < vip.minimum;
    if (isBelow) below++;
    if (text !== '' && !vip.id.toLowerCase().includes(text)) continue;
    const problem = isBelow || visible.some((i) => PROBLEM_CELLS.has(letterAt(vip, i)));
    if (o.state === 'problems' && !problem) continue;
    if (o.state !== 'all' && o.state !== 'problems' && !visible.some((i) => letterAt(vip, i) === o.state))
      continue;
    const cells = columns.map((c): Cell => {
      if (c.kind === 'node') return { kind: 'node', letter: letterAt(vip, c.index) };
      const tally: Partial<Record<MatrixCell, number>> = {};
      let advertising = 0;
      let withRule = 0;
      for (const i of c.indices) {
        const l = letterAt(vip, i);
        tally[l] = (tally[l] ?? 0) + 1;
        if (l !== '.') withRule++;
        if (counts(l)) advertising++;
      }
      const worst = URGENCY.find((l) => (tally[l] ?? 0) > 0) ?? '.';
      return { kind: 'group', worst, advertising, withRule, counts: tally };
    });
    let rows = tables.get(vip.table);
    if (!rows) tables.set(vip.table, (rows = []));
    rows.push({ vip, below: isBelow, problem, cells });
  }
  const rank = (r: Row) => (r.below ? 0 : r.problem ? 1 : 2);
  const ordered = [...tables]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([table, rows]) => ({
      table,
      rows: rows.sort((a, b) => rank(a) - rank(b) || (a.vip.id < b.vip.id ? -1 : 1)),
    }));
  // Tables with a VIP below its minimum come first too.
  ordered.sort((a, b) => rank(a.rows[0]!) - rank(b.rows[0]!));
  return {
    groups,
    columns,
    tables: ordered,
    below,
    shownVips: ordered.reduce((n, t) => n + t.rows.length, 0),
    shownNodes: visible.length,
  };
}
