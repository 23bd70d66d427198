import type { RolloutRecord } from '@rhi/contracts';
import type { VipNodeState } from '../fleet/vip-view.js';
import { MOVING } from './rollout-machine.js';
import type { RolloutEvent } from './rollout-types.js';

/** The node alerts that stop a rollout when one opens on a node that got its rule set. */
const NODE_ALERTS: ReadonlySet<string> = new Set(['nodeDrift', 'nodeLost', 'nodeFlapping']);

/** A node's part in a VIP as the gate reads it. */
export interface GateVipNode {
  readonly node: string;
  readonly state: VipNodeState;
  /** When the node's desired state last changed (ISO, the agent's clock). */
  readonly since: string;
}

/** What the health gate judges, read by the runner from the fleet view at one moment. */
export interface HealthGateInput {
  readonly record: RolloutRecord;
  readonly now: number;
  /** Each VIP's advertisers when the runner began to drive the rollout (VIPs born since are not judged). */
  readonly baseline: ReadonlyMap<string, number>;
  /** Each VIP's advertisers now. */
  readonly vips: Iterable<{ readonly id: string; readonly advertisers: number }>;
  /** One VIP's nodes (read only for a VIP that has fewer advertisers than at the baseline). */
  readonly vipNodes: (id: string) => readonly GateVipNode[];
  /** Whether the what-if showed `node` withdrawing `vip` with the new rules (the guard let that through). */
  readonly foreseen: (node: string, vip: string) => boolean;
  /** The alerts open now, with when they opened (the controller's clock). */
  readonly alerts: Iterable<{
    readonly kind: string;
    readonly subject: string;
    readonly message: string;
    readonly since: number;
  }>;
  /**
   * How far an agent's clock may lag the controller's: a withdrawal stamped up to this long before its
   * node's assignment still counts as after it. Default 10 s.
   */
  readonly clockSlackMs?: number;
}

/** When each node that got the rule set rolled out got it. */
function assignedAt(r: RolloutRecord): Map<string, number> {
  const out = new Map<string, number>();
  for (const step of r.steps) {
    if (step.assignedAt === null) break;
    for (const n of step.nodes) out.set(n, step.assignedAt);
  }
  return out;
}

/**
 * The health gate of a rollout: the machine inputs the fleet's state gives now. A VIP lost (fewer
 * advertisers than at the baseline, and among the nodes not advertising it one that got the new rule set,
 * stopped after getting it, and that the what-if did not show withdrawing it), an alert opened on a node
 * since it got the new rule set, or, when neither and the step's soak is over, `healthy`. Nothing for a rollout that does not go
 * forward. Pure; O(VIPs + nodes rolled out), and O(a VIP's nodes) only for a VIP that lost advertisers.
 */
export function healthEvents(input: HealthGateInput): RolloutEvent[] {
  const r = input.record;
  if (!MOVING.has(r.status)) return [];
  const { now } = input;
  const slack = input.clockSlackMs ?? 10_000;
  const assigned = assignedAt(r);
  const events: RolloutEvent[] = [];
  for (const vip of input.vips) {
    const before = input.baseline.get(vip.id);
    if (before === undefined || vip.advertisers >= before) continue;
    const withdrawnBy: string[] = [];
    for (const n of input.vipNodes(vip.id)) {
      const at = assigned.get(n.node);
      if (at === undefined || n.state === 'advertising' || n.state === 'stale' || n.state === 'unknown')
        continue;
      if (Date.parse(n.since) < at - slack || input.foreseen(n.node, vip.id)) continue;
      withdrawnBy.push(n.node);
    }
    if (withdrawnBy.length > 0)
      events.push({ type: 'vipLost', now, vip: vip.id, before, after: vip.advertisers, withdrawnBy });
  }
  for (const a of input.alerts) {
    const at = assigned.get(a.subject);
    if (NODE_ALERTS.has(a.kind) && at !== undefined && a.since >= at)
      events.push({ type: 'alert', now, node: a.subject, openedAt: a.since, message: a.message });
  }
  if (events.length === 0 && r.status === 'soaking') {
    const soakUntil = r.steps[r.step]?.soakUntil;
    if (soakUntil !== null && soakUntil !== undefined && now >= soakUntil)
      events.push({ type: 'healthy', now });
  }
  return events;
}
