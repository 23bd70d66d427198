import type { HealthReport, NodeStatus, RuleSetTarget } from '@rhi/contracts';
import type { WhatIfNode } from '../rollout/what-if.js';
import { matchesSelector, parseSelector } from '@rhi/contracts';
import type { NodeSummary } from '../view/summaries.js';

/** The fleet as a what-if takes it: each node with its status, health report, target and liveness. Pure. */
export function whatIfNodes(
  nodes: readonly { readonly summary: NodeSummary; readonly status: NodeStatus }[],
  health: (node: string) => HealthReport | undefined,
  target: RuleSetTarget,
): WhatIfNode[] {
  const selector = target.kind === 'selector' ? parseSelector(target.selector) : null;
  return nodes.map(({ summary, status }) => ({
    name: summary.name,
    status,
    health: health(summary.name),
    targeted: selector === null || matchesSelector(selector, summary.labels),
    lost: summary.state === 'lost',
    allowlist: status.allowlist,
    // Agents report the proxies their rules in force name, not every proxy of their HAProxy.
    reportCovers: 'named' as const,
  }));
}

/**
 * The lowest serial a new rule set may take: above every serial a node reports running, so that agents
 * accept it even when the rule-set bucket was lost and its serials start again. Pure.
 */
export function serialFloor(nodes: readonly { readonly summary: NodeSummary }[]): number {
  let highest = 0;
  for (const { summary } of nodes) highest = Math.max(highest, summary.ruleSet?.serial ?? 0);
  return highest + 1;
}
