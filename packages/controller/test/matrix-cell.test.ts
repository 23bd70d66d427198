import { MATRIX_CELLS } from '@rhi/contracts';
import { describe, expect, it } from 'vitest';
import { matrixCell } from '../src/view/matrix-cell.js';
import { route, withdrawn } from './support/statuses.js';

const VIP = '198.18.200.1/32';

describe('a matrix cell', () => {
  it('names each state of a node for a VIP, the most urgent first', () => {
    const cases: [string, ReturnType<typeof matrixCell>][] = [
      [matrixCell(undefined, false, false), '.'],
      [matrixCell(route(VIP), true, false), 'L'],
      [matrixCell(route(VIP, { inBird: null }), false, false), 'U'],
      [matrixCell(route(VIP, { inBird: false }), false, false), 'X'],
      [matrixCell(withdrawn(VIP, { inBird: true }), false, false), 'X'],
      [matrixCell(route(VIP, { exported: { to: [], problems: ['no session'] } }), false, false), 'S'],
      [matrixCell(route(VIP, { exported: { to: ['bgp1'], problems: [] } }), false, false), 'A'],
      [matrixCell(route(VIP, { decision: 'withdraw', damping: 'falling' }), false, false), 'h'],
      [matrixCell(route(VIP), false, false), 'A'],
      [matrixCell(withdrawn(VIP, { decision: 'advertise', reason: 'drained' }), false, true), 'N'],
      [matrixCell(withdrawn(VIP, { decision: 'advertise', allowed: false }), false, false), 'B'],
      [matrixCell(withdrawn(VIP, { decision: 'advertise', damping: 'rising' }), false, false), 'd'],
      [matrixCell(withdrawn(VIP), false, false), 'W'],
      // A lost node is lost whatever it last said; a drained node's drift is still drift.
      [matrixCell(withdrawn(VIP), true, true), 'L'],
      [matrixCell(route(VIP, { inBird: false }), false, true), 'X'],
    ];
    for (const [got, want] of cases) expect(got).toBe(want);
  });

  it('counts as an advertiser exactly where the VIP view does', () => {
    const counted = Object.entries(MATRIX_CELLS)
      .filter(([, c]) => c.counts)
      .map(([k]) => k);
    expect(counted.sort()).toEqual(['A', 'h']);
    for (const c of Object.values(MATRIX_CELLS)) expect(c.label.length).toBeGreaterThan(0);
  });
});
