import { describe, expect, it } from 'vitest';
import { SelectorSyntaxError } from '@rhi/contracts';
import type { PlanNode } from '../src/rollout/step-plan.js';
import { planSteps, RolloutNoNodesError, targetedNodes } from '../src/rollout/step-plan.js';

const node = (name: string, labels: Record<string, string> = { site: 'par1' }): PlanNode => ({
  name,
  labels,
});
/** lb-01 .. lb-10 in a shuffled order; the odd ones are edges. */
const fleet = [7, 3, 10, 1, 5, 2, 9, 4, 8, 6].map((i) =>
  node(`lb-${String(i).padStart(2, '0')}`, { site: i <= 5 ? 'par1' : 'ams1', role: i % 2 ? 'edge' : 'core' }),
);
const names = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => `lb-${String(from + k).padStart(2, '0')}`);
const all = { kind: 'all' } as const;

describe('targetedNodes', () => {
  it('selects by label, in code-unit order of names', () => {
    expect(targetedNodes(fleet, { kind: 'selector', selector: 'role=edge,site=par1' })).toEqual([
      'lb-01',
      'lb-03',
      'lb-05',
    ]);
    expect(targetedNodes([node('b'), node('B'), node('a'), node('a')], all)).toEqual(['B', 'a', 'b']);
  });
});

describe('planSteps', () => {
  it('takes a canary count, then batches of a size, in name order', () => {
    expect(planSteps(fleet, all, { canary: { count: 2 }, batch: { size: 3 } })).toEqual([
      { kind: 'canary', nodes: names(1, 2) },
      { kind: 'batch', nodes: names(3, 5) },
      { kind: 'batch', nodes: names(6, 8) },
      { kind: 'batch', nodes: names(9, 10) },
    ]);
  });

  it('rounds percentages of the targeted nodes up, to at least one node', () => {
    expect(planSteps(fleet, all, { canary: { percent: 5 }, batch: { percent: 34 } })).toEqual([
      { kind: 'canary', nodes: names(1, 1) },
      { kind: 'batch', nodes: names(2, 5) },
      { kind: 'batch', nodes: names(6, 9) },
      { kind: 'batch', nodes: names(10, 10) },
    ]);
    expect(
      planSteps(fleet, all, { canary: { percent: 30 }, batch: { percent: 100 } }).map((s) => s.nodes.length),
    ).toEqual([3, 7]);
  });

  it('takes the canary by selector among the targeted nodes', () => {
    const steps = planSteps(
      fleet,
      { kind: 'selector', selector: 'site=par1' },
      {
        canary: { selector: 'role=core' },
        batch: { size: 2 },
      },
    );
    expect(steps).toEqual([
      { kind: 'canary', nodes: ['lb-02', 'lb-04'] },
      { kind: 'batch', nodes: ['lb-01', 'lb-03'] },
      { kind: 'batch', nodes: ['lb-05'] },
    ]);
  });

  it('plans batches only without a canary, and one step when the canary takes everything', () => {
    expect(planSteps(fleet, all, { canary: null, batch: { size: 5 } }).map((s) => s.kind)).toEqual([
      'batch',
      'batch',
    ]);
    expect(planSteps(fleet, all, { canary: { count: 50 }, batch: { size: 5 } })).toEqual([
      { kind: 'canary', nodes: names(1, 10) },
    ]);
  });

  it('plans the same steps whatever order the nodes come in', () => {
    const strategy = { canary: { percent: 10 }, batch: { size: 4 } };
    expect(planSteps([...fleet].reverse(), all, strategy)).toEqual(planSteps(fleet, all, strategy));
  });

  it('refuses a target or a canary selector that matches nothing, and a bad selector', () => {
    expect(() =>
      planSteps(fleet, { kind: 'selector', selector: 'site=nyc1' }, { canary: null, batch: { size: 1 } }),
    ).toThrow(expect.objectContaining({ code: 'ROLLOUT_NO_NODES', what: 'target', selector: 'site=nyc1' }));
    expect(() => planSteps(fleet, all, { canary: { selector: 'role=spine' }, batch: { size: 1 } })).toThrow(
      RolloutNoNodesError,
    );
    expect(() => planSteps([], all, { canary: null, batch: { size: 1 } })).toThrow(
      expect.objectContaining({ what: 'target', selector: null }),
    );
    expect(() =>
      planSteps(fleet, { kind: 'selector', selector: 'site' }, { canary: null, batch: { size: 1 } }),
    ).toThrow(SelectorSyntaxError);
  });
});
