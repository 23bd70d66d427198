// `@rhi/contracts/fleet`: what the dashboard needs, and nothing that imports a Node module or zod, so a
// browser bundle takes this file alone.
export * from './fleet-matrix.js';
export type * from './fleet-api.js';
// Types only: the what-if and guard shapes the rollouts view reads.
export type * from './what-if-api.js';
// Types only (erased at build): the status shapes the detail panel reads.
export type { ExplanationNode, HealthReport, RouteStatus } from './index.js';
// Label selectors, parsed as the API parses them (pure, no imports).
export * from './label-selector.js';
// Types only (erased at build): the rollout and rule-set shapes the rollouts view reads.
export type {
  Batch,
  Canary,
  RollbackTarget,
  RolloutFailureCause,
  RolloutRecord,
  RolloutStatus,
  RolloutStep,
  RolloutStopCause,
  RolloutStrategy,
  RuleSetSummary,
  RuleSetTarget,
} from './index.js';
// Types only (erased at build): the event shapes of the timeline (`GET /api/v1/events`) the timeline view reads.
export type { AgentEvent, AlertEvent, NodeAnswer, OperatorAction, RolloutTimelineEvent } from './index.js';
// Types only: the answer of a drain or undrain the detail panel sends.
export type * from './drain-api.js';
