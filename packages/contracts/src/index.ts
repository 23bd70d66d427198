export type { ExplanationNode } from './explanation.js';
export { boundExplanation, EXPLANATION_LIMITS, ExplanationSchema } from './explanation.js';
export type {
  Ack,
  AgentEvent,
  AlertEvent,
  Command,
  HealthReport,
  Heartbeat,
  NodeStatus,
  RouteStatus,
  SignedRuleSet,
} from './schemas.js';
export {
  AckSchema,
  AgentEventSchema,
  ALERT_KINDS,
  alertEventMsgId,
  AlertEventSchema,
  CommandSchema,
  EVENT_NAMES,
  HEALTH_REPORT_MAX_BYTES,
  HealthReportSchema,
  HeartbeatSchema,
  NodeStatusSchema,
  RouteStatusSchema,
  SignedRuleSetSchema,
  STATUS_REFRESH_MS,
} from './schemas.js';
export type { RuleSetRejection, VerifyResult } from './signing.js';
export { publicKeyFrom, signingInput, signRuleSet, verifySignedRuleSet } from './signing.js';
export {
  ContractInvalidTokenError,
  jetstream,
  kvDirectGetSubject,
  kvSubject,
  subjects,
  TOKEN,
  WIRE_VERSION,
} from './subjects.js';
export { parseRouteId, routeId } from './route-id.js';
export type { DrainApiAnswer } from './drain-api.js';
export type {
  DiagnosticView,
  GuardBlocker,
  GuardForce,
  GuardVerdict,
  WhatIfAnswer,
  WhatIfNodeResult,
  WhatIfResult,
  WhatIfUnknownReason,
  WhatIfVip,
} from './what-if-api.js';
export type {
  Batch,
  Canary,
  RollbackTarget,
  RolloutAction,
  RolloutEffect,
  RolloutTimelineEvent,
  RolloutFailureCause,
  RolloutRecord,
  RolloutStatus,
  RolloutStep,
  RolloutStopCause,
  RolloutStrategy,
  RuleSetAck,
  RuleSetAssignment,
  RuleSetRef,
  RuleSetTarget,
} from './rollout.js';
export {
  BatchSchema,
  CanarySchema,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_PROGRESS_DEADLINE_MS,
  DEFAULT_SOAK_MS,
  LABEL_SELECTOR,
  RollbackTargetSchema,
  ROLLOUT_ACTIONS,
  ROLLOUT_ALERTS,
  ROLLOUT_EVENT_MAX_NODES,
  ROLLOUT_FAILURE_CAUSES,
  ROLLOUT_STATUSES,
  ROLLOUT_STOP_CAUSES,
  rolloutEffectId,
  rolloutKeys,
  RolloutEffectSchema,
  RolloutTimelineEventSchema,
  RolloutRecordSchema,
  RolloutStepSchema,
  RolloutStrategySchema,
  RuleSetAckSchema,
  RuleSetAssignmentSchema,
  RuleSetRefSchema,
  RuleSetTargetSchema,
} from './rollout.js';
export type { RuleSetRecord, RuleSetSummary } from './ruleset-record.js';
export {
  decodeRuleSetRecord,
  encodeRuleSetRecord,
  readGzipJson,
  RULESET_RECORD_MAX_BYTES,
  RuleSetRecordSchema,
  RuleSetRecordUnreadableError,
  ruleSetKeys,
  RuleSetSummarySchema,
  summaryOf,
} from './ruleset-record.js';
export type { NodeAnswer, OperatorAction } from './operator-action.js';
export { NodeAnswerSchema, OperatorActionSchema } from './operator-action.js';
export type { NatsPermissions } from './permissions.js';
export { agentInboxPrefix, agentPermissions, controllerPermissions } from './permissions.js';
export type { FleetMatrix, MatrixCell, MatrixCellState, MatrixNode, MatrixVip } from './fleet-matrix.js';
export { MATRIX_CELLS } from './fleet-matrix.js';
export type {
  ApiAlert,
  ApiCaller,
  NodeDetail,
  NodeRuleSetState,
  NodeSummary,
  RuleSetSync,
  VipNodeState,
  VipSummary,
} from './fleet-api.js';
export type { LabelSelector, SelectorProblem } from './label-selector.js';
export { formatSelector, matchesSelector, parseSelector, SelectorSyntaxError } from './label-selector.js';
