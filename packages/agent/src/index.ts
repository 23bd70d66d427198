export type { Allowlist } from './core/allowlist.js';
export { allowlist } from './core/allowlist.js';
export type {
  DampingConfig,
  DampingPhase,
  DampState,
  DampStep,
  HoldDown,
  Threshold,
} from './core/damping.js';
export { DEFAULT_DAMPING, initialDampState, step } from './core/damping.js';
export type { DesiredRoute, Plan, PlanInput, PlannedRoute, RouteMemory, Transition } from './core/planner.js';
export { plan, routeKey } from './core/planner.js';
export type { ConfigIssue } from './config/load.js';
export { ConfigInvalidError, parseConfig } from './config/load.js';
export type { AgentConfig } from './config/schema.js';
export { AgentConfigSchema } from './config/schema.js';
export type { AgentLoopOptions, RuleSetMeta } from './loop/agent-loop.js';
export { AgentLoop } from './loop/agent-loop.js';
export type {
  AgentSnapshot,
  AgentTransition,
  ApplyResult,
  Clock,
  DrainStatus,
  HealthEvent,
  HeldRoutes,
  RefusedRoute,
  RouteInjector,
  StatusSink,
} from './loop/ports.js';
export { InjectorFailure } from './loop/ports.js';
export type { NodeIdentity } from './nats/messages.js';
export { toAgentEvent, toNodeStatus } from './nats/messages.js';
export { NodeStatusStamper } from './nats/status-stamper.js';
export type { NatsLinkOptions } from './nats/nats-link.js';
export { HEALTH_REPORT_INTERVAL_MS, NatsLink, parsedCommands } from './nats/nats-link.js';
export type { CompactHealth } from './core/health-report.js';
export { compactHealth, healthReport } from './core/health-report.js';
export type {
  AcceptContext,
  Acceptance,
  Candidate,
  CurrentRuleSet,
  Examination,
  ExamineOptions,
  Refusal,
  RejectionCode,
  RuleSetLimits,
  TableView,
} from './core/accept-rule-set.js';
export {
  DEFAULT_RULE_SET_LIMITS,
  acceptRulesFile,
  acceptSignedRuleSet,
  examineRulesFile,
  examineSignedRuleSet,
  judgeCandidate,
  parseLimits,
} from './core/accept-rule-set.js';
export type { ExaminerOptions, RuleSetExaminer, WorkerExaminerOptions } from './app/rule-set-examiner.js';
export { InlineExaminer, WorkerExaminer } from './app/rule-set-examiner.js';
export type { PersistedDrain, PersistedRuleSet } from './core/state-files.js';
export { PersistedDrainSchema, PersistedRuleSetSchema } from './core/state-files.js';
export type { StateProblem } from './state/state-store.js';
export { StateStore } from './state/state-store.js';
export { AgentMetrics } from './admin/metrics.js';
export type { AdminEndpoint, AdminSources } from './admin/server.js';
export type { SocketAccess } from './admin/control-socket.js';
export {
  AdminSocketInUseError,
  AdminSocketSetupError,
  listenControlSocket,
  resolveGroup,
} from './admin/control-socket.js';
export { createAdminServer, listen, parseListen } from './admin/server.js';
export type { AgentAppOptions, DrainRequest } from './app/agent-app.js';
export { AgentApp } from './app/agent-app.js';
export { birdPort, layoutFor, tableView } from './app/bird-port.js';
export type { CheckItem } from './cli/check.js';
export { renderChecks, runChecks } from './cli/check.js';
export { main } from './cli/main.js';
export { AGENT_VERSION } from './cli/version.js';
export type { ConfigOverride } from './config/load.js';
export { overrideFromFlag, overridesFromEnv } from './config/load.js';
