import type { RolloutStrategy, RuleSetTarget } from '@rhi/contracts';
import { matchesSelector, parseSelector } from '@rhi/contracts';

/** A node as step planning sees it. */
export interface PlanNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** One planned step: its kind and its nodes, in name order. */
export interface PlannedStep {
  readonly kind: 'canary' | 'batch';
  readonly nodes: readonly string[];
}

/** The target, or the canary's selector, matches no node. */
export class RolloutNoNodesError extends Error {
  readonly code = 'ROLLOUT_NO_NODES';
  constructor(
    readonly what: 'target' | 'canary',
    readonly selector: string | null,
  ) {
    super(
      what === 'target'
        ? `the target ${selector === null ? '(every node)' : `'${selector}'`} matches no node`
        : `the canary selector '${selector}' matches none of the targeted nodes`,
    );
    this.name = 'RolloutNoNodesError';
  }
}

/** Code-unit order: the same on every replica, whatever its locale. */
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The share `percent` of `total`, rounded up, at least 1 (`total` > 0). */
function share(total: number, percent: number): number {
  return Math.min(total, Math.max(1, Math.ceil((total * percent) / 100 - 1e-9)));
}

/** The names of the nodes a target selects, in name order (each name once). Pure. */
export function targetedNodes(nodes: Iterable<PlanNode>, target: RuleSetTarget): string[] {
  const selector = target.kind === 'selector' ? parseSelector(target.selector) : null;
  const names = new Set<string>();
  for (const n of nodes) if (!selector || matchesSelector(selector, n.labels)) names.add(n.name);
  return [...names].sort(byName);
}

/**
 * The steps of a rollout: the canary (a count or a percentage of the targeted nodes, taken in name order,
 * or the targeted nodes a selector matches), then batches of the others in name order (a size, or a
 * percentage of all targeted nodes, rounded up). Every replica given the same nodes plans the same steps.
 * Throws {@link RolloutNoNodesError} when the target or the canary selector matches nothing, and
 * `SelectorSyntaxError` for a bad selector. Pure.
 */
export function planSteps(
  nodes: Iterable<PlanNode>,
  target: RuleSetTarget,
  strategy: Pick<RolloutStrategy, 'canary' | 'batch'>,
): PlannedStep[] {
  const list = [...nodes];
  const names = targetedNodes(list, target);
  if (names.length === 0)
    throw new RolloutNoNodesError('target', target.kind === 'selector' ? target.selector : null);
  const steps: PlannedStep[] = [];
  let rest = names;
  const { canary, batch } = strategy;
  if (canary) {
    let chosen: string[];
    if ('selector' in canary) {
      const picked = new Set(targetedNodes(list, { kind: 'selector', selector: canary.selector }));
      chosen = names.filter((n) => picked.has(n));
      if (chosen.length === 0) throw new RolloutNoNodesError('canary', canary.selector);
    } else {
      const count =
        'count' in canary ? Math.min(canary.count, names.length) : share(names.length, canary.percent);
      chosen = names.slice(0, count);
    }
    const inCanary = new Set(chosen);
    steps.push({ kind: 'canary', nodes: chosen });
    rest = names.filter((n) => !inCanary.has(n));
  }
  const size = 'size' in batch ? batch.size : share(names.length, batch.percent);
  for (let i = 0; i < rest.length; i += size) steps.push({ kind: 'batch', nodes: rest.slice(i, i + size) });
  return steps;
}
