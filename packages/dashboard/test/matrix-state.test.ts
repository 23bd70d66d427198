import { describe, expect, it } from 'vitest';
import { fromWhole, mergeColumns } from '../src/model/matrix-state.js';
import { matrix, names, node, rows, state, vip } from './fixtures.js';

const V1 = 'vol1%198.18.200.1/32';
const V2 = 'vol1%198.18.200.2/32';
const LATER = '2025-01-01T00:01:00.000Z';

// Three nodes a, b, c and two VIPs.
const before = () =>
  state([node('a'), node('b'), node('c')], [vip(V1, 'AWN', { minimum: 2 }), vip(V2, '..A')]);

describe('fromWhole', () => {
  it('keeps the rows, the columns, the time and the stale flag of a whole read', () => {
    const m = matrix([node('a')], [vip(V1, 'A')], { changeId: 7, stale: true });
    expect(fromWhole(m)).toEqual({ vips: m.vips, nodes: m.nodes, generatedAt: m.generatedAt, stale: true });
  });
});

describe('mergeColumns', () => {
  it('replaces the column asked for and leaves every other cell and node as it was', () => {
    const s = before();
    const b2 = node('b', {}, { drained: true });
    const part = matrix(
      [b2],
      [vip(V1, 'N', { advertisers: 0, minimum: 3 }), vip(V2, 'A', { advertisers: 2 })],
      {
        generatedAt: LATER,
        stale: true,
      },
    );
    const next = mergeColumns(s, ['b'], part)!;
    expect(rows(next.vips)).toEqual([
      [V1, 'ANN'],
      [V2, '.AA'],
    ]);
    expect(next.nodes[0]).toBe(s.nodes[0]);
    expect(next.nodes[1]).toBe(b2);
    expect(next.nodes[2]).toBe(s.nodes[2]);
    // The counts are the fleet's, as the controller gives them with any part.
    expect(next.vips.map((v) => [v.advertisers, v.minimum])).toEqual([
      [0, 3],
      [2, 1],
    ]);
    expect(next).toMatchObject({ generatedAt: LATER, stale: true });
  });

  it('puts each column of the answer where its node is, whatever order they were asked and answered in', () => {
    const part = matrix([node('c'), node('a')], [vip(V1, 'XU'), vip(V2, 'SL')]);
    const next = mergeColumns(before(), ['c', 'a'], part)!;
    expect(names(next.nodes)).toEqual(['a', 'b', 'c']);
    expect(rows(next.vips)).toEqual([
      [V1, 'UWX'],
      [V2, 'L.S'],
    ]);
  });

  it('drops a node asked for that the answer leaves out: it has left the fleet', () => {
    const part = matrix([node('c')], [vip(V1, 'W'), vip(V2, 'A')]);
    const next = mergeColumns(before(), ['a', 'c'], part)!;
    expect(names(next.nodes)).toEqual(['b', 'c']);
    expect(rows(next.vips)).toEqual([
      [V1, 'WW'],
      [V2, '.A'],
    ]);
  });

  it('adds a node new to the page as a last column', () => {
    const part = matrix([node('d'), node('b')], [vip(V1, 'AX'), vip(V2, '.A')]);
    const next = mergeColumns(before(), ['d', 'b'], part)!;
    expect(names(next.nodes)).toEqual(['a', 'b', 'c', 'd']);
    expect(rows(next.vips)).toEqual([
      [V1, 'AXNA'],
      [V2, '.AA.'],
    ]);
  });

  it('gives up (null) when the answer holds a VIP the page does not know', () => {
    const V3 = 'vol1%198.18.200.3/32';
    const part = matrix([node('b')], [vip(V1, 'W'), vip(V2, '.'), vip(V3, 'A')]);
    expect(mergeColumns(before(), ['b'], part)).toBeNull();
  });

  it('drops a VIP the answer no longer has: no node has a rule for it', () => {
    const part = matrix([node('c')], [vip(V1, 'N')]);
    const next = mergeColumns(before(), ['c'], part)!;
    expect(rows(next.vips)).toEqual([[V1, 'AWN']]);
  });

  it('leaves the state it was given alone', () => {
    const s = before();
    const copy = structuredClone(s);
    mergeColumns(s, ['a'], matrix([], [vip(V1, ''), vip(V2, '')]));
    expect(s).toEqual(copy);
  });

  it('a part that drops every column leaves rows with no cells', () => {
    const next = mergeColumns(before(), ['a', 'b', 'c'], matrix([], [vip(V1, ''), vip(V2, '')]))!;
    expect(next.nodes).toEqual([]);
    expect(rows(next.vips)).toEqual([
      [V1, ''],
      [V2, ''],
    ]);
  });
});
