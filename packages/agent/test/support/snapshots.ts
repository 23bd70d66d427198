import type { PlannedRoute } from '../../src/core/planner.js';
import type { AgentSnapshot } from '../../src/loop/ports.js';

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
