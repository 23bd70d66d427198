import type { NodeStatus } from '@rhi/contracts';
import { NodeStatusSchema } from '@rhi/contracts';
import type { PlannedRoute } from '../../src/core/planner.js';
import type { AgentSnapshot } from '../../src/loop/ports.js';
import { toNodeStatus } from '../../src/nats/messages.js';

/** A planned route for status fixtures: advertised and healthy unless overridden. */
export const plannedRoute = (over: Partial<PlannedRoute> = {}): PlannedRoute => ({
  table: 'vol1',
  prefix: '198.18.200.1/32',
  family: 'ipv4',
  decision: true,
  phase: 'stable',
  allowed: true,
  desired: true,
  reason: 'b:be_app up',
  explanation: { term: 'b:be_app', value: true, detail: 'up (UP)', children: [] },
  since: 0,
  ...over,
});

/** An agent snapshot for status fixtures: both daemons reachable, not drained. */
export const agentSnapshot = (over: Partial<AgentSnapshot> = {}): AgentSnapshot => ({
  time: 0,
  ruleSet: null,
  haproxy: { reachable: true, pid: 9 },
  bird: { reachable: true },
  drained: false,
  drain: null,
  routes: [plannedRoute()],
  inBird: [{ table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4' }],
  ...over,
});

/** The `NodeStatus` (checked against the contract) the agent hands out for a snapshot, at its time. */
export const statusOf = (s: AgentSnapshot, seq = 0): NodeStatus =>
  NodeStatusSchema.parse(toNodeStatus({ node: 'lb-1', labels: {}, agentVersion: '0.0.0' }, s, seq, s.time));
