import { describe, expect, it } from 'vitest';
import type { MatrixVip } from '@rhi/contracts/fleet';
import { defaultGroupBy, groupOf, matrixView, type Cell, type MatrixView } from '../src/model/matrix-view.js';
import { node, options, state, vip } from './fixtures.js';

// Five nodes: par1 has a, b (b lost), ams1 has c (drained), d; e has no site.
const NODES = [
  node('a', { site: 'par1', role: 'edge' }),
  node('b', { site: 'par1', role: 'core' }, { state: 'lost' }),
  node('c', { site: 'ams1', role: 'edge' }, { drained: true }),
  node('d', { site: 'ams1', role: 'edge' }),
  node('e', { role: 'edge' }),
];

const ids = (v: MatrixView) => v.tables.map((t) => [t.table, t.rows.map((r) => r.vip.prefix)]);
const groupCell = (c: Cell | undefined) => {
  if (c?.kind !== 'group') throw new Error(`not a group cell: ${JSON.stringify(c)}`);
  return c;
};
const letters = (v: MatrixView, row = 0) =>
  v.tables[0]!.rows[row]!.cells.map((c) => (c.kind === 'node' ? c.letter : `[${c.worst}]`)).join('');

describe('defaultGroupBy', () => {
  it('is site whenever any node has one', () => {
    expect(
      defaultGroupBy([node('a', { role: 'x' }), node('b', { role: 'y' }), node('c', { site: 'p' })]),
    ).toBe('site');
  });
  it('is otherwise the label most nodes have', () => {
    expect(defaultGroupBy([node('a', { rack: '1' }), node('b', { zone: 'z', rack: '2' })])).toBe('rack');
    expect(
      defaultGroupBy([node('a', { zone: 'z' }), node('b', { rack: '2' }), node('c', { rack: '3' })]),
    ).toBe('rack');
  });
  it('is null when no node has a label', () => {
    expect(defaultGroupBy([node('a')])).toBeNull();
    expect(defaultGroupBy([])).toBeNull();
  });
});

describe('groupOf', () => {
  it("is the node's label value, (no <label>) without it, and one group when not grouping", () => {
    expect(groupOf(NODES[0]!, 'site')).toBe('par1');
    expect(groupOf(NODES[4]!, 'site')).toBe('(no site)');
    expect(groupOf(NODES[4]!, null)).toBe('all nodes');
  });
});

describe('matrixView columns', () => {
  const s = state(NODES, [vip('t%1', 'ALAN.')]);

  it('groups the nodes by the label, groups in name order, each collapsed into one column', () => {
    const v = matrixView(s, options({ groupBy: 'site' }));
    expect(v.groups).toEqual([
      { group: '(no site)', nodes: 1, expanded: false, span: 1, page: 0, pages: 1 },
      { group: 'ams1', nodes: 2, expanded: false, span: 1, page: 0, pages: 1 },
      { group: 'par1', nodes: 2, expanded: false, span: 1, page: 0, pages: 1 },
    ]);
    expect(v.columns).toEqual([
      { kind: 'group', group: '(no site)', indices: [4], lost: 0, drained: 0 },
      { kind: 'group', group: 'ams1', indices: [2, 3], lost: 0, drained: 1 },
      { kind: 'group', group: 'par1', indices: [0, 1], lost: 1, drained: 0 },
    ]);
    expect(v.shownNodes).toBe(5);
  });

  it('with no grouping is one group of every node', () => {
    const v = matrixView(s, options());
    expect(v.columns).toEqual([
      { kind: 'group', group: 'all nodes', indices: [0, 1, 2, 3, 4], lost: 1, drained: 1 },
    ]);
  });

  it('draws an expanded group node by node, next to the collapsed ones', () => {
    const v = matrixView(s, options({ groupBy: 'site', expanded: new Set(['par1']) }));
    expect(
      v.columns.map((c) => (c.kind === 'node' ? `${c.group}/${c.node.name}@${c.index}` : c.group)),
    ).toEqual(['(no site)', 'ams1', 'par1/a@0', 'par1/b@1']);
    expect(v.groups[2]).toMatchObject({ group: 'par1', expanded: true, span: 2, pages: 1 });
    expect(letters(v)).toBe('[.][N]AL');
  });
});

describe('matrixView group cells', () => {
  // One collapsed group of the five nodes.
  const cellOf = (cells: string) =>
    groupCell(matrixView(state(NODES, [vip('t%1', cells)]), options()).tables[0]!.rows[0]!.cells[0]);

  it('counts the advertising nodes (A and h, never L) and the nodes with a rule', () => {
    expect(cellOf('AhL.W')).toEqual({
      kind: 'group',
      worst: 'L',
      advertising: 2,
      withRule: 4,
      counts: { A: 1, h: 1, L: 1, '.': 1, W: 1 },
    });
  });

  it('shows the most urgent letter of its nodes', () => {
    expect(cellOf('AAAAA').worst).toBe('A');
    expect(cellOf('AAXAU').worst).toBe('U');
    expect(cellOf('ASAXA').worst).toBe('X');
    expect(cellOf('hAASh').worst).toBe('S');
    expect(cellOf('AWdhA').worst).toBe('d');
    expect(cellOf('AAhAW').worst).toBe('W');
    expect(cellOf('..N.B').worst).toBe('N');
    expect(cellOf('Ah...').worst).toBe('h');
    expect(cellOf('.....')).toMatchObject({ worst: '.', advertising: 0, withRule: 0 });
  });

  it('reads a cell missing from a short row as no rule', () => {
    expect(cellOf('AA')).toMatchObject({ advertising: 2, withRule: 2, counts: { A: 2, '.': 3 } });
  });

  it('tallies only the nodes of its own group', () => {
    const v = matrixView(state(NODES, [vip('t%1', 'AWAAL')]), options({ groupBy: 'site' }));
    expect(v.tables[0]!.rows[0]!.cells.map((c) => groupCell(c))).toMatchObject([
      { worst: 'L', advertising: 0, withRule: 1 },
      { worst: 'A', advertising: 2, withRule: 2 },
      { worst: 'W', advertising: 1, withRule: 2 },
    ]);
  });
});

describe('matrixView paging', () => {
  const many = Array.from({ length: 250 }, (_, i) => node(`n${String(i).padStart(3, '0')}`, { site: 'big' }));
  const s = state([...many, node('z', { site: 'small' })], [vip('t%1', 'A'.repeat(251))]);
  const view = (page?: number) =>
    matrixView(
      s,
      options({
        groupBy: 'site',
        expanded: new Set(['big']),
        ...(page === undefined ? {} : { pages: new Map([['big', page]]) }),
      }),
    );
  const shown = (v: MatrixView) => v.columns.flatMap((c) => (c.kind === 'node' ? [c.index] : []));

  it('shows 100 nodes of an expanded group per page, the first page by default', () => {
    const v = view();
    expect(v.groups[0]).toEqual({ group: 'big', nodes: 250, expanded: true, span: 100, page: 0, pages: 3 });
    expect(shown(v)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(v.columns).toHaveLength(101);
    expect(v.tables[0]!.rows[0]!.cells).toHaveLength(101);
    expect(v.shownNodes).toBe(251);
  });

  it('shows the page asked for, and the last page for one past the end', () => {
    expect(shown(view(1))[0]).toBe(100);
    const last = view(2);
    expect(last.groups[0]).toMatchObject({ span: 50, page: 2 });
    expect(shown(last)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    expect(view(9).groups[0]).toMatchObject({ span: 50, page: 2 });
  });

  it('shows the first page for a negative page, or one that is no number', () => {
    for (const page of [-1, -7, -0.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
      const v = view(page);
      expect(v.groups[0]).toMatchObject({ span: 100, page: 0, pages: 3 });
      expect(shown(v)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    }
    expect(view(Number.POSITIVE_INFINITY).groups[0]).toMatchObject({ span: 50, page: 2 });
    expect(view(1.5).groups[0]).toMatchObject({ span: 100, page: 1 });
  });

  it('honours another page size', () => {
    const v = matrixView(s, options({ groupBy: 'site', expanded: new Set(['big', 'small']), pageSize: 40 }));
    expect(v.groups.map((g) => [g.group, g.span, g.pages])).toEqual([
      ['big', 40, 7],
      ['small', 1, 1],
    ]);
  });
});

describe('matrixView filters', () => {
  const VIPS: MatrixVip[] = [
    vip('vol1%198.18.200.1/32', 'AAAAA', { minimum: 2 }),
    vip('vol1%198.18.200.2/32', 'AW..X', { minimum: 1 }), // drift only on e
    vip('vol1%198.18.200.3/32', 'W..WW', { minimum: 1 }), // below its minimum
    vip('vol2%198.18.7.1/32', 'd.A..', { minimum: 1 }),
  ];
  // The same nodes, none lost (a lost node's cells would all be L).
  const FLEET = NODES.map((n) => ({ ...n, state: 'up' as const }));
  const s = state(FLEET, VIPS);
  const prefixes = (v: MatrixView) => v.tables.flatMap((t) => t.rows.map((r) => r.vip.id));

  it('keeps the rows whose id holds the text, case and surrounding blanks aside', () => {
    const v = matrixView(s, options({ vipText: '  VOL2% ' }));
    expect(prefixes(v)).toEqual(['vol2%198.18.7.1/32']);
    expect(v.shownVips).toBe(1);
    expect(matrixView(s, options({ vipText: '200.2' })).shownVips).toBe(1);
    expect(matrixView(s, options({ vipText: 'nothing' })).tables).toEqual([]);
  });

  it('counts every VIP below its minimum whatever the filters', () => {
    const v = matrixView(s, options({ vipText: 'vol2' }));
    expect(v.below).toBe(1);
    expect(v.shownVips).toBe(1);
  });

  it('keeps only the nodes the selector matches, as columns and when looking for problems', () => {
    const v = matrixView(
      s,
      options({ groupBy: 'site', nodeSelector: [['role', 'edge']], expanded: new Set(['(no site)']) }),
    );
    expect(v.shownNodes).toBe(4);
    expect(
      v.columns.map((c) => (c.kind === 'node' ? c.node.name : c.indices.map((i) => FLEET[i]!.name))),
    ).toEqual(['e', ['c', 'd'], ['a']]);
    const selected = (sel: [string, string][]) =>
      prefixes(matrixView(s, options({ nodeSelector: sel, state: 'problems' })));
    // e holds the drift of .2: without e, .2 is no problem; .3 is below its minimum whatever the nodes.
    expect(selected([])).toEqual(['vol1%198.18.200.3/32', 'vol1%198.18.200.2/32']);
    expect(selected([['site', 'par1']])).toEqual(['vol1%198.18.200.3/32']);
    expect(matrixView(s, options({ nodeSelector: [['site', 'nowhere']] }))).toMatchObject({
      columns: [],
      shownNodes: 0,
      shownVips: 4,
    });
  });

  it('state problems keeps the rows below their minimum or with a lost, unknown, drift or not-sent cell', () => {
    const s2 = state(
      [node('a'), node('b')],
      ['AA', 'AL', 'AU', 'AX', 'AS', 'AN', 'AB', 'Ad', 'AW', 'Ah', 'A.'].map((c) => vip(`t%${c}`, c)),
    );
    const v = matrixView(s2, options({ state: 'problems' }));
    expect(v.tables[0]!.rows.map((r) => r.vip.cells).sort()).toEqual(['AL', 'AS', 'AU', 'AX']);
    expect(v.tables[0]!.rows.every((r) => r.problem && !r.below)).toBe(true);
  });

  it('a letter keeps the rows where a shown node has that letter', () => {
    expect(prefixes(matrixView(s, options({ state: 'W' })))).toEqual([
      'vol1%198.18.200.3/32',
      'vol1%198.18.200.2/32',
    ]);
    expect(prefixes(matrixView(s, options({ state: 'd' })))).toEqual(['vol2%198.18.7.1/32']);
    expect(prefixes(matrixView(s, options({ state: 'X' })))).toEqual(['vol1%198.18.200.2/32']);
    expect(prefixes(matrixView(s, options({ state: 'X', nodeSelector: [['site', 'par1']] })))).toEqual([]);
  });
});

describe('matrixView order', () => {
  it('puts, in each table, the rows below their minimum first, then the problems, then the rest, each by id', () => {
    const s = state(
      [node('a'), node('b')],
      [
        vip('t%1', 'AA'),
        vip('t%2', 'AX'),
        vip('t%3', 'A.', { minimum: 2 }),
        vip('t%4', 'WW', { minimum: 0 }),
        vip('t%5', 'LA', { minimum: 2 }),
        vip('t%6', 'SA'),
      ],
    );
    const v = matrixView(s, options());
    expect(v.tables[0]!.rows.map((r) => [r.vip.prefix, r.below, r.problem])).toEqual([
      ['3', true, true],
      ['5', true, true],
      ['2', false, true],
      ['6', false, true],
      ['1', false, false],
      ['4', false, false],
    ]);
    expect(v.below).toBe(2);
  });

  it('puts the tables with a VIP below its minimum first, then those with a problem, then the rest by name', () => {
    const s = state(
      [node('a')],
      [
        vip('alpha%1', 'A'),
        vip('beta%1', 'X', { minimum: 0 }),
        vip('gamma%1', 'W', { minimum: 1 }),
        vip('delta%1', 'A'),
      ],
    );
    expect(ids(matrixView(s, options()))).toEqual([
      ['gamma', ['1']],
      ['beta', ['1']],
      ['alpha', ['1']],
      ['delta', ['1']],
    ]);
  });
});
